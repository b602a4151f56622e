#include "postgis/batch_writer.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>

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
#include "postgis/explicit_transaction.hpp"
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

bool retryable(failure_kind kind) { return kind == failure_kind::transient || kind == failure_kind::unknown; }

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
  std::map<ngsi::table_ref, std::shared_ptr<const table_schema>> schemas;  // of this attempt's tables
  std::vector<ngsi::error_entry> errors;
  std::vector<flow_service> error_origin;  // per entry of `errors`
  write_result result;
};

std::size_t write_result::rows_rejected() const {
  std::size_t n = 0;
  for (const auto& [fs, count] : failed) n += static_cast<std::size_t>(count);
  return n;
}

batch_writer::batch_writer(pqxx::connection& conn, std::string kafnus_schema, std::string group,
                           unknown_column_policy policy, table_schema_cache& schemas)
    : conn_(conn),
      kafnus_schema_(std::move(kafnus_schema)),
      group_(std::move(group)),
      policy_(policy),
      schemas_(schemas),
      error_log_(kafnus_schema_) {}

failure_kind batch_writer::kind_of(const std::exception& e) const {
  if (!conn_.is_open()) return failure_kind::transient;
  const auto kind = classify(e);
  return kind == failure_kind::unknown && unknown_is_data_ ? failure_kind::row : kind;
}

write_result batch_writer::write(const write_request& request, write_mode mode) {
  unknown_is_data_ = mode == write_mode::isolate_unknown;
  bool isolate = unknown_is_data_;
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
    } catch (...) {
      error_log_.forget();  // tables it created were rolled back
      throw;
    }
    error_log_.forget();
    if (i >= kMaxAttempts) {
      // Cannot happen with a stable schema: every retry reads fresh schemas
      // of the failing tables. Treat as a failure to retry rather than drop
      // anything (the caller's backstop ends it if it keeps happening).
      throw std::runtime_error("the tables kept changing while the batch was written; retrying");
    }
  }
}

void batch_writer::drop_staging_tables(explicit_transaction& committed, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string sql;
  for (const auto& n : names) sql += "DROP TABLE IF EXISTS pg_temp." + n + ";";
  try {
    committed.exec_after_commit(sql);
  } catch (const std::exception&) {
    // Left behind, a staging table is only forgotten: CREATE … IF NOT EXISTS
    // finds it again; a lost connection drops it anyway.
  }
}

