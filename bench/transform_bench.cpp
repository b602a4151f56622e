// kafnus-transform-bench: the processor's CPU per notification, in one
// thread, without Kafka or PostgreSQL: the bench workload's notifications
// parsed (parse_json_object) and turned into rows (transform) in a loop.
//
// The end-to-end bench shares two cores between the daemon, PostgreSQL and
// Kafka, and its CPU figures move by ±20 % from run to run; this one moves by
// a few per cent, so a change to ngsi/ can be judged by it first.
//
// It also times the writer's planning and COPY data for those rows, in
// transactions of 4,000 rows against the bench tables' column types: COPY
// text against binary, for the direct path (historic) and the staged one
// (lastdata), so a change to postgis/write_plan.cpp, binary_copy.cpp or
// statements.cpp can be judged the same way.
//
//   kafnus-transform-bench [--notifications N] [--rounds R]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "bench/workload.hpp"
#include "ngsi/json_tree.hpp"
#include "ngsi/transform.hpp"
#include "postgis/binary_copy.hpp"
#include "postgis/statements.hpp"
#include "postgis/write_plan.hpp"

#ifdef KAFNUS_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace {

using clock_type = std::chrono::steady_clock;

struct input {
  std::string body;
  kafnus::ngsi::header_list headers;
};

// The best of `rounds` passes over `inputs`, in µs per notification: the
// best pass is the one least disturbed by the rest of the machine.
template <class F>
double best_us(const std::vector<input>& inputs, int rounds, F&& f) {
  double best = 1e300;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = clock_type::now();
    for (const auto& in : inputs) f(in);
    const double us = std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
    best = std::min(best, us / static_cast<double>(inputs.size()));
  }
  return best;
}

// Bytes the allocator has handed out and not taken back, or -1 when the
// allocator cannot tell (built without jemalloc).
long long allocated_bytes() {
#ifdef KAFNUS_WITH_JEMALLOC
  std::uint64_t epoch = 1;
  std::size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);  // refreshes the statistics
  std::size_t allocated = 0;
  len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0) return static_cast<long long>(allocated);
#endif
  return -1;
}

// The bench tables' columns (workload::ddl) as the catalog names their types.
kafnus::postgis::table_schema bench_table_schema() {
  kafnus::postgis::table_schema s;
  s.exists = true;
  const std::pair<const char*, const char*> columns[] = {{"timeinstant", "timestamp with time zone"},
                                                         {"recvtime", "timestamp with time zone"},
                                                         {"entityid", "text"},
                                                         {"entitytype", "text"},
                                                         {"fiwareservicepath", "text"},
                                                         {"temperature", "double precision"},
                                                         {"humidity", "double precision"},
                                                         {"level", "bigint"},
                                                         {"status", "text"},
                                                         {"name", "text"},
                                                         {"active", "boolean"},
                                                         {"config", "jsonb"},
                                                         {"location", "geometry(Point,4326)"},
                                                         {"area", "geometry(Polygon,4326)"},
                                                         {"sentat", "bigint"},
                                                         {"committed_at", "timestamp with time zone"}};
  for (const auto& [name, type] : columns) s.columns.push_back({name, type, std::string(type) == "jsonb"});
  return s;
}

struct writer_us {
  double plan = 0;         // build_plan, per row
  double plan_small = 0;   // in transactions of a low rate's size, planning every shape again
  double plan_cached = 0;  // the same, the shapes cached across transactions (as the writer does)
  double copy_text = 0;    // the COPY data as text, per row
  double copy_binary = 0;  // as binary, per row
};

