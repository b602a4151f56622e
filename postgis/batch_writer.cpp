#include "postgis/batch_writer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <utility>

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

#include "postgis/binary_copy.hpp"
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

// An optimistic attempt's positions were not all where it assumed (its
// strict compare-and-set failed, and the transaction with it): start again
// the careful way. Not a std::exception, so that no handler of a
// statement's failure takes it for one.
struct optimistic_miss {};

constexpr int kMaxAttempts = 5;

// A name for a statement to prepare: unique in the process, so in any
// session, whichever writer prepared before.
std::string statement_name(const char* prefix) {
  static std::atomic<std::uint64_t> count{0};
  return prefix + std::to_string(++count);
}

bool retryable(failure_kind kind) { return kind == failure_kind::transient || kind == failure_kind::unknown; }

// Sends COPY text (complete lines) into a table in one chunk. The text is
// spent: libpqxx copies a text that ends in a newline to drop it, and copies
// it again to add one back, so it is handed over without its last newline
// and copied once (unless the line before is empty: libpqxx would drop that
// one's newline too).
void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns,
                std::string&& text) {
  if (text.size() >= 2 && text.back() == '\n' && text[text.size() - 2] != '\n') text.pop_back();
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
    const auto t = c.val.text;
    if (!simdjson::validate_utf8(t.data(), t.size())) {
      return "value of column \"" + std::string(c.name) + "\" is not valid UTF-8; PostgreSQL text cannot hold it";
    }
    if (t.find('\0') != std::string::npos) {
      return "value of column \"" + std::string(c.name) + "\" contains a NUL character; PostgreSQL text cannot hold it";
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

// A staging table's rows, those of its groups `group_ids` (each group's
// from the _seq after the one before), as binary COPY data: nothing when
// they are few enough to go as an INSERT (`inline_rows`), or when a value
// needs COPY text.
std::optional<std::string> staged_binary_data(const write_plan& plan, const std::vector<std::size_t>& group_ids,
                                              std::size_t inline_rows) {
  std::size_t rows_total = 0;
  for (auto g : group_ids) rows_total += plan.groups[g].rows.size();
  if (rows_total <= inline_rows) return std::nullopt;
  const auto formats = binary_stage_formats(plan.groups[group_ids.front()].stage_kinds);
  binary_rows rows(rows_total);
  int seq = 0;
  for (auto g : group_ids) {
    for (const auto& pr : plan.groups[g].rows) {
      if (!rows.add_staged(plan.groups[g], pr, seq++, formats)) return std::nullopt;
    }
  }
  return std::move(rows).finish();
}

// A direct group's rows as binary COPY data: nothing when a column's type
// has no binary writer or a value cannot be written exactly.
std::optional<std::string> direct_binary_data(const statement_group& group) {
  const auto formats = binary_formats(group);
  if (!formats) return std::nullopt;
  return binary_copy_data(group, *formats);
}

}  // namespace

// prepare()'s work for the next write: its plan and COPY data, and what
// they were made from.
struct batch_writer::preparation {
  std::vector<tagged_row> rows;  // the request's rows (made as if every source advanced)
  std::map<ngsi::table_ref, std::shared_ptr<const table_schema>> schemas;
  bool binary_copy = false;
  std::size_t inline_rows = 0;
  std::vector<std::pair<const ngsi::row*, std::string>> unstorable;
  write_plan plan;
  std::map<std::string, std::string> staged;  // staging table → binary COPY data of its rows
  std::map<std::size_t, std::string> direct;  // group of the plan → binary COPY data of its rows
};

// What one attempt knows as it goes: its transaction, the rows of the
// sources that advanced, the schemas of their tables, and the error-log
// entries gathered so far.
struct batch_writer::attempt_state {
  attempt_state(pqxx::transaction_base& t, bool isolating) : isolate(isolating), tx_(t) { result.isolated = isolating; }

  // The transaction, for a statement sent now. An optimistic attempt's head
  // (its BEGIN and strict compare-and-set, not sent yet) goes first, in a
  // round trip of its own: nothing reaches PostgreSQL before the BEGIN. So
  // call it only to send something.
  pqxx::transaction_base& tx() {
    if (!head.empty()) send({});
    return tx_;
  }
  // Sends `sql` now (and the head first, in the same round trip).
  void send(const std::string& sql) {
    if (head.empty()) {
      tx_.exec(sql);
      return;
    }
    try {
      tx_.exec(with_head(sql));
    } catch (const std::exception& e) {
      if (positions_moved_elsewhere(e)) throw optimistic_miss{};
      throw;
    }
  }
  // `sql` behind the head, which is then sent (either may be empty).
  std::string with_head(const std::string& sql) {
    std::string q = std::move(head);
    head.clear();
    if (!q.empty() && !sql.empty()) q += ";\n";
    q += sql;
    return q;
  }

  const table_schema& schema_of(const ngsi::table_ref& t) const { return *schemas.at(t); }

  // The row goes to the error log with `message` and a statement to re-run.
  void fail_row(const ngsi::row& r, const std::vector<std::uint16_t>& cols, const std::string& message) {
    errors.push_back(ngsi::error_entry{r.service(), 0, message, render_statement(r, cols)});
    error_origin.push_back(flow_service{r.f, r.service()});
    ++result.failed[flow_service{r.f, r.service()}];
  }

  bool isolate;
  std::string head;              // optimistic: BEGIN and the strict compare-and-set, sent with the next statement
  std::string group_statements;  // not isolating: statements not sent yet (groups' statements, and
                                 // INSERTs of groups too small for a COPY)
  std::vector<tagged_row> rows;  // of the sources that advanced, still to write
  std::set<ngsi::table_ref> fetched_now;                                   // schemas read within this attempt (fresh)
  std::map<ngsi::table_ref, std::shared_ptr<const table_schema>> schemas;  // of this attempt's tables
  std::vector<ngsi::error_entry> errors;
  std::vector<flow_service> error_origin;  // per entry of `errors`
  std::vector<std::string> new_stages;     // staging tables this attempt created
  std::unique_ptr<preparation> ready;      // prepare()'s work, when it is this attempt's
  write_result result;

 private:
  pqxx::transaction_base& tx_;
};

// An attempt whose commit is sent.
struct batch_writer::open_attempt {
  open_attempt(pqxx::connection_base& conn, bool isolate)
      : xact(conn, explicit_transaction::begin::with_first_statement), st(xact.tx(), isolate) {}
  explicit_transaction xact;
  attempt_state st;
  bool head_with_commit = false;  // the optimistic head went with the commit
};

// How the rows of one group of the plan reach their table.
struct batch_writer::group_state {
  bool direct = false;                   // straight into the table (no conversion needed, not isolating): by COPY, or
                                         // a few rows as INSERTs (an upsert group's only so, never staged)
  bool abandoned = false;                // every row went to the error log (its staging table could not be made)
  int seq_begin = 0;                     // first _seq of its rows in the staging table
  std::vector<bool> unstaged;            // rows COPY rejected (isolating only; empty: all staged)
  std::optional<std::string> copy_data;  // direct: its binary COPY data, made by prepare()
};

std::size_t write_result::rows_rejected() const {
  std::size_t n = 0;
  for (const auto& [fs, count] : failed) n += static_cast<std::size_t>(count);
  return n;
}

batch_writer::batch_writer(session& conn, std::string kafnus_schema, std::string group, unknown_column_policy policy,
                           table_schema_cache& schemas)
    : batch_writer(static_cast<pqxx::connection_base&>(conn), std::move(kafnus_schema), std::move(group), policy,
                   schemas) {
  session_ = &conn;
  binary_copy_ = true;
}

batch_writer::batch_writer(pqxx::connection_base& conn, std::string kafnus_schema, std::string group,
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

batch_writer::~batch_writer() = default;

write_result batch_writer::write(const write_request& request, write_mode mode) {
  start(request, mode);
  return finish();
}

void batch_writer::start(const write_request& request, write_mode mode) {
  if (open_) throw std::logic_error("batch_writer::start: the previous write is not finished");
  ++writes_;
  unknown_is_data_ = mode == write_mode::isolate_unknown;
  job_ = job{&request, unknown_is_data_, 1, std::move(ready_)};
  begin_attempts();
}

// Attempts of the current write, until one has sent its commit.
void batch_writer::begin_attempts() {
  for (;;) {
    try {
      open_ = std::make_unique<open_attempt>(conn_, job_.isolate);
      run_attempt(*open_, *job_.request);
      return;
    } catch (...) {
      open_.reset();
      after_failed_attempt();
    }
  }
}

write_result batch_writer::finish() {
  if (!open_) throw std::logic_error("batch_writer::finish: no write was started");
  for (;;) {
    try {
      auto& a = *open_;
      try {
        a.xact.finish_commit();
      } catch (const std::exception& e) {
        rethrow_commit_failure(a, e);
      }
      after_commit(a);
      auto r = std::move(a.st.result);
      r.attempts = job_.attempt;
      open_.reset();
      job_ = job{};
      return r;
    } catch (...) {
      open_.reset();
      after_failed_attempt();
    }
    begin_attempts();
  }
}

bool batch_writer::finished_by_database() { return open_ == nullptr || open_->xact.commit_answered(); }

// Called in a handler of an attempt's failure: rethrows it when the write
// fails (transient, unknown), else sets up the next, isolating attempt.
void batch_writer::after_failed_attempt() {
  try {
    throw;
  } catch (const needs_isolation&) {
    // Read the schemas again: a failing statement often means an operator
    // changed a table since it was cached.
    for (const auto& r : job_.request->rows) schemas_.invalidate(r.row->table());
    job_.isolate = true;
  } catch (const stale_schema& s) {
    schemas_.invalidate(s.table);
    job_.isolate = true;
  } catch (const optimistic_miss&) {
    ++optimistic_misses_;
    job_.careful = true;
  } catch (...) {
    error_log_.forget();  // tables it created were rolled back
    job_ = job{};
    throw;
  }
  error_log_.forget();
  if (job_.attempt >= kMaxAttempts) {
    // Cannot happen with a stable schema: every retry reads fresh schemas
    // of the failing tables. Treat as a failure to retry rather than drop
    // anything (the caller's backstop ends it if it keeps happening).
    job_ = job{};
    throw std::runtime_error("the tables kept changing while the batch was written; retrying");
  }
  ++job_.attempt;
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

void batch_writer::run_attempt(open_attempt& a, const write_request& request) {
  // BEGIN goes with the positions' statement, in its round trip.
  auto& xact = a.xact;
  auto& st = a.st;
  const bool isolate = st.isolate;
  // Deferred constraints are checked at their statement while isolating, so
  // that their rows can be found (in the fast attempt they fail the commit).
  std::string first = explicit_transaction::begin_statement();
  if (isolate) first += "; SET CONSTRAINTS ALL IMMEDIATE";
  advance_sources(st, request, first);
  load_schemas(st);
  if (policy_ == unknown_column_policy::add) add_missing_columns(st);
  const write_plan plan = plan_rows(st);
  auto groups = stage(st, plan);
  for (std::size_t g = 0; g < plan.groups.size(); ++g) write_group(st, plan.groups[g], groups[g]);
  write_error_log(st);
  // The statements not sent yet go with the commit, in its round trip: an
  // optimistic attempt's head too when nothing had to be sent before.
  a.head_with_commit = !st.head.empty();
  const std::string last = st.with_head(st.group_statements);
  try {
    if (session_ != nullptr) {
      xact.send_commit(*session_, last);  // finish() waits for it
    } else {
      xact.commit(last);
    }
  } catch (const std::exception& e) {
    rethrow_commit_failure(a, e);
  }
}

// In a handler of `e`, a failure of the statements sent with the commit or
// of the commit itself (in run_attempt, or in finish() for a sent commit).
// The optimistic head's compare-and-set failing is a miss; one of the last
// statements, or a deferred constraint at the commit, failing calls for
// isolating, with every constraint checked at its statement; anything else
// is rethrown.
void batch_writer::rethrow_commit_failure(const open_attempt& a, const std::exception& e) const {
  if (a.head_with_commit && positions_moved_elsewhere(e)) throw optimistic_miss{};
  if (!a.st.isolate && !retryable(kind_of(e))) throw needs_isolation{};
  throw;
}

void batch_writer::after_commit(open_attempt& a) {
  if (a.st.ready) ++preparations_used_;
  std::vector<std::string> evicted;
  for (const auto& stage_table : a.st.new_stages) {
    for (auto& e : stages_.put(stage_table, true)) evicted.push_back(std::move(e));
  }
  drop_staging_tables(a.xact, evicted);
}

// 1. Positions first: a conflicting (or already committed) source
// contributes neither rows nor error-log entries.
//
// Optimistic (the first attempt of a write, not isolating, one statement
// for all its sources): every source is taken to advance, and the positions'
// strict compare-and-set waits in the attempt's head to go with the first
// statement sent — in a steady stream, the rows and the commit, so the
// transaction takes one round trip instead of two. If a position was not
// where it was expected (a rebalance, a restart, another owner), that
// statement fails the transaction and the write starts again the careful
// way: positions first, then the rows of the sources that advanced.
void batch_writer::advance_sources(attempt_state& st, const write_request& request, const std::string& before) {
  auto& res = st.result;
  if (positions_statement_.empty()) {
    // Prepared once per connection, before this transaction's BEGIN (a
    // prepared statement is the session's, whatever becomes of the
    // transaction).
    // Each PREPARE a query of its own (PostgreSQL keeps the whole query
    // string a PREPARE came in, and copies it at every EXECUTE).
    auto name = statement_name("kafnus_p");
    auto strict = statement_name("kafnus_s");
    st.tx().exec("PREPARE " + name + " AS " + prepared_positions_statement(kafnus_schema_, group_));
    st.tx().exec("PREPARE " + strict + " AS " + prepared_strict_positions_statement(kafnus_schema_, group_));
    positions_statement_ = std::move(name);
    strict_positions_statement_ = std::move(strict);
  }
  if (!st.isolate && !job_.careful && positions_fit_one_statement(request.sources)) {
    st.head = before + ";\n" + execute_positions(strict_positions_statement_, request.sources);
    res.sources.assign(request.sources.size(), position_outcome::advanced);
  } else {
    res.sources = advance_positions(st.tx(), kafnus_schema_, group_, request.sources, before, positions_statement_);
  }
  auto active = [&](std::size_t tag) { return res.sources[tag] == position_outcome::advanced; };
  st.rows.reserve(request.rows.size());
  for (const auto& r : request.rows) {
    if (active(r.tag)) st.rows.push_back(r);
  }
  for (const auto& e : request.errors) {
    if (!active(e.tag)) continue;
    st.errors.push_back(e.entry);
    st.error_origin.push_back(flow_service{e.flow, e.entry.service});
  }
}

// 2. Schemas of the target tables: cached, or read in one query.
void batch_writer::load_schemas(attempt_state& st) {
  std::vector<ngsi::table_ref> to_fetch;
  for (const auto& r : st.rows) {
    const auto& t = r.row->table();
    if (st.schemas.count(t)) continue;
    if (auto cached = schemas_.lookup(t)) {
      st.schemas[t] = std::move(cached);
    } else {
      st.schemas[t] = nullptr;
      to_fetch.push_back(t);
    }
  }
  fetch_schemas(st, to_fetch);
}

void batch_writer::fetch_schemas(attempt_state& st, const std::vector<ngsi::table_ref>& tables) {
  if (tables.empty()) return;
  auto fetched = fetch_table_schemas(st.tx(), tables);
  for (auto& [t, schema] : fetched) {
    st.fetched_now.insert(t);
    st.schemas[t] = schemas_.store(t, std::move(schema));
  }
}

// 3. Columns for "unknown_columns: add", each in a savepoint: a column that
// cannot be added (not the table's owner, 1,600 columns already) sends the
// rows that need it to the error log.
void batch_writer::add_missing_columns(attempt_state& st) {
  std::map<std::pair<ngsi::table_ref, std::string>, std::string> refused;
  std::vector<ngsi::table_ref> altered;
  for (const auto& a :
       missing_columns(st.rows, [&](const ngsi::table_ref& t) -> const table_schema& { return st.schema_of(t); })) {
    try {
      auto& tx = st.tx();
      in_savepoint(tx, [&] {
        tx.exec("ALTER TABLE " + qualified(a.table) + " ADD COLUMN IF NOT EXISTS " + quote_ident(a.column) + " " +
                a.type);
      });
      ++st.result.added_columns;
      if (altered.empty() || altered.back() != a.table) altered.push_back(a.table);
    } catch (const std::exception& e) {
      if (retryable(kind_of(e))) throw;
      refused[{a.table, a.column}] = error_message(e);
    }
  }
  std::sort(altered.begin(), altered.end());
  altered.erase(std::unique(altered.begin(), altered.end()), altered.end());
  for (const auto& t : altered) schemas_.invalidate(t);
  fetch_schemas(st, altered);
  if (refused.empty()) return;
  std::vector<tagged_row> kept;
  kept.reserve(st.rows.size());
  for (const auto& r : st.rows) {
    const std::string* why = nullptr;
    for (const auto& c : r.row->columns) {
      auto it = refused.find({r.row->table(), std::string(c.name)});
      if (it != refused.end()) {
        why = &it->second;
        break;
      }
    }
    if (why) {
      st.fail_row(*r.row, {}, *why);
    } else {
      kept.push_back(r);
    }
  }
  st.rows = std::move(kept);
}

// 4. The plan: rows PostgreSQL could not store (invalid UTF-8, NUL) and rows
// the unknown-column policy rejects go to the error log; the rest is grouped
// by table, operation and shape.
write_plan batch_writer::plan_rows(attempt_state& st) {
  std::vector<std::pair<const ngsi::row*, std::string>> unstorable_rows;
  write_plan plan;
  if (job_.ready && matches(*job_.ready, st)) {
    st.ready = std::move(job_.ready);  // counted when committed (after_commit)
    unstorable_rows = std::move(st.ready->unstorable);
    plan = std::move(st.ready->plan);
  } else {
    plan = make_plan(
        st.rows, [&](const ngsi::table_ref& t) -> const table_schema& { return st.schema_of(t); }, unstorable_rows);
  }
  for (const auto& [row, why] : unstorable_rows) st.fail_row(*row, {}, why);
  st.result.dropped_attributes = plan.dropped_attributes;
  for (const auto& rej : plan.rejected) st.fail_row(*rej.row, {}, rej.error);
  return plan;
}

write_plan batch_writer::make_plan(const std::vector<tagged_row>& rows,
                                   const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of,
                                   std::vector<std::pair<const ngsi::row*, std::string>>& unstorable_rows) {
  std::vector<tagged_row> storable;
  storable.reserve(rows.size());
  for (const auto& r : rows) {
    auto why = unstorable(*r.row);
    if (why.empty()) {
      storable.push_back(r);
    } else {
      unstorable_rows.emplace_back(r.row, std::move(why));
    }
  }
  return build_plan(storable, schema_of, policy_, &shapes_);
}

// Whether prepare()'s work is what this attempt would do: the same rows and
// schemas, the same settings, not isolating.
bool batch_writer::matches(const preparation& p, const attempt_state& st) const {
  if (st.isolate || p.binary_copy != binary_copy_ || p.inline_rows != inline_rows_) return false;
  if (p.rows.size() != st.rows.size()) return false;
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    if (p.rows[i].row != st.rows[i].row || p.rows[i].tag != st.rows[i].tag) return false;
  }
  return p.schemas == st.schemas;
}

void batch_writer::prepare(const write_request& next) {
  ready_.reset();
  auto p = std::make_unique<preparation>();
  p->rows = next.rows;
  p->binary_copy = binary_copy_;
  p->inline_rows = inline_rows_;
  for (const auto& r : p->rows) {
    const auto& t = r.row->table();
    if (p->schemas.count(t)) continue;
    auto cached = schemas_.lookup(t);
    if (!cached) return;  // to be read from the database, within the write
    p->schemas[t] = std::move(cached);
  }
  p->plan = make_plan(
      p->rows, [&](const ngsi::table_ref& t) -> const table_schema& { return *p->schemas.at(t); }, p->unstorable);
  if (binary_copy_) {
    std::vector<bool> direct;
    for (const auto& [stage_table, group_ids] : staged_groups(p->plan, false, &direct)) {
      if (auto data = staged_binary_data(p->plan, group_ids, inline_rows_)) p->staged[stage_table] = std::move(*data);
    }
    for (std::size_t g = 0; g < p->plan.groups.size(); ++g) {
      const auto& group = p->plan.groups[g];
      if (!direct[g] || group.rows.size() <= inline_rows_) continue;  // written inline (write_group)
      if (auto data = direct_binary_data(group)) p->direct[g] = std::move(*data);
    }
  }
  ready_ = std::move(p);
}

// The groups of the plan that go through staging tables, by staging table
// (in the order their rows are staged); `direct` (when given): whether each
// group goes straight into its table instead.
std::map<std::string, std::vector<std::size_t>> batch_writer::staged_groups(const write_plan& plan, bool isolate,
                                                                            std::vector<bool>* direct) const {
  std::map<std::string, std::vector<std::size_t>> by_stage;
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    const auto& group = plan.groups[g];
    const bool d =
        !isolate && (direct_copy_allowed(group) || (group.rows.size() <= inline_rows_ && direct_upsert_allowed(group)));
    if (direct != nullptr) direct->push_back(d);
    if (!d) by_stage[stage_name(group.stage_kinds)].push_back(g);
  }
  return by_stage;
}

// 5. Staging: every row gets a _seq unique within its staging table; a
// group's rows have consecutive _seq values, so a statement (or a half of
// one being isolated) selects them by range. A historic group whose values
// need no conversion is COPied straight into its table instead (the fast
// path); a failure there means bad data, found again by the isolating
// attempt, which always stages (by COPY). Outside isolation, a few rows
// (kInlineRows) go as an INSERT … VALUES queued with the group statements
// rather than by COPY, into their staging table or straight into the table;
// so does an upsert group (lastdata, mutable) of a few rows whose values
// need no conversion, with its ON CONFLICT clause: a transaction of such
// groups touches no staging table, and PostgreSQL then has none to empty
// at its commit (it truncates every ON COMMIT DELETE ROWS table of the
// session when the transaction used any temporary table).
std::vector<batch_writer::group_state> batch_writer::stage(attempt_state& st, const write_plan& plan) {
  const bool isolate = st.isolate;
  std::vector<group_state> groups(plan.groups.size());
  std::vector<bool> direct;
  const auto groups_by_stage = staged_groups(plan, isolate, &direct);
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    groups[g].direct = direct[g];
    if (!st.ready) continue;
    if (auto it = st.ready->direct.find(g); it != st.ready->direct.end()) groups[g].copy_data = std::move(it->second);
  }
  for (const auto& stage_entry : groups_by_stage) {
    const auto& stage_table = stage_entry.first;  // (named, not bound: lambdas below capture them)
    const auto& group_ids = stage_entry.second;
    const auto& kinds = plan.groups[group_ids.front()].stage_kinds;
    if (!stages_.find(stage_table)) {
      // A staging table has one column per value of the shape: too many of
      // them (more than 1,600) is the data's problem, not the batch's.
      try {
        auto& tx = st.tx();
        if (isolate) {
          in_savepoint(tx, [&] { tx.exec(stage_ddl(kinds)); });
        } else {
          tx.exec(stage_ddl(kinds));
        }
      } catch (const std::exception& e) {
        if (retryable(kind_of(e))) throw;
        if (!isolate) throw needs_isolation{};
        const auto message = error_message(e);
        for (auto g : group_ids) {
          for (const auto& pr : plan.groups[g].rows) st.fail_row(*pr.row, pr.value_index, message);
          groups[g].abandoned = true;
        }
        continue;
      }
      st.new_stages.push_back(stage_table);
    }
    int seq = 0;
    for (auto g : group_ids) {
      groups[g].seq_begin = seq;
      seq += static_cast<int>(plan.groups[g].rows.size());
    }
    if (!isolate) {
      std::size_t rows_total = 0;
      for (auto g : group_ids) rows_total += plan.groups[g].rows.size();
      if (rows_total <= inline_rows_) {
        // A few rows: one INSERT sent with the group statements, not a COPY.
        std::string sql = stage_insert_head(kinds);
        std::size_t n_rows = 0;
        for (auto g : group_ids) {
          int n = groups[g].seq_begin;
          for (const auto& pr : plan.groups[g].rows) {
            if (n_rows++) sql += ", ";
            append_stage_values(sql, plan.groups[g], pr, n++);
          }
        }
        if (n_rows) queue_statement(st, sql);
        continue;
      }
      if (binary_copy_) {
        std::optional<std::string> data;  // else COPY text, below
        if (st.ready) {
          if (auto it = st.ready->staged.find(stage_table); it != st.ready->staged.end()) data = std::move(it->second);
        }
        if (!data) data = staged_binary_data(plan, group_ids, inline_rows_);
        if (data) {
          or_isolate(
              [&] { copy_binary(st.tx(), *session_, "pg_temp." + stage_table, stage_copy_columns(kinds), *data); });
          continue;
        }
      }
      std::string text;
      for (auto g : group_ids) {
        int n = groups[g].seq_begin;
        for (const auto& pr : plan.groups[g].rows) {
          const bool first = text.empty();
          append_stage_line(text, plan.groups[g], pr, n++);
          if (first) reserve_like_first_line(text, rows_total);
        }
      }
      or_isolate([&] { copy_lines(st.tx(), "pg_temp." + stage_table, stage_copy_columns(kinds), std::move(text)); });
      continue;
    }
    auto& tx = st.tx();  // (no head: isolating)
    const auto columns = stage_copy_columns(kinds);
    // Isolating: a group's COPY in a savepoint; when PostgreSQL rejects a
    // value, each row of the group is staged alone to find the bad ones.
    for (auto g : group_ids) {
      const auto& group = plan.groups[g];
      auto& gs = groups[g];
      gs.unstaged.assign(group.rows.size(), false);
      std::string text;
      int n = gs.seq_begin;
      for (const auto& pr : group.rows) append_stage_line(text, group, pr, n++);
      try {
        in_savepoint(tx, [&] { copy_lines(tx, "pg_temp." + stage_table, columns, std::move(text)); });
        continue;
      } catch (const std::exception& e) {
        if (retryable(kind_of(e))) throw;
      }
      for (std::size_t i = 0; i < group.rows.size(); ++i) {
        std::string line;
        append_stage_line(line, group, group.rows[i], gs.seq_begin + static_cast<int>(i));
        try {
          in_savepoint(tx, [&] { copy_lines(tx, "pg_temp." + stage_table, columns, std::move(line)); });
        } catch (const std::exception& e) {
          if (retryable(kind_of(e))) throw;
          gs.unstaged[i] = true;
          st.fail_row(*group.rows[i].row, group.rows[i].value_index, error_message(e));
        }
      }
    }
  }
  return groups;
}

