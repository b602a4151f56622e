#include "actors/writer.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include <caf/all.hpp>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "actors/failure_log.hpp"
#include "actors/retry_policy.hpp"
#include "messages/atoms.hpp"
#include "messages/batch_split.hpp"
#include "messages/types.hpp"
#include "postgis/batch_writer.hpp"
#include "postgis/connection.hpp"
#include "postgis/error_class.hpp"
#include "postgis/offsets_store.hpp"
#include "postgis/retry_backstop.hpp"
#include "postgis/transaction_size.hpp"
#include "telemetry/log.hpp"

namespace kafnus {
namespace {

using std::chrono::steady_clock;
constexpr auto kHealthCheck = std::chrono::seconds(5);

class writer_impl : public msg::writer_actor::base {
 public:
  writer_impl(caf::actor_config& cfg, writer_wiring w)
      : msg::writer_actor::base(cfg),
        w_(std::move(w)),
        retry_(std::chrono::milliseconds(w_.settings->writer.retry_initial_ms),
               std::chrono::milliseconds(w_.settings->writer.retry_max_ms)),
        size_(w_.settings->batching.max_rows, w_.settings->postgres.statement_timeout_ms) {}

  behavior_type make_behavior() override {
    set_exception_handler(log_failure("writer.failed", "writer"));
    ensure_connected();
    delayed_send(this, kHealthCheck, msg::tick_atom::value);
    return {
        [this](msg::row_batch& b) {
          take(std::move(b));
          added();
        },
        [this](msg::polled_rows& p) {
          for (auto& b : p.batches) take(std::move(b));
          if (p.paced) {
            handed_over();
          } else {
            added();
          }
        },
        [this](msg::wire_atom, msg::ack_receiver consumer) { consumer_ = std::move(consumer); },
        [this](msg::flush_atom, std::uint64_t generation) {
          if (generation != generation_) return;  // an older timer: that batch was already written
          timer_due_.reset();
          if (!retrying_) flush();
        },
        [this](msg::retry_atom) {
          retrying_ = false;
          flush();
        },
        [this](msg::commit_atom) {
          commit_check_queued_ = false;
          if (!committing_) return;  // a flush finished it
          // Batches that arrived meanwhile go first (one of them may fill
          // the next transaction, which is then prepared while PostgreSQL
          // commits this one); the commit is waited for when nothing else is.
          if (!writer_->finished_by_database() && !mailbox().empty()) return check_commit_later();
          if (complete_commit()) after_transaction();
        },
        [this](msg::tick_atom) {
          check_connection();
          delayed_send(this, kHealthCheck, msg::tick_atom::value);
        },
    };
  }

  void on_exit() override {
    consumer_ = nullptr;  // handles between actors form a cycle; a finished actor lets go of its own
    writer_.reset();
    conn_.reset();
    set_db_up(false);
  }

 private:
  static std::int64_t rows_of(const msg::row_batch& b) {
    return static_cast<std::int64_t>(b.rows.size() + b.errors.size());
  }

  void take(msg::row_batch&& b) {
    pending_rows_ += rows_of(b);
    pending_bytes_ += b.bytes;
    pending_.push_back(std::move(b));
  }

  // Rows the consumer spaced itself (msg::polled_rows::paced): a
  // transaction now, or once the commit on its way is answered. The
  // writer's own timer then stays idle at a steady low rate: the rows of
  // one spacing arrive together, when the consumer polls them.
  void handed_over() {
    if (retrying_) return;  // the retry keeps to its own batches; these wait for the next transaction
    if (!committing_) return flush();
    handover_waiting_ = true;
    flush_if_next_is_full();
  }

  // Batches just taken (a processor's, or the consumer's unpaced): written
  // when the database is free and the spacing allows (below).
  void added() {
    if (retrying_) return;  // the retry keeps to its own batches; this one waits for the next transaction
    const auto& lim = w_.settings->batching;
    if (committing_) return flush_if_next_is_full();
    if (pending_rows_ >= size_.rows() || pending_bytes_ >= lim.max_bytes || lim.max_delay_ms == 0) return flush();
    // Group commit: write as soon as no other batch is waiting in the
    // mailbox. While a transaction runs, batches queue up and go together in
    // the next one, so batches grow with the load and a lone notification
    // waits for nothing. max_delay_ms bounds the wait when batches keep
    // arriving without filling max_rows.
    // Under a steady trickle the database would be free again after every
    // few rows and each transaction would carry a handful of them over many
    // tables, the statements and the commit costing more than the rows (470
    // transactions/s of 10 rows at 5,000 notifications/s): min_interval_ms
    // spaces the starts of transactions that are not full, so the rows of
    // those few milliseconds go together.
    const auto now = steady_clock::now();
    if (mailbox().empty()) {
      const auto next_start = last_start_ + std::chrono::milliseconds(lim.min_interval_ms);
      if (now >= next_start) return flush();
      arm_flush(next_start);
    } else {
      arm_flush(now + std::chrono::milliseconds(lim.max_delay_ms));
    }
  }