// µs per row to plan `rows` in transactions of 4,000 rows (a catch-up's)
// and of 27 (what 5,000 notifications/s gave), and to make their COPY data,
// as text and as binary.
writer_us writer_work_us(const std::vector<kafnus::ngsi::row>& rows, int rounds, std::size_t& sink) {
  namespace pg = kafnus::postgis;
  auto schema = bench_table_schema();
  schema.id = 1;  // as if read through the schema cache: shapes may be cached
  const auto split = [&](std::size_t size) {
    std::vector<std::vector<pg::tagged_row>> transactions;
    for (std::size_t from = 0; from < rows.size(); from += size) {
      auto& tagged = transactions.emplace_back();
      for (std::size_t i = from; i < std::min(rows.size(), from + size); ++i) tagged.push_back({&rows[i], i});
    }
    return transactions;
  };
  const auto transactions = split(4000);
  const auto small = split(27);
  const auto plan_all = [&](const std::vector<std::vector<pg::tagged_row>>& txs, pg::shape_cache* cache) {
    std::vector<pg::write_plan> plans;
    plans.reserve(txs.size());
    for (const auto& tagged : txs) {
      plans.push_back(pg::build_plan(
          tagged, [&](const kafnus::ngsi::table_ref&) -> const pg::table_schema& { return schema; },
          pg::unknown_column_policy::error, cache));
    }
    return plans;
  };
  const auto best_us_per_row = [&](const std::vector<std::vector<pg::tagged_row>>& txs, bool cached) {
    double best = 1e300;
    pg::shape_cache cache;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = clock_type::now();
      sink += plan_all(txs, cached ? &cache : nullptr).size();
      best = std::min(best, std::chrono::duration<double, std::micro>(clock_type::now() - t0).count() /
                                static_cast<double>(rows.size()));
    }
    return best;
  };
  writer_us us;
  us.plan = best_us_per_row(transactions, false);
  us.plan_small = best_us_per_row(small, false);
  us.plan_cached = best_us_per_row(small, true);
  const std::vector<pg::write_plan> plans = plan_all(transactions, nullptr);
  const auto time = [&](auto&& build) {
    double best = 1e300;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = clock_type::now();
      for (const auto& p : plans) {
        for (const auto& g : p.groups) build(g);
      }
      best = std::min(best, std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }
    return best / static_cast<double>(rows.size());
  };
  const double text = time([&](const pg::statement_group& g) {
    std::string out;
    int seq = 0;
    for (const auto& r : g.rows) {
      if (g.op == kafnus::ngsi::operation::insert) {
        pg::append_direct_line(out, g, r);
      } else {
        pg::append_stage_line(out, g, r, seq++);
      }
    }
    sink += out.size();
  });
  const double binary = time([&](const pg::statement_group& g) {
    if (g.op == kafnus::ngsi::operation::insert) {
      const auto data = pg::binary_copy_data(g, *pg::binary_formats(g));
      sink += data ? data->size() : 0;
      return;
    }
    const auto formats = pg::binary_stage_formats(g.stage_kinds);
    pg::binary_rows data(g.rows.size());
    int seq = 0;
    for (const auto& r : g.rows) sink += data.add_staged(g, r, seq++, formats);
    sink += std::move(data).finish().size();
  });
  us.copy_text = text;
  us.copy_binary = binary;
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 20000;
  int rounds = 7;
  bool simple_only = false;  // --simple: only the simple notifications (to profile that path alone)
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--notifications" && i + 1 < argc) {
      n = std::stoul(argv[++i]);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::stoi(argv[++i]);
    } else if (a == "--simple") {
      simple_only = true;
    } else {
      std::cerr << "usage: kafnus-transform-bench [--notifications N] [--rounds R] [--simple]\n";
      return 2;
    }
  }
  if (n < 1 || rounds < 1) {
    std::cerr << "kafnus-transform-bench: --notifications and --rounds must be at least 1\n";
    return 2;
  }
  kafnus::bench::workload w(kafnus::bench::workload_options{});
  std::vector<input> inputs;
  inputs.reserve(n);
  std::size_t bytes = 0;
  for (std::uint64_t i = 0; i < (simple_only ? 0 : n); ++i) {
    auto note = w.make(i, 1);
    const auto& k = w.kinds()[note.kind];
    bytes += note.body.size();
    inputs.push_back({std::move(note.body), {{"Fiware-Service", k.service}, {"Fiware-ServicePath", k.servicepath}}});
  }

  // Issue 15's "simple notification": the sweep's shape at its default, 10
  // attributes (numbers and short texts) beside a TimeInstant and a geo:json
  // point.
  kafnus::bench::sweep_shape simple_shape(kafnus::bench::sweep_shape_options{});
  std::vector<input> simple;
  simple.reserve(n);
  std::size_t simple_bytes = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    auto note = simple_shape.make(i);
    simple_bytes += note.body.size();
    simple.push_back(
        {std::move(note.body),
         {{"Fiware-Service", simple_shape.service()}, {"Fiware-ServicePath", simple_shape.servicepath()}}});
  }

  std::size_t sink = 0;  // keeps the work from being optimised away
  const auto parse_us = [&](const std::vector<input>& of) {
    return best_us(of, rounds, [&](const input& in) {
      auto t = kafnus::ngsi::parse_json_object(in.body, 64);
      sink += t ? t.value()->at(0).count : 0;
    });
  };
  const auto transform_us = [&](const std::vector<input>& of, kafnus::ngsi::flow f) {
    kafnus::ngsi::transform_options o;
    o.f = f;
    kafnus::ngsi::transform_output out;
    return best_us(of, rounds, [&](const input& in) {
      kafnus::ngsi::transform(in.body, in.headers, o, 1700000000000000, out);
      sink += out.rows.size() + out.errors.size();
      out.rows.clear();
      out.errors.clear();
    });
  };
  if (simple_only) {
    std::cout << std::fixed << std::setprecision(2) << "simple notifications (" << simple_shape.attributes()
              << " attributes, a geo:json point, " << simple_bytes / n << " bytes): parse_json_object "
              << parse_us(simple) << " µs, transform historic " << transform_us(simple, kafnus::ngsi::flow::historic)
              << " µs per notification\n";
    return sink == 0 ? 1 : 0;
  }
  std::cout << "notifications: " << n << ", " << bytes / n << " bytes each on average, best of " << rounds
            << " rounds\n";
  std::cout << std::fixed << std::setprecision(2) << "parse_json_object: " << parse_us(inputs)
            << " µs per notification\n";
  for (const auto f : {kafnus::ngsi::flow::historic, kafnus::ngsi::flow::lastdata}) {
    std::cout << "transform " << kafnus::ngsi::to_string(f) << ": " << transform_us(inputs, f)
              << " µs per notification\n";
  }
  std::cout << "simple notifications (" << simple_shape.attributes() << " attributes, a geo:json point, "
            << simple_bytes / n << " bytes): parse_json_object " << parse_us(simple) << " µs, transform historic "
            << transform_us(simple, kafnus::ngsi::flow::historic) << " µs per notification\n";
  // What the rows of every notification take while they wait for the
  // writer, against row::byte_size(), the estimate the batching limits use.
  {
    kafnus::ngsi::transform_options o;
    kafnus::ngsi::transform_output out;
    out.rows.reserve(inputs.size());
    const long long before = allocated_bytes();
    for (const auto& in : inputs) kafnus::ngsi::transform(in.body, in.headers, o, 1700000000000000, out);
    const long long after = allocated_bytes();
    std::size_t estimate = 0;
    for (const auto& r : out.rows) estimate += r.byte_size();
    const auto rows = static_cast<double>(out.rows.size());
    std::cout << std::setprecision(0) << "historic rows held: " << out.rows.size() << ", byte_size() "
              << static_cast<double>(estimate) / rows << " bytes per row";
    if (before >= 0) std::cout << ", allocated " << static_cast<double>(after - before) / rows << " bytes per row";
    std::cout << " (sizeof(row) " << sizeof(kafnus::ngsi::row) << ")\n";
    sink += out.rows.size();
  }
  for (const auto f : {kafnus::ngsi::flow::historic, kafnus::ngsi::flow::lastdata}) {
    kafnus::ngsi::transform_options o;
    o.f = f;
    kafnus::ngsi::transform_output out;
    for (const auto& in : inputs) kafnus::ngsi::transform(in.body, in.headers, o, 1700000000000000, out);
    const auto us = writer_work_us(out.rows, rounds, sink);
    std::cout << std::setprecision(3) << "writer, " << kafnus::ngsi::to_string(f) << ": plan " << us.plan
              << " µs per row (in transactions of 27 rows " << us.plan_small << ", shapes cached " << us.plan_cached
              << "); COPY data text " << us.copy_text << ", binary " << us.copy_binary << " µs per row\n";
  }
  return sink == 0 ? 1 : 0;
}
