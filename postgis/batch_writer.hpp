#pragma once
// One transaction of the writer: the new positions of the consumed
// partitions (compare-and-set), the rows (COPY into staging tables, then one
// statement per planned group; a few rows as INSERT … VALUES sent with those
// statements), and the error-log entries — committed together or not at all.
// A write's first attempt is optimistic: it takes every position to be
// where it expects it and sends the compare-and-set with the first
// statements it sends (often the commit's, in one round trip); when one is
// not, the transaction fails and the careful attempt follows (positions
// first, then the rows of the sources that advanced).
//
// Failures:
//  - transient (connection lost, shutdown, serialization, …) and unknown
//    ones (no SQLSTATE): the exception escapes; nothing was committed; the
//    caller retries the same request.
//  - data errors, whatever statement meets them (staging table DDL, ALTER
//    TABLE of "unknown_columns: add", COPY, insert, upsert, delete,
//    error-log insert, a deferred constraint at commit): the first attempt
//    runs without savepoints; when a statement fails, it is rolled back and
//    re-run with every statement in a savepoint, splitting a failing group
//    in halves until the bad rows are isolated. Those rows go to the error
//    log with PostgreSQL's message and a statement to re-run; every other
//    row is written. (ALTER TABLE always runs in a savepoint: a column that
//    cannot be added costs the rows that need it.)
//  - write_mode::isolate_unknown (the caller's backstop, after the same
//    batch failed the same unknown way a few times): isolate from the start
//    and treat unknown failures as data errors.

#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/connection>

#include "ngsi/row.hpp"
#include "postgis/bounded_lru.hpp"
#include "postgis/connection.hpp"
#include "postgis/error_class.hpp"
#include "postgis/error_log.hpp"
#include "postgis/explicit_transaction.hpp"
#include "postgis/offsets_store.hpp"
#include "postgis/table_schema.hpp"
#include "postgis/write_plan.hpp"

namespace kafnus::postgis {

// An error-log entry from a processor (a record or entity that could not
// become a row), tagged with its source and flow.
struct request_error {
  ngsi::error_entry entry;
  std::size_t tag = 0;
  ngsi::flow flow = ngsi::flow::historic;
};

struct write_request {
  std::vector<position_update> sources;  // one per consumed range; rows and errors are tagged with its index
  std::vector<tagged_row> rows;          // in offset order
  std::vector<request_error> errors;     // from the processors
};

enum class write_mode {
  normal,
  isolate_unknown,  // isolate from the start; an unknown failure is a data error
};

struct flow_service {
  ngsi::flow flow;
  std::string service;
  friend bool operator<(const flow_service& a, const flow_service& b) {
    return a.flow != b.flow ? a.flow < b.flow : a.service < b.service;
  }
  friend bool operator==(const flow_service& a, const flow_service& b) {
    return a.flow == b.flow && a.service == b.service;
  }
};

struct write_result {
  std::vector<position_outcome> sources;         // per request source
  std::map<flow_service, std::int64_t> written;  // rows applied (folded ones included, each for its own service)
  std::map<flow_service, std::int64_t> failed;   // rows PostgreSQL rejected (sent to the error log)
  std::map<flow_service, std::int64_t> logged;   // entries written to an error log (failed rows + processor
                                                 // errors of sources that advanced)
  std::size_t error_log_rows = 0;                // all error-log rows written (the sum of `logged`)
  std::size_t error_log_fallback = 0;            // of which went to <kafnus schema>.error_log
  std::size_t error_log_lost = 0;                // entries no error log could take (counted, logged by the caller)
  std::string error_log_lost_reason;
  std::array<std::size_t, 3> dropped_attributes{};  // per ngsi::flow
  std::size_t added_columns = 0;
  int attempts = 0;                   // transactions started (1 when nothing failed)
  bool isolated = false;              // the batch was written in isolating mode (rows may or may not have failed)
  std::size_t rows_rejected() const;  // sum of `failed`
};

class batch_writer {
 public:
  // On a session, the groups that go straight into their table (historic)
  // are sent by binary COPY where their columns allow it (binary_copy.hpp);
  // on any other libpqxx connection, as COPY text.
  batch_writer(session& conn, std::string kafnus_schema, std::string group, unknown_column_policy policy,
               table_schema_cache& schemas);
  batch_writer(pqxx::connection_base& conn, std::string kafnus_schema, std::string group, unknown_column_policy policy,
               table_schema_cache& schemas);