  // While a transaction's commit is on its way: once the batches waiting
  // fill the next one, that is prepared meanwhile (flush). Otherwise they
  // wait for the commit's answer, as they would for the transaction.
  void flush_if_next_is_full() {
    const auto committing = inflight_extent();
    if (pending_rows_ - committing.rows >= size_.rows() ||
        pending_bytes_ - committing.bytes >= w_.settings->batching.max_bytes) {
      flush();
    }
  }

  // A flush at `due` at the latest (an earlier one armed already stands).
  // One due already goes behind the messages waiting, without a timer (a
  // timer is a wake-up of CAF's clock thread, then of this one).
  void arm_flush(steady_clock::time_point due) {
    if (timer_due_ && *timer_due_ <= due) return;
    timer_due_ = due;
    const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(due - steady_clock::now());
    if (wait.count() <= 0) return send(this, msg::flush_atom::value, generation_);
    delayed_send(this, wait, msg::flush_atom::value, generation_);
  }

  // The leading pending batches the next transaction takes (splitting the
  // first when it alone is too large): at most the current transaction
  // size in rows and batching.max_bytes, so a retry never grows.
  std::size_t choose_transaction(std::size_t within) {
    const auto cut = cut_of(0, within);
    if (cut.whole > 0) return cut.whole;
    auto& head = pending_.front();
    const auto k = postgis::split_point(record_row_ends(head), cut.split_rows);
    if (k >= head.records.size()) return 1;  // one record: a transaction of its own, whatever its size
    auto parts = split_batch(std::move(head), k);
    pending_.front() = std::move(parts.first);
    pending_.insert(pending_.begin() + 1, std::move(parts.second));
    return 1;
  }

  // Where a transaction of the batches pending_[first, end) would end.
  postgis::transaction_cut cut_of(std::size_t first, std::size_t end) const {
    std::vector<postgis::batch_extent> extents;
    std::int64_t rows = 0;
    for (std::size_t i = first; i < end; ++i) {
      extents.push_back({rows_of(pending_[i]), pending_[i].bytes});
      rows += extents.back().rows;
      if (rows > size_.rows()) break;  // enough to decide
    }
    return postgis::choose_cut(extents, size_.rows(), w_.settings->batching.max_bytes);
  }

  // Rows and bytes of the transaction being written or retried.
  postgis::batch_extent inflight_extent() const {
    postgis::batch_extent e;
    for (std::size_t i = 0; i < inflight_; ++i) {
      e.rows += rows_of(pending_[i]);
      e.bytes += pending_[i].bytes;
    }
    return e;
  }
  std::int64_t inflight_rows() const { return inflight_extent().rows; }

  // The position updates and rows of pending_[first, first + count): the
  // consecutive batches of a partition move its position once (one
  // compare-and-set per partition and transaction, however small the
  // batches the consumer handed over). `source_of`: each batch's source.
  postgis::write_request build_request(std::size_t first, std::size_t count,
                                       std::vector<std::size_t>& source_of) const {
    postgis::write_request req;
    source_of.assign(count, 0);
    std::vector<std::uint64_t> source_epoch;  // assignment epoch of each position update
    std::map<std::pair<std::string, std::int32_t>, std::size_t> last_source;
    for (std::size_t i = 0; i < count; ++i) {
      const auto& b = pending_[first + i];
      const auto key = std::make_pair(b.source.topic, b.source.partition);
      auto it = last_source.find(key);
      if (it != last_source.end() && req.sources[it->second].next == b.source.expected_position &&
          source_epoch[it->second] == b.source.epoch) {
        req.sources[it->second].next = b.source.next_position;
        source_of[i] = it->second;
      } else {
        source_of[i] = req.sources.size();
        last_source[key] = req.sources.size();
        source_epoch.push_back(b.source.epoch);
        req.sources.push_back(postgis::position_update{b.source.topic, b.source.partition, b.source.expected_position,
                                                       b.source.next_position});
      }
      for (const auto& r : b.rows) req.rows.push_back(postgis::tagged_row{&r, source_of[i]});
      for (const auto& e : b.errors) {
        req.errors.push_back(postgis::request_error{e.entry, source_of[i], e.flow});
      }
    }
    return req;
  }

