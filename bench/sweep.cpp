#include "bench/sweep.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/probes.hpp"
#include "bench/workload.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kafnus::bench {
namespace {

namespace kt = kafnus::test;
using namespace std::chrono_literals;

const char* const kDimensions[] = {"attributes", "entities", "tables", "table-size", "partitions", "workers"};

struct options {
  std::string dimension = "all";
  std::uint64_t notifications = 200'000;  // per point; the attribute sweep's widest shapes fewer
  std::uint64_t prefill_rows = 20'000'000;
  std::string out = "bench/results";
};

// ------------------------------------------------------------------- points
// One point of a sweep: what it varies and the figures of its catch-up.
struct point {
  std::string dimension;
  std::uint64_t value = 0;  // the varied quantity
  std::string flow = "historic";
  int attributes = 10;
  std::uint64_t entities = 1000;
  int types = 1;  // entity types, one table each
  std::uint64_t prefill_rows = 0;
  int partitions = 8;
  int workers = 0;  // processing.workers; 0: the daemon's default (one per core)
  std::uint64_t notifications = 0;

  double prefill_seconds = 0;  // INSERT … SELECT, then the primary key and the GiST index
  double publish_seconds = 0;
  double startup_seconds = 0;  // ready to the first committed batch (group join)
  double catchup_seconds = 0;  // first committed batch to the last
  double per_s = 0;
  double daemon_cpu_us = 0;    // per notification, over the catch-up
  double postgres_cpu_us = 0;  // per notification, over the same time
  double rows_per_transaction = 0;
  long peak_rss_kib = 0;
  long long rows = 0;  // rows the daemon wrote or updated (TimeInstant at or after the start)
};

unsigned cores() { return std::max(1U, std::thread::hardware_concurrency()); }

// The points of a dimension. Every point has `n` notifications except the
// attribute sweep's widest shapes, scaled down so each point writes a
// similar number of values (and Kafka holds a few hundred MB at most).
std::vector<point> points_of(const std::string& dim, const options& o) {
  std::vector<point> out;
  auto add = [&](std::uint64_t value, auto&& set) {
    point p;
    p.dimension = dim;
    p.value = value;
    p.notifications = o.notifications;
    set(p);
    out.push_back(p);
  };
  if (dim == "attributes") {
    for (int k : {1, 10, 100, 1000}) {
      add(static_cast<std::uint64_t>(k), [&](point& p) {
        p.attributes = k;
        if (k > 10) p.notifications = std::max<std::uint64_t>(1, o.notifications * 20 / static_cast<unsigned>(k));
      });
    }
  } else if (dim == "entities") {
    for (std::uint64_t e : {1'000ULL, 10'000ULL, 100'000ULL, 1'000'000ULL}) {
      add(e, [&](point& p) {
        p.flow = "lastdata";
        p.entities = e;
        p.prefill_rows = e;  // the table already holds every entity: each notification is an upsert
      });
    }
  } else if (dim == "tables") {
    // Many entities, so that a transaction's rows spread over every table
    // rather than fold into a few upserts per entity.
    for (int t : {1, 10, 100, 1000}) {
      add(static_cast<std::uint64_t>(t), [&](point& p) {
        p.flow = "lastdata";
        p.entities = 100'000;
        p.types = t;
      });
    }
  } else if (dim == "table-size") {
    for (std::uint64_t r : {std::uint64_t{0}, o.prefill_rows / 10, o.prefill_rows}) {
      add(r, [&](point& p) { p.prefill_rows = r; });
    }
  } else if (dim == "partitions") {
    for (int n : {1, 4, 16, 64}) add(static_cast<std::uint64_t>(n), [&](point& p) { p.partitions = n; });
  } else if (dim == "workers") {
    std::vector<unsigned> ws;
    for (unsigned w = 1; w < cores(); w *= 2) ws.push_back(w);
    ws.push_back(cores());
    for (unsigned w : ws) add(w, [&](point& p) { p.workers = static_cast<int>(w); });
  } else {
    throw std::invalid_argument("unknown sweep dimension '" + dim +
                                "': attributes, entities, tables, table-size, partitions, workers or all");
  }
  return out;
}

std::string label_of(const std::string& dim) {
  if (dim == "attributes") return "attributes per entity";
  if (dim == "entities") return "lastdata entities";
  if (dim == "tables") return "lastdata tables";
  if (dim == "table-size") return "historic rows before";
  if (dim == "partitions") return "partitions";
  return "processing.workers";
}

void run_point(point& p, kt::pg_client& pg) {
  const std::string suffix = p.flow == "historic" ? "" : "_" + p.flow;
  const sweep_shape shape({42, p.attributes, p.entities, p.types});
  const auto tables = shape.tables(suffix);

  const auto t_prefill = clock_type::now();
  pg.exec(shape.create_tables(suffix));
  if (p.prefill_rows > 0) pg.exec(shape.prefill(suffix, p.prefill_rows));
  pg.exec(shape.add_indexes(suffix));
  if (p.prefill_rows > 0) p.prefill_seconds = seconds_since(t_prefill);

  const auto topic = kt::unique_name("bench_sweep");
  kt::create_topics(kt::brokers(), {topic}, p.partitions);
  std::vector<bool> touched(p.entities, false);
  std::uint64_t distinct = 0;
  {
    const auto t0 = clock_type::now();
    kt::kafka_producer producer(kt::brokers());
    for (std::uint64_t i = 0; i < p.notifications; ++i) {
      auto note = shape.make(i);
      producer.send(topic, note.body,
                    {{"Fiware-Service", sweep_shape::service()}, {"Fiware-ServicePath", sweep_shape::servicepath()}},
                    note.entity_id);
      const auto e = shape.entity_of(i);
      if (!touched[e]) {
        touched[e] = true;
        ++distinct;
      }
    }
    producer.flush();
    p.publish_seconds = seconds_since(t0);
  }
  // The catch-up starts from clean buffers, not from the prefill's.
  pg.exec("CHECKPOINT");

  kt::daemon_config c;
  (p.flow == "historic" ? c.historic_topics : c.lastdata_topics) = {topic};
  c.log_level = "warn";
  if (p.workers > 0) c.extra_yaml = "processing:\n  workers: " + std::to_string(p.workers) + "\n";
  kt::daemon_process d(c);
  d.start();
  if (!d.wait_ready(60s)) throw std::runtime_error("the daemon did not start:\n" + d.log());
  const auto f = measure_catch_up(d, pg, p.notifications);
  p.startup_seconds = f.startup_seconds;
  p.peak_rss_kib = f.peak_rss_kib;
  p.rows_per_transaction = f.rows_per_transaction;
  p.catchup_seconds = f.catchup_seconds;
  if (p.catchup_seconds < 0.5) {
    // Everything came in the first commits: the time is the poll period's.
    std::cout << "  (too few notifications to time this point: its throughput is meaningless; use more)\n";
    p.catchup_seconds = std::max(p.catchup_seconds, 0.05);
  }
  const auto n = static_cast<double>(p.notifications);
  p.daemon_cpu_us = f.daemon_cpu_seconds / n * 1e6;
  p.postgres_cpu_us = f.postgres_cpu_seconds / n * 1e6;
  p.per_s = n / p.catchup_seconds;
  d.signal(SIGTERM);
  d.wait_exit(60s);
  kt::delete_topics(kt::brokers(), {topic});

  // Every notification a row (historic), every entity notified updated
  // (lastdata); an incomplete run is an error, as in the rest of the bench.
  p.rows = 0;
  for (const auto& t : tables) p.rows += pg.count(t, "timeinstant >= '" + sweep_shape::start() + "'");
  const auto want = static_cast<long long>(p.flow == "historic" ? p.notifications : distinct);
  if (p.rows != want) {
    throw std::runtime_error(p.dimension + " " + std::to_string(p.value) + ": " + std::to_string(p.rows) +
                             " rows written, " + std::to_string(want) +
                             " expected: the run is incomplete, no figure reported");
  }
}

std::string table_of(const std::string& dim, const std::vector<point>& ps) {
  const bool per_attribute = dim == "attributes";
  const bool prefill = dim == "entities" || dim == "table-size";
  std::ostringstream t;
  t << "\n| " << label_of(dim) << " | notifications | ";
  if (prefill) t << "prefill s | ";
  t << "notifications/s | ";
  if (per_attribute) t << "attributes/s | daemon CPU µs per attribute | PostgreSQL CPU µs per attribute | ";
  t << "daemon CPU µs per notification | PostgreSQL CPU µs per notification | rows per transaction | peak RSS MiB | "
       "catch-up s |\n|---|---|";
  t << (prefill ? "---|" : "") << "---|" << (per_attribute ? "---|---|---|" : "") << "---|---|---|---|---|\n";
  for (const auto& p : ps) {
    const double k = p.attributes;
    t << "| " << p.value << " | " << p.notifications << " | ";
    if (prefill) t << fmt(p.prefill_seconds, 1) << " | ";
    t << fmt(p.per_s) << " | ";
    if (per_attribute) {
      t << fmt(p.per_s * k) << " | " << fmt(p.daemon_cpu_us / k, 2) << " | " << fmt(p.postgres_cpu_us / k, 2) << " | ";
    }
    t << fmt(p.daemon_cpu_us, 1) << " | " << fmt(p.postgres_cpu_us, 1) << " | " << fmt(p.rows_per_transaction) << " | "
      << fmt(static_cast<double>(p.peak_rss_kib) / 1024.0, 1) << " | " << fmt(p.catchup_seconds, 2) << " |\n";
  }
  return t.str();
}

void write_json(const std::string& path, const options& o, const std::vector<std::vector<point>>& dims) {
  std::ofstream json(path);
  json << "{\n  \"kind\": \"sweep\",\n  \"notifications_per_point\": " << o.notifications
       << ",\n  \"prefill_rows\": " << o.prefill_rows << ",\n  \"cores\": " << cores() << ",\n  \"dimensions\": [";
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const auto& ps = dims[d];
    json << (d ? "," : "") << "\n    {\"dimension\": \"" << ps.front().dimension << "\", \"label\": \""
         << label_of(ps.front().dimension) << "\", \"flow\": \"" << ps.front().flow << "\", \"points\": [";
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const auto& p = ps[i];
      json << (i ? "," : "") << "\n      {\"value\": " << p.value << ", \"notifications\": " << p.notifications
           << ", \"attributes\": " << p.attributes << ", \"entities\": " << p.entities
           << ", \"prefill_rows\": " << p.prefill_rows << ", \"partitions\": " << p.partitions
           << ", \"workers\": " << p.workers << ", \"prefill_seconds\": " << fmt(p.prefill_seconds, 2)
           << ", \"publish_seconds\": " << fmt(p.publish_seconds, 2)
           << ", \"startup_seconds\": " << fmt(p.startup_seconds, 2)
           << ", \"catchup_seconds\": " << fmt(p.catchup_seconds, 3) << ", \"notifications_per_s\": " << fmt(p.per_s, 1)
           << ", \"daemon_cpu_us_per_notification\": " << fmt(p.daemon_cpu_us, 2)
           << ", \"postgres_cpu_us_per_notification\": " << fmt(p.postgres_cpu_us, 2)
           << ", \"rows_per_transaction\": " << fmt(p.rows_per_transaction, 1)
           << ", \"peak_rss_kib\": " << p.peak_rss_kib << ", \"rows\": " << p.rows << "}";
    }
    json << "\n    ]}";
  }
  json << "\n  ]\n}\n";
}

}  // namespace