  ~batch_writer();
  batch_writer(const batch_writer&) = delete;
  batch_writer& operator=(const batch_writer&) = delete;

  // Throws on a transient or unknown failure (see above); returns otherwise.
  write_result write(const write_request& request, write_mode mode = write_mode::normal);

  // write() in two halves, so that the caller can work while PostgreSQL
  // runs the transaction's last statements and flushes its commit: start()
  // runs the transaction up to its commit and sends that (on a session;
  // elsewhere it commits before returning); finish() waits for the outcome
  // and returns what write() would. A failure of either throws what write()
  // would; a failure found by finish() that calls for isolating rows runs
  // the isolating attempts within finish(). `request` must outlive finish(),
  // and nothing else may use the connection in between (prepare() does
  // not: it needs no database).
  void start(const write_request& request, write_mode mode = write_mode::normal);
  write_result finish();
  bool started() const { return open_ != nullptr; }
  // Whether finish() would return (or throw) without waiting for PostgreSQL.
  bool finished_by_database();

  // Plans `next` and builds its COPY data now (no database: CPU only, while
  // a transaction started before runs), for the write of the same rows that
  // comes next. That write uses it when nothing it depends on changed: the
  // same rows (every source advanced), the same table schemas, not
  // isolating; otherwise it is dropped and the work done again.
  void prepare(const write_request& next);
  // Writes that used prepare()'s work so far.
  std::size_t preparations_used() const { return preparations_used_; }
  // Optimistic attempts whose positions were not all where they expected
  // them (each followed by a careful one; batch_writer.cpp,
  // advance_sources), so far.
  std::size_t optimistic_misses() const { return optimistic_misses_; }

  // Staging tables known to exist on this connection (bounded: shapes come
  // from message content).
  std::size_t staging_tables() const { return stages_.size(); }
  static constexpr std::size_t kMaxStagingTables = 256;
  // Group statements prepared on this connection (bounded like the staging
  // tables: one per target table and column set).
  std::size_t prepared_statements() const { return prepared_.size(); }
  static constexpr std::size_t kMaxPreparedStatements = 256;
  // One-row INSERTs prepared for the shapes of direct groups written
  // inline (below) once a shape comes back in a later transaction, and the
  // shapes seen once (bounded the same way).
  std::size_t prepared_inserts() const;
  // Both kinds of statement: once the bound is reached, a new statement
  // takes the place of the least recently used one only if that one has not
  // run for kPreparedIdleWrites writes; otherwise it runs unprepared. A
  // writer whose transactions each touch more tables than the bound keeps
  // the statements it has, rather than prepare, run once and deallocate
  // one per table in every transaction. Each PREPARE is a query of its own
  // (with the DEALLOCATE of what it replaces): PostgreSQL keeps a prepared
  // statement's whole query string, and copies it at every EXECUTE. The
  // idle time is long enough that statements used every few dozen writes
  // (a thousand tables at 5,000/s, ~27 rows a transaction) are not
  // replaced one PREPARE round trip at a time.
  static constexpr std::uint64_t kPreparedIdleWrites = 64;
  static constexpr std::size_t kMaxPreparedInserts = 256;
  // A group of at most this many rows (or a staging table's share of the
  // batch) is not COPied: its rows go as an INSERT … VALUES of literals with
  // the batch's other statements, in one round trip, where each COPY takes
  // two. PostgreSQL parses literals at a higher cost per row than COPY
  // text: at 5,000/s (a row or two per table) 4 took the daemon and
  // PostgreSQL together from ~129 to ~92 µs per notification, at 20,000/s
  // (~5 per table) it cost about what COPY did, and 16 cost more
  // (bench/README). A backlog's groups are far larger. Changeable for tests
  // and measurements (0: always COPY).
  // A direct group's rows go as EXECUTEs of its shape's prepared one-row
  // INSERT once the shape is seen again: PostgreSQL then neither parses,
  // analyses nor plans an INSERT for them (three fifths of its CPU at
  // 5,000/s with literal INSERTs, bench/README).
  static constexpr std::size_t kInlineRows = 4;
  void set_inline_rows(std::size_t rows) { inline_rows_ = rows; }
  // Binary COPY on or off (on by default on a session), for tests and
  // measurements.
  void set_binary_copy(bool on) { binary_copy_ = on && session_ != nullptr; }