  void flush() {
    if (pending_.empty()) return;
    ++generation_;  // any armed delay timer is now stale
    timer_due_.reset();
    handover_waiting_ = false;  // its rows go now (or, when the commit fails, with the retry)
    if (committing_) {
      prepare_next();
      if (!complete_commit() || pending_.empty()) return;
    }
    if (!ensure_connected()) return schedule_retry();
    if (inflight_ == 0) inflight_ = choose_transaction(pending_.size());
    request_ = build_request(0, inflight_, source_of_);

    t0_ = steady_clock::now();
    last_start_ = t0_;
    prepare_seconds_ = 0;
    const auto mode = backstop_.isolate() ? postgis::write_mode::isolate_unknown : postgis::write_mode::normal;
    try {
      writer_->start(request_, mode);
    } catch (const std::exception& e) {
      on_failure(e);
      return;
    }
    // The answer is read when the batches that arrive meanwhile have been
    // taken in (the commit_atom handler).
    committing_ = true;
    check_commit_later();
  }

  // A commit_atom behind the messages in the mailbox (one at a time).
  void check_commit_later() {
    if (commit_check_queued_) return;
    commit_check_queued_ = true;
    send(this, msg::commit_atom::value);
  }

  // While PostgreSQL runs the last statements and the commit of the
  // transaction sent, the writer plans the next one and builds its COPY
  // data (postgis::batch_writer::prepare) when its batches are here: the
  // whole batches after the transaction's that the next one would take.
  void prepare_next() {
    if (inflight_ == pending_.size()) return;
    const auto cut = cut_of(inflight_, pending_.size());
    if (cut.whole == 0) return;
    const auto t = steady_clock::now();
    std::vector<std::size_t> source_of;
    writer_->prepare(build_request(inflight_, cut.whole, source_of));
    prepare_seconds_ += std::chrono::duration<double>(steady_clock::now() - t).count();
  }

  // Waits for the answer to the commit sent, then acknowledges the
  // transaction's batches. False when it failed (a retry is scheduled).
  bool complete_commit() {
    committing_ = false;
    postgis::write_result res;
    try {
      res = writer_->finish();
    } catch (const std::exception& e) {
      on_failure(e);
      return false;
    }
    // The transaction's time, less the next one's preparation meanwhile.
    const double seconds = std::chrono::duration<double>(steady_clock::now() - t0_).count() - prepare_seconds_;
    report(res, seconds);
    if (retry_.failures() > 0) {
      log::info("db.recovered", "writes succeed again", {{"failed_attempts", std::to_string(retry_.failures())}});
    }
    retry_.reset();
    backstop_.reset();
    const auto committed_rows = inflight_rows();
    size_.on_commit(committed_rows, seconds);

    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (std::size_t i = 0; i < inflight_; ++i) {
      auto& b = pending_[i];
      const bool conflict = res.sources[source_of_[i]] == postgis::position_outcome::conflict;
      if (!conflict && b.source.oldest_timestamp_ms > 0) {
        w_.m->end_to_end_seconds().Observe(static_cast<double>(now_ms - b.source.oldest_timestamp_ms) / 1000.0);
      }
      send(consumer_, msg::write_ack{b.source, conflict ? msg::ack_status::conflict : msg::ack_status::committed});
      pending_rows_ -= rows_of(b);
      pending_bytes_ -= b.bytes;
    }
    request_ = {};
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(inflight_));
    inflight_ = 0;
    return true;
  }

  // Batches that waited for the transaction: at once when they fill one,
  // else as a new batch would be.
  void after_transaction() {
    if (pending_.empty()) return;
    if (handover_waiting_ || pending_rows_ >= size_.rows() || pending_bytes_ >= w_.settings->batching.max_bytes) {
      arm_flush(steady_clock::now());
    } else {
      arm_flush(std::max(steady_clock::now(),
                         last_start_ + std::chrono::milliseconds(w_.settings->batching.min_interval_ms)));
    }
  }

