#include "postgis/batch_writer.hpp"

#include <algorithm>
#include <chrono>

#include <pqxx/nontransaction>
#include <pqxx/transaction>

// pqxx::tablewriter is deprecated in libpqxx 6 in favour of stream_to, but
// stream_to sends one line per call and converts every field again; the
// writer builds COPY text itself and sends it in one chunk per staging table.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pqxx/tablewriter>
#pragma GCC diagnostic pop

#include <simdjson.h>

#include "postgis/error_class.hpp"
#include "postgis/savepoint.hpp"
#include "postgis/sql.hpp"
#include "postgis/statements.hpp"

namespace kafnus::postgis {
namespace {

// A statement-level failure on a table whose cached schema may be stale:
// drop it from the cache and start the transaction again.
struct stale_schema {
  ngsi::table_ref table;
};

// A data failure in the fast attempt: start again, isolating bad rows.
struct needs_isolation {};

constexpr int kMaxAttempts = 5;

// Sends COPY text (complete lines) into a table in one chunk.
void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns,
                const std::string& text) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter copy(tx, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
  copy.write_raw_line(text);
  copy.complete();
}

// Why PostgreSQL could not store a value of the row (invalid UTF-8 or a NUL
// in text), or "": such a row goes to the error log instead of failing COPY.
std::string unstorable(const ngsi::row& r) {
  for (const auto& c : r.columns) {
    const auto k = c.val.kind;
    if (k != ngsi::value_kind::text && k != ngsi::value_kind::json) continue;
    const auto& t = c.val.text;
    if (!simdjson::validate_utf8(t.data(), t.size())) {
      return "value of column \"" + c.name + "\" is not valid UTF-8; PostgreSQL text cannot hold it";
    }
    if (t.find('\0') != std::string::npos) {
      return "value of column \"" + c.name + "\" contains a NUL character; PostgreSQL text cannot hold it";
    }
  }
  return {};
}

// Called after the first line: the COPY text will grow to about `rows` lines
// like it, so reserve that (a fifth more) once rather than copy the text at
// every doubling. At most 8 MiB ahead (5,000 ordinary rows take ~2 MiB): an
// unusually large first row must not reserve for thousands like it.
void reserve_like_first_line(std::string& text, std::size_t rows) {
  constexpr std::size_t kMaxReserve = std::size_t{8} << 20;
  text.reserve(std::min(text.size() * rows / 4 * 5, kMaxReserve));
}

}  // namespace

struct batch_writer::attempt_state {
  std::set<ngsi::table_ref> fetched_now;  // schemas read within this attempt (fresh)
  std::vector<error_log_entry> errors;
  write_result result;
};

batch_writer::batch_writer(pqxx::connection& conn, std::string kafnus_schema, std::string group,
                           unknown_column_policy policy, table_schema_cache& schemas)
    : conn_(conn),
      kafnus_schema_(std::move(kafnus_schema)),
      group_(std::move(group)),
      policy_(policy),
      schemas_(schemas),
      error_log_(kafnus_schema_) {}

write_result batch_writer::write(const write_request& request) {
  bool isolate = false;
  for (int i = 1;; ++i) {
    try {
      auto r = attempt(request, isolate);
      r.attempts = i;
      return r;
    } catch (const needs_isolation&) {
      // Read the schemas again: a failing statement often means an operator
      // changed a table since it was cached.
      for (const auto& r : request.rows) schemas_.invalidate(r.row->table);
      isolate = true;
    } catch (const stale_schema& s) {
      schemas_.invalidate(s.table);
      isolate = true;
    }
    error_log_.forget();
    if (i >= kMaxAttempts) {
      // Cannot happen with a stable schema: every retry reads fresh schemas
      // of the failing tables. Treat as transient rather than drop anything.
      throw std::runtime_error("the tables kept changing while the batch was written; retrying");
    }
  }
}