 private:
  struct attempt_state;
  struct group_state;
  struct open_attempt;
  struct preparation;
  // The write between start() and finish().
  struct job {
    const write_request* request = nullptr;
    bool isolate = false;
    int attempt = 1;
    std::unique_ptr<preparation> ready;  // prepare()'s work before start(): for this write only
    bool careful = false;                // positions first (an optimistic attempt missed)
  };
  void begin_attempts();
  void after_failed_attempt();
  // One transaction, in the steps below (numbered as they run), up to its
  // commit, sent.
  void run_attempt(open_attempt& a, const write_request& request);
  void after_commit(open_attempt& a);
  [[noreturn]] void rethrow_commit_failure(const open_attempt& a, const std::exception& e) const;
  write_plan make_plan(const std::vector<tagged_row>& rows,
                       const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of,
                       std::vector<std::pair<const ngsi::row*, std::string>>& unstorable);
  bool matches(const preparation& p, const attempt_state& st) const;
  std::map<std::string, std::vector<std::size_t>> staged_groups(const write_plan& plan, bool isolate,
                                                                std::vector<bool>* direct) const;
  void advance_sources(attempt_state& st, const write_request& request, const std::string& before);
  void load_schemas(attempt_state& st);
  void fetch_schemas(attempt_state& st, const std::vector<ngsi::table_ref>& tables);
  void add_missing_columns(attempt_state& st);
  write_plan plan_rows(attempt_state& st);
  std::vector<group_state> stage(attempt_state& st, const write_plan& plan);
  void write_group(attempt_state& st, const statement_group& group, const group_state& gs);
  void queue_statement(attempt_state& st, std::string_view sql);
  static std::string& next_statement(attempt_state& st);
  void send_group_statements(attempt_state& st);
  struct prepared_statement {
    std::string name;
    std::uint64_t used = 0;  // the write that last ran it
  };
  using statement_cache = bounded_lru<std::string, prepared_statement>;
  const std::string* kept_prepared(attempt_state& st, statement_cache& cache, const std::string& key,
                                   const char* prefix, const std::function<std::string()>& definition);
  const std::string* prepared(attempt_state& st, const std::string& sql);
  const std::string* prepared_insert(attempt_state& st, const statement_group& group);
  void or_isolate(const std::function<void()>& step) const;
  void write_error_log(attempt_state& st);
  // The kind of a failure as this writer treats it: transient when the
  // connection is gone, unknown as a row error in isolate_unknown mode.
  failure_kind kind_of(const std::exception& e) const;
  void drop_staging_tables(explicit_transaction& committed, const std::vector<std::string>& names);

  pqxx::connection_base& conn_;
  session* session_ = nullptr;  // conn_, when it lends libpq's handle
  bool binary_copy_ = false;
  std::string kafnus_schema_;
  std::string group_;
  unknown_column_policy policy_;
  table_schema_cache& schemas_;
  shape_cache shapes_;                                        // row shapes planned in earlier transactions
  bounded_lru<std::string, bool> stages_{kMaxStagingTables};  // staging tables created on this connection
  // Group statements prepared on this connection (their text → their name).
  statement_cache prepared_{kMaxPreparedStatements};
  // Direct groups' one-row INSERTs prepared on this connection (their
  // table, column names and types → their name), and the shapes seen once,
  // not prepared yet.
  statement_cache inserts_{kMaxPreparedInserts};
  bounded_lru<std::string, bool> inserts_seen_{kMaxPreparedInserts};
  std::string positions_statement_;         // the positions' compare-and-set, once prepared (its name)
  std::string strict_positions_statement_;  // its strict form, for optimistic attempts (its name)
  std::size_t optimistic_misses_ = 0;
  error_log_writer error_log_;
  bool unknown_is_data_ = false;
  std::size_t inline_rows_ = kInlineRows;
  std::uint64_t writes_ = 0;  // write() calls so far: the age of a prepared statement
  job job_;
  std::unique_ptr<open_attempt> open_;  // the attempt whose commit was sent (between start() and finish())
  std::unique_ptr<preparation> ready_;  // prepare()'s work, for the next start()
  std::size_t preparations_used_ = 0;
};

}  // namespace kafnus::postgis