  void report(const postgis::write_result& res, double seconds) {
    auto& m = *w_.m;
    m.db_write_seconds().Observe(seconds);
    m.db_transactions().Increment();
    std::int64_t rows = 0;
    for (const auto& [fs, n] : res.written) {
      rows += n;
      m.rows_written(fs.flow, fs.service).Increment(static_cast<double>(n));
    }
    for (const auto& [fs, n] : res.failed) m.health().flows[static_cast<std::size_t>(fs.flow)].errors += n;
    // Entries actually written to an error log: rejected rows, and the
    // processors' errors of sources that advanced (not those of a conflicting
    // or already committed source, which were never written).
    for (const auto& [fs, n] : res.logged) {
      m.error_log_rows(fs.flow, fs.service).Increment(static_cast<double>(n));
      m.health().error_log_last_hour.add(fs.service, n);
    }
    m.health().last_commit_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (auto f : ngsi::kAllFlows) {
      const auto dropped = res.dropped_attributes[static_cast<std::size_t>(f)];
      if (dropped) m.flow(f).dropped_attributes->Increment(static_cast<double>(dropped));
    }
    m.db_batch_rows().Observe(static_cast<double>(rows));
    // A rejection is logged only when something was rejected.
    if (const auto rejected = res.rows_rejected(); rejected > 0) {
      log::info("db.rows_isolated", "some rows were rejected by PostgreSQL; they went to the error log",
                {{"rows_failed", std::to_string(rejected)}, {"attempts", std::to_string(res.attempts)}});
    } else if (res.isolated) {
      log::debug("db.isolation_found_nothing", "the batch was written isolating rows, and every row was written",
                 {{"attempts", std::to_string(res.attempts)}});
    }
    if (res.error_log_lost) {
      log::error("db.error_log_lost",
                 "error-log entries could not be written to any error log (the service's nor " +
                     w_.settings->postgres.offsets_schema + ".error_log); counted and skipped",
                 {{"entries", std::to_string(res.error_log_lost)}, {"error", res.error_log_lost_reason}});
      m.error_log_lost().Increment(static_cast<double>(res.error_log_lost));
    }
    if (res.error_log_fallback) {
      log::warn("db.error_log_fallback",
                "error-log entries of services without a schema went to " + w_.settings->postgres.offsets_schema +
                    ".error_log",
                {{"rows", std::to_string(res.error_log_fallback)}});
    }
    if (res.added_columns) {
      log::info("db.columns_added", "added missing columns (writer.unknown_columns: add)",
                {{"columns", std::to_string(res.added_columns)}});
    }
  }

  void on_failure(const std::exception& e) {
    w_.m->db_retries().Increment();
    const bool lost = conn_ == nullptr || !conn_->is_open() || dynamic_cast<const pqxx::broken_connection*>(&e) ||
                      dynamic_cast<const pqxx::in_doubt_error*>(&e);
    const auto kind = lost ? postgis::failure_kind::transient : postgis::classify(e);
    const auto sqlstate = postgis::sqlstate_of(e);
    const bool transient = kind == postgis::failure_kind::transient;
    if (lost) drop_connection(postgis::error_message(e));
    const auto rows = inflight_rows();
    backstop_.on_failure(transient);
    const auto wait = retry_.next();
    log::warn("db.write_failed", "transaction failed; retrying the same batch",
              {{"error", postgis::error_message(e)},
               {"sqlstate", sqlstate},
               {"transient", transient ? "true" : "false"},
               {"kind", postgis::to_string(kind)},
               {"rows", std::to_string(rows)},
               {"retry_in_ms", std::to_string(wait.count())},
               {"attempt", std::to_string(retry_.failures())}});
    // A statement timeout on the same transaction twice: too large for what
    // the table allows within postgres.statement_timeout_ms; halve it.
    if (sqlstate == "57014" && size_.on_statement_timeout(rows)) {
      inflight_ = choose_transaction(inflight_);
      backstop_.reset();
      log::warn("db.transaction_halved",
                "the same transaction hit postgres.statement_timeout_ms twice; writing it in smaller transactions",
                {{"rows", std::to_string(rows)}, {"now_rows", std::to_string(inflight_rows())}});
    } else if (backstop_.isolate() && backstop_.failures() == postgis::retry_backstop::kFailuresBeforeIsolating) {
      log::warn("db.isolating_repeated_failure",
                "the same transaction failed the same non-transient way repeatedly; writing it isolating rows, "
                "an unknown failure counting as a data error",
                {{"sqlstate", sqlstate}, {"failures", std::to_string(backstop_.failures())}});
    }
    retrying_ = true;
    delayed_send(this, wait, msg::retry_atom::value);
  }