int sweep_main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--sweep")
      o.dimension = next();
    else if (a == "--notifications")
      o.notifications = std::stoull(next());
    else if (a == "--prefill-rows")
      o.prefill_rows = std::stoull(next());
    else if (a == "--out")
      o.out = next();
    else {
      std::cerr << "usage: kafnus-bench --sweep attributes|entities|tables|table-size|partitions|workers|all "
                   "[--notifications N] [--prefill-rows R] [--out DIR]\n";
      return 2;
    }
  }
  try {
    std::vector<std::string> dims;
    if (o.dimension == "all" || o.dimension.empty()) {
      dims.assign(std::begin(kDimensions), std::end(kDimensions));
    } else {
      dims.push_back(o.dimension);
    }
    std::vector<std::vector<point>> plan;
    plan.reserve(dims.size());
    for (const auto& d : dims) plan.push_back(points_of(d, o));
    kt::pg_client pg;
    std::cout << "sweep: " << o.notifications << " notifications per point (100 and 1,000 attributes: N/5 and N/50, "
              << "the same number of values); " << cores() << " cores; historic table sizes up to " << o.prefill_rows
              << " rows\n";
    const auto t_all = clock_type::now();
    std::string tables;
    for (auto& ps : plan) {
      for (auto& p : ps) {
        std::cout << p.dimension << " " << p.value << ": " << p.notifications << " notifications into " << p.flow
                  << (p.prefill_rows ? ", prefilling " + std::to_string(p.prefill_rows) + " rows" : "") << "…\n"
                  << std::flush;
        run_point(p, pg);
        std::cout << "  " << fmt(p.per_s) << " notifications/s, daemon " << fmt(p.daemon_cpu_us, 1)
                  << " µs and PostgreSQL " << fmt(p.postgres_cpu_us, 1) << " µs of CPU per notification"
                  << (p.prefill_rows ? "; prefill " + fmt(p.prefill_seconds, 1) + " s" : "") << "\n"
                  << std::flush;
      }
      tables += table_of(ps.front().dimension, ps);
    }
    pg.exec("DROP SCHEMA IF EXISTS sweep CASCADE");  // the largest prefill takes gigabytes
    std::cout << tables << "\nsweep done in " << fmt(seconds_since(t_all)) << " s\n";

    std::filesystem::create_directories(o.out);
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    const auto path = o.out + "/sweep-" + stamp + ".json";
    write_json(path, o, plan);
    std::cout << "results: " << path << "\n";
  } catch (const std::exception& e) {
    std::cerr << "kafnus-bench --sweep: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kafnus::bench