write_result batch_writer::attempt(const write_request& request, bool isolate) {
  attempt_state st;
  auto& res = st.result;
  res.isolated = isolate;
  explicit_transaction xact(conn_);
  auto& tx = xact.tx();
  // Deferred constraints are checked at their statement while isolating, so
  // that their rows can be found (in the fast attempt they fail the commit).
  if (isolate) tx.exec("SET CONSTRAINTS ALL IMMEDIATE");

  // 1. Positions first: a conflicting source contributes nothing.
  res.sources = advance_positions(tx, kafnus_schema_, group_, request.sources);
  auto active = [&](std::size_t tag) { return res.sources[tag] == position_outcome::advanced; };

  std::vector<tagged_row> rows;
  rows.reserve(request.rows.size());
  for (const auto& r : request.rows) {
    if (active(r.tag)) rows.push_back(r);
  }
  for (const auto& e : request.errors) {
    if (!active(e.tag)) continue;
    st.errors.push_back(e.entry);
    st.error_origin.push_back(flow_service{e.flow, e.entry.service});
  }

  // 2. Schemas of the target tables: cached, or read in one query.
  auto load_schemas = [&](const std::vector<ngsi::table_ref>& tables) {
    if (tables.empty()) return;
    auto fetched = fetch_table_schemas(tx, tables);
    for (auto& [t, schema] : fetched) {
      st.fetched_now.insert(t);
      st.schemas[t] = schemas_.store(t, std::move(schema));
    }
  };
  {
    std::vector<ngsi::table_ref> to_fetch;
    for (const auto& r : rows) {
      const auto& t = r.row->table;
      if (st.schemas.count(t)) continue;
      if (auto cached = schemas_.lookup(t)) {
        st.schemas[t] = std::move(cached);
      } else {
        st.schemas[t] = nullptr;
        to_fetch.push_back(t);
      }
    }
    load_schemas(to_fetch);
  }
  auto schema_of = [&](const ngsi::table_ref& t) -> const table_schema& { return *st.schemas.at(t); };

  auto fail_row = [&](const ngsi::row& r, const std::vector<std::uint16_t>& cols, const std::string& message) {
    st.errors.push_back(ngsi::error_entry{r.service, 0, message, render_statement(r, cols)});
    st.error_origin.push_back(flow_service{r.f, r.service});
    ++res.failed[flow_service{r.f, r.service}];
  };

  // 3. Columns for "unknown_columns: add", each in a savepoint: a column
  // that cannot be added (not the table's owner, 1,600 columns already)
  // sends the rows that need it to the error log.
  if (policy_ == unknown_column_policy::add) {
    std::map<std::pair<ngsi::table_ref, std::string>, std::string> refused;
    std::vector<ngsi::table_ref> altered;
    for (const auto& a : missing_columns(rows, schema_of)) {
      try {
        in_savepoint(tx, [&] {
          tx.exec("ALTER TABLE " + qualified(a.table) + " ADD COLUMN IF NOT EXISTS " + quote_ident(a.column) + " " +
                  a.type);
        });
        ++res.added_columns;
        if (altered.empty() || altered.back() != a.table) altered.push_back(a.table);
      } catch (const std::exception& e) {
        if (retryable(kind_of(e))) throw;
        refused[{a.table, a.column}] = error_message(e);
      }
    }
    std::sort(altered.begin(), altered.end());
    altered.erase(std::unique(altered.begin(), altered.end()), altered.end());
    for (const auto& t : altered) schemas_.invalidate(t);
    load_schemas(altered);
    if (!refused.empty()) {
      std::vector<tagged_row> kept;
      kept.reserve(rows.size());
      for (const auto& r : rows) {
        const std::string* why = nullptr;
        for (const auto& c : r.row->columns) {
          auto it = refused.find({r.row->table, c.name});
          if (it != refused.end()) {
            why = &it->second;
            break;
          }
        }
        if (why) {
          fail_row(*r.row, {}, *why);
        } else {
          kept.push_back(r);
        }
      }
      rows = std::move(kept);
    }
  }

  // 4. Plan, stage, write.
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
  std::vector<bool> abandoned(plan.groups.size(), false);  // its rows all went to the error log
  std::map<std::string, std::vector<std::size_t>> groups_by_stage;
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    direct[g] = !isolate && direct_copy_allowed(plan.groups[g]);
    if (!direct[g]) groups_by_stage[stage_name(plan.groups[g].stage_kinds)].push_back(g);
  }
  // Every row of a group fails with one message (a statement-level error).
  auto fail_group = [&](std::size_t g, const std::string& message) {
    for (const auto& pr : plan.groups[g].rows) fail_row(*pr.row, pr.value_index, message);
    abandoned[g] = true;
  };
  std::vector<int> seq_begin(plan.groups.size(), 0);
  std::vector<std::vector<bool>> unstaged(plan.groups.size());  // rows COPY rejected (isolating only)
  std::vector<std::string> new_stages;
  for (const auto& [stage, group_ids] : groups_by_stage) {
    const auto& kinds = plan.groups[group_ids.front()].stage_kinds;
    if (!stages_.find(stage)) {
      // A staging table has one column per value of the shape: too many of
      // them (more than 1,600) is the data's problem, not the batch's.
      try {
        if (isolate) {
          in_savepoint(tx, [&] { tx.exec(stage_ddl(kinds)); });
        } else {
          tx.exec(stage_ddl(kinds));
        }
      } catch (const std::exception& e) {
        if (retryable(kind_of(e))) throw;
        if (!isolate) throw needs_isolation{};
        const auto message = error_message(e);
        for (auto g : group_ids) fail_group(g, message);
        continue;
      }
      new_stages.push_back(stage);
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
        if (retryable(kind_of(e))) throw;
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
        if (retryable(kind_of(e))) throw;
      }
      for (std::size_t i = 0; i < group.rows.size(); ++i) {
        std::string line;
        append_stage_line(line, group, group.rows[i], seq_begin[g] + static_cast<int>(i));
        try {
          in_savepoint(tx, [&] { copy_lines(tx, "pg_temp." + stage, columns, line); });
        } catch (const std::exception& e) {
          if (retryable(kind_of(e))) throw;
          unstaged[g][i] = true;
          fail_row(*group.rows[i].row, group.rows[i].value_index, error_message(e));
        }
      }
    }
  }

  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    if (abandoned[g]) continue;
    const auto& group = plan.groups[g];
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
    // Folded rows were applied and then superseded within the batch.
    auto count_folded = [&] {
      for (const auto* r : group.folded_rows) ++res.written[flow_service{r->f, r->service}];
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
        if (retryable(kind_of(e))) throw;
        throw needs_isolation{};
      }
      count_written(begin, end);
      continue;
    }
    const std::string sql = group_statement(group);
    if (!isolate) {
      try {
        tx.exec_params(sql, begin, end);
      } catch (const std::exception& e) {
        if (retryable(kind_of(e))) throw;
        throw needs_isolation{};
      }
      count_written(begin, end);
      count_folded();
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
        const auto kind = kind_of(e);
        if (retryable(kind)) throw;
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
    count_folded();
  }

  // 5. Error log, then commit.
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (auto& e : st.errors) {
    if (e.timestamp_us == 0) e.timestamp_us = now_us;
  }
  auto counts = error_log_.write(tx, st.errors, unknown_is_data_);
  for (std::size_t i = 0; i < st.errors.size(); ++i) {
    if (counts.written[i]) ++res.logged[st.error_origin[i]];
  }
  res.error_log_rows = counts.per_service + counts.fallback;
  res.error_log_fallback = counts.fallback;
  res.error_log_lost = counts.lost;
  res.error_log_lost_reason = std::move(counts.lost_reason);
  try {
    xact.commit();
  } catch (const std::exception& e) {
    // A deferred constraint fails the commit: isolate, with every
    // constraint checked at its statement.
    if (!isolate && !retryable(kind_of(e))) throw needs_isolation{};
    throw;
  }
  std::vector<std::string> evicted;
  for (const auto& stage : new_stages) {
    for (auto& e : stages_.put(stage, true)) evicted.push_back(std::move(e));
  }
  drop_staging_tables(xact, evicted);
  return res;
}

}  // namespace kafnus::postgis