  void schedule_retry() {
    const auto wait = retry_.next();
    retrying_ = true;
    delayed_send(this, wait, msg::retry_atom::value);
  }

  bool ensure_connected() {
    if (conn_ && conn_->is_open() && writer_) return true;
    try {
      const auto& pg = w_.settings->postgres;
      conn_ = postgis::connect(pg, "writer");
      postgis::ensure_kafnus_tables(*conn_, pg.offsets_schema);
      postgis::preload_postgis(*conn_);
      writer_ = std::make_unique<postgis::batch_writer>(*conn_, pg.offsets_schema, w_.settings->kafka.group_id,
                                                        w_.settings->writer.unknown_columns, schemas_);
      set_db_up(true);
      log::info("db.connected", "connected to PostgreSQL", {{"database", postgis::describe(pg)}});
      return true;
    } catch (const std::exception& e) {
      writer_.reset();
      conn_.reset();
      set_db_up(false);
      if (!reported_unreachable_) {
        log::error("db.unreachable", "cannot connect to PostgreSQL; retrying with backoff",
                   {{"database", postgis::describe(w_.settings->postgres)}, {"error", postgis::error_message(e)}});
        reported_unreachable_ = true;
      }
      return false;
    }
  }

  void drop_connection(const std::string& why) {
    writer_.reset();
    conn_.reset();
    if (db_up_) log::error("db.lost", "lost the PostgreSQL connection; reconnecting", {{"error", why}});
    set_db_up(false);
  }

  // Keeps /health and kafnus_postgres_up true to the database's state even
  // when no rows arrive.
  void check_connection() {
    if (!pending_.empty()) return;  // the write path itself will find out
    if (!conn_) {
      ensure_connected();
      return;
    }
    try {
      pqxx::nontransaction(*conn_).exec("SELECT 1");
    } catch (const std::exception& e) {
      drop_connection(postgis::error_message(e));
    }
  }

  void set_db_up(bool up) {
    if (up) reported_unreachable_ = false;
    db_up_ = up;
    w_.m->postgres_up().Set(up ? 1 : 0);
    w_.m->health().db_connected = up;
  }

  writer_wiring w_;
  msg::ack_receiver consumer_;  // where batches are acknowledged (wired by the supervisor)
  retry_policy retry_;
  std::unique_ptr<postgis::session> conn_;
  std::unique_ptr<postgis::batch_writer> writer_;
  postgis::table_schema_cache schemas_;
  postgis::transaction_size size_;  // rows one transaction may take now
  postgis::retry_backstop backstop_;
  std::deque<msg::row_batch> pending_;  // in arrival order: a partition's batches in offset order
  std::size_t inflight_ = 0;            // leading pending_ batches of the transaction being written or retried
  postgis::write_request request_;      // their rows and positions (while the transaction is written)
  std::vector<std::size_t> source_of_;  // each of those batches' source in request_
  bool committing_ = false;             // its commit is sent; complete_commit() reads the answer
  bool commit_check_queued_ = false;    // a commit_atom is in the mailbox
  bool handover_waiting_ = false;       // paced rows of the consumer wait for the commit on its way
  steady_clock::time_point t0_{};       // when the transaction started
  double prepare_seconds_ = 0;          // spent meanwhile preparing the next one
  std::int64_t pending_rows_ = 0;
  std::int64_t pending_bytes_ = 0;
  std::uint64_t generation_ = 0;
  std::optional<steady_clock::time_point> timer_due_;  // of the armed flush timer, if any
  steady_clock::time_point last_start_{};              // of the last transaction
  bool retrying_ = false;
  bool db_up_ = false;
  bool reported_unreachable_ = false;
};

}  // namespace

msg::writer_actor spawn_writer(caf::local_actor* parent, writer_wiring wiring) {
  if (!wiring.detached) return parent->spawn<writer_impl>(std::move(wiring));
  return parent->spawn<writer_impl, caf::detached>(std::move(wiring));
}

}  // namespace kafnus