// 6. One group into its table: COPY on the fast path, its statement over its
// staged rows otherwise; while isolating, the statement runs in savepoints
// and is split in halves until the rows PostgreSQL rejects are found.
void batch_writer::write_group(attempt_state& st, const statement_group& group, const group_state& gs) {
  if (gs.abandoned) return;
  auto& res = st.result;
  const int begin = gs.seq_begin;
  const int end = begin + static_cast<int>(group.rows.size());
  auto is_staged = [&](int i) { return gs.unstaged.empty() || !gs.unstaged[static_cast<std::size_t>(i - begin)]; };
  auto count_written = [&](int lo, int hi) {
    for (int i = lo; i < hi; ++i) {
      if (!is_staged(i)) continue;
      const auto& r = *group.rows[static_cast<std::size_t>(i - begin)].row;
      ++res.written[flow_service{r.f, r.service()}];
    }
  };
  // Folded rows were applied and then superseded within the batch.
  auto count_folded = [&] {
    for (const auto* r : group.folded_rows) ++res.written[flow_service{r->f, r->service()}];
  };
  if (gs.direct) {
    if (group.rows.size() <= inline_rows_) {
      if (const auto* name = prepared_insert(st, group)) {
        for (const auto& pr : group.rows) append_direct_execute(next_statement(st), *name, group, pr);
      } else {
        queue_statement(st, direct_insert_statement(group));
      }
      count_written(begin, end);
      count_folded();
      return;
    }
    if (binary_copy_) {
      std::optional<std::string> built;
      if (!gs.copy_data) built = direct_binary_data(group);
      const std::optional<std::string>& data = gs.copy_data ? gs.copy_data : built;
      if (data) {
        send_group_statements(st);  // the groups before this one go first
        or_isolate([&] { copy_binary(st.tx(), *session_, qualified(group.table), direct_copy_columns(group), *data); });
        count_written(begin, end);
        return;
      }
    }
    send_group_statements(st);  // the groups before this one go first
    std::string lines;
    for (const auto& pr : group.rows) {
      const bool first = lines.empty();
      append_direct_line(lines, group, pr);
      if (first) reserve_like_first_line(lines, group.rows.size());
    }
    or_isolate([&] { copy_lines(st.tx(), qualified(group.table), direct_copy_columns(group), std::move(lines)); });
    count_written(begin, end);
    return;
  }
  if (!st.isolate) {
    // Prepared once per connection, executed with the other groups'
    // statements in one round trip (a failure of any of them starts the
    // isolating attempt, which discards these counts with the rest of this
    // attempt).
    if (const auto* name = prepared(st, group_statement(group))) {
      queue_statement(st, "EXECUTE " + *name + "(" + std::to_string(begin) + ", " + std::to_string(end) + ")");
    } else {
      queue_statement(st, group_statement(group, begin, end));
    }
    count_written(begin, end);
    count_folded();
    return;
  }
  auto& tx = st.tx();  // (no head: isolating)
  const std::string sql = group_statement(group);
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
          st.fail_row(*pr.row, pr.value_index, message);
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

// The name under which the statement known by `key` in `cache` is prepared
// on this connection, preparing it now ("PREPARE <name>" + `definition()`)
// when there is room for it (batch_writer.hpp: kPreparedIdleWrites); nullptr
// when there is none. A prepared statement outlives a transaction that rolls
// back, so it is remembered as soon as PREPARE succeeds; PostgreSQL analyses
// and plans it again by itself when a table it reads changes (a staging
// table dropped and created again, a column added).
const std::string* batch_writer::kept_prepared(attempt_state& st, statement_cache& cache, const std::string& key,
                                               const char* prefix, const std::function<std::string()>& definition) {
  if (auto* p = cache.find(key)) {
    p->used = writes_;
    return &p->name;
  }
  auto name = statement_name(prefix);
  std::string sql = "PREPARE " + name + definition();
  std::string replaced;  // the key of the statement this one replaces
  if (const auto* oldest = cache.least_recent(); oldest != nullptr && cache.size() >= cache.capacity()) {
    // Not idle: it may run in this very transaction, and will in the next.
    if (writes_ - oldest->second.used < kPreparedIdleWrites) return nullptr;
    sql += "; DEALLOCATE " + oldest->second.name;
    replaced = oldest->first;
  }
  // Alone: PostgreSQL keeps the whole query string a PREPARE came in, and
  // copies it at every EXECUTE. An optimistic head goes before it, outside
  // the try below: when the head fails, the DEALLOCATE was not sent.
  auto& tx = st.tx();
  try {
    or_isolate([&] { tx.exec(sql); });
  } catch (...) {
    // Whether the DEALLOCATE ran is unknown: forget that statement (at
    // worst it stays in the session under its unique name).
    if (!replaced.empty()) cache.erase(replaced);
    throw;
  }
  cache.put(key, prepared_statement{std::move(name), writes_});  // pushes out the oldest, deallocated above
  return &cache.find(key)->name;
}

// A group statement ($1, $2: its _seq range).
const std::string* batch_writer::prepared(attempt_state& st, const std::string& sql) {
  return kept_prepared(st, prepared_, sql, "kafnus_g", [&] { return " (integer, integer) AS " + sql; });
}

// The prepared one-row INSERT (an upsert's with its ON CONFLICT clause) of
// a direct group's shape, preparing it when the shape was seen in an
// earlier transaction; nullptr the first time (a shape seen once costs no
// PREPARE round trip) or when there is no room.
// PostgreSQL fixes a prepared statement's parameter types (its columns'
// types) when it is prepared, and keeps them when a column's type changes:
// a value would then be read by the old type's input function and cast.
// So the statement is known by its columns' types too, and one is prepared
// again as soon as the table's schema, read again, shows another type (the
// schema cache's expiry, or at once when the old types make the INSERT
// fail).
const std::string* batch_writer::prepared_insert(attempt_state& st, const statement_group& group) {
  if (group.columns.empty()) return nullptr;
  // Known by its key (the planner's, made once per shape); the statement's
  // text is built only to prepare it.
  std::string built;
  if (!group.insert_key) built = insert_statement_key(group);
  const std::string& key = group.insert_key ? *group.insert_key : built;
  if (!inserts_.contains(key) && !inserts_seen_.contains(key)) {
    inserts_seen_.put(key, true);
    return nullptr;
  }
  const auto* name =
      kept_prepared(st, inserts_, key, "kafnus_i", [&] { return " AS " + direct_insert_template(group); });
  if (name != nullptr) inserts_seen_.erase(key);
  return name;
}

std::size_t batch_writer::prepared_inserts() const { return inserts_.size(); }

// Runs a step of the fast attempt: a failure that is not transient starts
// the isolating attempt.
void batch_writer::or_isolate(const std::function<void()>& step) const {
  try {
    step();
  } catch (const std::exception& e) {
    if (retryable(kind_of(e))) throw;
    throw needs_isolation{};
  }
}

// A statement of the fast attempt, sent after the ones queued before it, in
// the same round trip (its failure starts the isolating attempt).
void batch_writer::queue_statement(attempt_state& st, std::string_view sql) { next_statement(st) += sql; }

// The statements not sent yet, ready for the next one to be appended.
std::string& batch_writer::next_statement(attempt_state& st) {
  if (!st.group_statements.empty()) st.group_statements += ";\n";
  return st.group_statements;
}

// The group statements gathered so far, in their order, as one query.
void batch_writer::send_group_statements(attempt_state& st) {
  if (st.group_statements.empty()) return;
  or_isolate([&] { st.send(st.group_statements); });
  st.group_statements.clear();
}

// 7. The error log, in the same transaction as the rows.
void batch_writer::write_error_log(attempt_state& st) {
  auto& res = st.result;
  const auto now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (auto& e : st.errors) {
    if (e.timestamp_us == 0) e.timestamp_us = now_us;
  }
  if (st.errors.empty()) return;  // (sends nothing)
  auto counts = error_log_.write(st.tx(), st.errors, unknown_is_data_);
  for (std::size_t i = 0; i < st.errors.size(); ++i) {
    if (counts.written[i]) ++res.logged[st.error_origin[i]];
  }
  res.error_log_rows = counts.per_service + counts.fallback;
  res.error_log_fallback = counts.fallback;
  res.error_log_lost = counts.lost;
  res.error_log_lost_reason = std::move(counts.lost_reason);
}

}  // namespace kafnus::postgis