write_result batch_writer::attempt(const write_request& request, bool isolate) {
  attempt_state st;
  auto& res = st.result;
  res.isolated = isolate;
  pqxx::work tx(conn_);

  // 1. Positions first: a conflicting source contributes nothing.
  res.sources = advance_positions(tx, kafnus_schema_, group_, request.sources);
  auto active = [&](std::size_t tag) { return res.sources[tag] == position_outcome::advanced; };

  std::vector<tagged_row> rows;
  rows.reserve(request.rows.size());
  for (const auto& r : request.rows) {
    if (active(r.tag)) rows.push_back(r);
  }
  for (const auto& [entry, tag] : request.errors) {
    if (active(tag)) st.errors.push_back(entry);
  }

  // 2. Schemas of the target tables.
  auto schema_of = [&](const ngsi::table_ref& t) -> const table_schema& {
    if (const auto* s = schemas_.lookup(t)) return *s;
    st.fetched_now.insert(t);
    return schemas_.store(t, fetch_table_schema(tx, t));
  };
  for (const auto& r : rows) schema_of(r.row->table);
  if (policy_ == unknown_column_policy::add) {
    auto additions = missing_columns(rows, schema_of);
    for (const auto& a : additions) {
      tx.exec("ALTER TABLE " + qualified(a.table) + " ADD COLUMN IF NOT EXISTS " + quote_ident(a.column) + " " +
              a.type);
    }
    for (const auto& a : additions) {
      schemas_.invalidate(a.table);
      schema_of(a.table);
    }
    res.added_columns = additions.size();
  }

  // 3. Plan, stage, write.
  auto fail_row = [&](const ngsi::row& r, const std::vector<std::uint16_t>& cols, const std::string& message) {
    st.errors.push_back(error_log_entry{r.service, 0, message, render_statement(r, cols)});
    ++res.failed[flow_service{r.f, r.service}];
  };
  std::vector<tagged_row> storable;
  storable.reserve(rows.size());
  for (const auto& r : rows) {
    auto why = unstorable(*r.row);
    if (why.empty()) {
      storable.push_back(r);
    } else {
      fail_row(*r.row, {}, why);
    }
  }
  const write_plan plan = build_plan(storable, schema_of, policy_);
  res.dropped_attributes = plan.dropped_attributes;
  for (const auto& rej : plan.rejected) fail_row(*rej.row, {}, rej.error);

  // Staging: every row gets a _seq unique within its staging table; a
  // group's rows have consecutive _seq values, so a statement (or a half of
  // one being isolated) selects them by range.
  // A historic group whose values need no conversion is COPied straight
  // into its table (the fast path); a failure there means bad data, found
  // again by the isolating attempt, which always stages.
  std::vector<bool> direct(plan.groups.size(), false);
  std::map<std::string, std::vector<std::size_t>> groups_by_stage;
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    direct[g] = !isolate && direct_copy_allowed(plan.groups[g]);
    if (!direct[g]) groups_by_stage[stage_name(plan.groups[g].stage_kinds)].push_back(g);
  }
  std::vector<int> seq_begin(plan.groups.size(), 0);
  std::vector<std::vector<bool>> unstaged(plan.groups.size());  // rows COPY rejected (isolating only)
  std::set<std::string> new_stages;
  for (const auto& [stage, group_ids] : groups_by_stage) {
    const auto& kinds = plan.groups[group_ids.front()].stage_kinds;
    if (!stages_.count(stage)) {
      tx.exec(stage_ddl(kinds));
      new_stages.insert(stage);
    }
    int seq = 0;
    for (auto g : group_ids) {
      seq_begin[g] = seq;
      seq += static_cast<int>(plan.groups[g].rows.size());
    }
    const auto columns = stage_copy_columns(kinds);
    if (!isolate) {
      std::string text;
      std::size_t rows_total = 0;
      for (auto g : group_ids) rows_total += plan.groups[g].rows.size();
      for (auto g : group_ids) {
        int n = seq_begin[g];
        for (const auto& pr : plan.groups[g].rows) {
          const bool first = text.empty();
          append_stage_line(text, plan.groups[g], pr, n++);
          if (first) reserve_like_first_line(text, rows_total);
        }
      }
      try {
        copy_lines(tx, "pg_temp." + stage, columns, text);
      } catch (const std::exception& e) {
        if (classify(e) == failure_kind::transient) throw;
        throw needs_isolation{};
      }
      continue;
    }
    // Isolating: a group's COPY in a savepoint; when PostgreSQL rejects a
    // value, each row of the group is staged alone to find the bad ones.
    for (auto g : group_ids) {
      const auto& group = plan.groups[g];
      unstaged[g].assign(group.rows.size(), false);
      std::string text;
      int n = seq_begin[g];
      for (const auto& pr : group.rows) append_stage_line(text, group, pr, n++);
      try {
        in_savepoint(tx, [&] { copy_lines(tx, "pg_temp." + stage, columns, text); });
        continue;
      } catch (const std::exception& e) {
        if (classify(e) == failure_kind::transient) throw;
      }
      for (std::size_t i = 0; i < group.rows.size(); ++i) {
        std::string line;
        append_stage_line(line, group, group.rows[i], seq_begin[g] + static_cast<int>(i));
        try {
          in_savepoint(tx, [&] { copy_lines(tx, "pg_temp." + stage, columns, line); });
        } catch (const std::exception& e) {
          if (classify(e) == failure_kind::transient) throw;
          unstaged[g][i] = true;
          fail_row(*group.rows[i].row, group.rows[i].value_index, error_message(e));
        }
      }
    }
  }

  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    const auto& group = plan.groups[g];
    const std::string sql = group_statement(group);
    const int begin = seq_begin[g];
    const int end = begin + static_cast<int>(group.rows.size());
    auto is_staged = [&](int i) {
      return unstaged[g].empty() || !unstaged[g][static_cast<std::size_t>(i - begin)];
    };
    auto count_written = [&](int lo, int hi) {
      for (int i = lo; i < hi; ++i) {
        if (!is_staged(i)) continue;
        const auto& r = *group.rows[static_cast<std::size_t>(i - begin)].row;
        ++res.written[flow_service{r.f, r.service}];
      }
    };
    if (direct[g]) {
      std::string lines;
      for (const auto& pr : group.rows) {
        const bool first = lines.empty();
        append_direct_line(lines, group, pr);
        if (first) reserve_like_first_line(lines, group.rows.size());
      }
      try {
        copy_lines(tx, qualified(group.table), direct_copy_columns(group), lines);
      } catch (const std::exception& e) {
        if (classify(e) == failure_kind::transient) throw;
        throw needs_isolation{};
      }
      count_written(begin, end);
      continue;
    }
    if (!isolate) {
      try {
        tx.exec_params(sql, begin, end);
      } catch (const std::exception& e) {
        if (classify(e) == failure_kind::transient) throw;
        throw needs_isolation{};
      }
      count_written(begin, end);
      // Folded rows were applied and then superseded within the batch.
      if (group.folded) res.written[flow_service{group.flow, group.rows.front().row->service}] += group.folded;
      continue;
    }
    // Isolating: run [lo, hi) in a savepoint; on a data error split it.
    std::vector<std::pair<int, int>> ranges{{begin, end}};
    while (!ranges.empty()) {
      auto [lo, hi] = ranges.back();
      ranges.pop_back();
      try {
        in_savepoint(tx, [&, lo = lo, hi = hi] { tx.exec_params(sql, lo, hi); });
        count_written(lo, hi);
      } catch (const std::exception& e) {
        const auto kind = classify(e);
        if (kind == failure_kind::transient) throw;
        if (kind == failure_kind::statement && !st.fetched_now.count(group.table)) throw stale_schema{group.table};
        if (kind == failure_kind::statement || hi - lo == 1) {
          const auto message = error_message(e);
          for (int i = lo; i < hi; ++i) {
            if (!is_staged(i)) continue;
            const auto& pr = group.rows[static_cast<std::size_t>(i - begin)];
            fail_row(*pr.row, pr.value_index, message);
          }
        } else {
          const int mid = lo + (hi - lo) / 2;
          ranges.emplace_back(mid, hi);  // popped second: keeps offset order
          ranges.emplace_back(lo, mid);
        }
      }
    }
    if (group.folded) res.written[flow_service{group.flow, group.rows.front().row->service}] += group.folded;
  }

  // 4. Error log, then commit.
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (auto& e : st.errors) {
    if (e.timestamp_us == 0) e.timestamp_us = now_us;
  }
  auto counts = error_log_.write(tx, st.errors);
  res.error_log_rows = counts.per_service + counts.fallback;
  res.error_log_fallback = counts.fallback;
  tx.commit();
  stages_.insert(new_stages.begin(), new_stages.end());
  return res;
}

}  // namespace kafnus::postgis
