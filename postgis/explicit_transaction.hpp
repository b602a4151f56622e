#pragma once
// One database transaction that survives its failed statements, for
// isolating bad rows in savepoints.
//
// libpqxx 6.4's pqxx::work aborts itself as soon as a statement sent with
// exec() fails — the start of a COPY (tablewriter), CREATE, ALTER, INSERT …
// VALUES — after which even "ROLLBACK TO SAVEPOINT" is refused ("Attempt to
// activate transaction … which is already closed"), and the failure of one
// table's statement would fail the whole batch. So the writer sends BEGIN
// and COMMIT itself on a pqxx::nontransaction, whose failed statements leave
// it usable; PostgreSQL still sees one transaction.

#include <string>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "postgis/connection.hpp"

namespace kafnus::postgis {

class explicit_transaction {
 public:
  enum class begin { now, with_first_statement };
  // BEGIN is sent at once, or (begin::with_first_statement) left to the
  // caller to send with its first statement, in one round trip: that
  // statement must start with begin_statement().
  explicit explicit_transaction(pqxx::connection_base& conn, begin when = begin::now) : tx_(conn) {
    if (when == begin::now) tx_.exec("BEGIN");
  }
  static std::string begin_statement() { return "BEGIN"; }
  ~explicit_transaction() {
    if (sent_ != nullptr) {
      drain_quietly();  // a commit sent and never finished: its outcome is not needed
    } else if (open_) {
      rollback_quietly();
    }
  }
  explicit_transaction(const explicit_transaction&) = delete;
  explicit_transaction& operator=(const explicit_transaction&) = delete;

  pqxx::transaction_base& tx() { return tx_; }

  // Commits, after `statements` (the transaction's last ones, sent in the
  // same round trip; none when empty). PostgreSQL answers COMMIT in a failed
  // transaction with a silent ROLLBACK, so a statement that fails in that
  // state goes first, in the same round trip: a transaction left failed by
  // mistake is an error here, never rows quietly lost. Throws what the
  // statements or COMMIT throw (a deferred constraint, a lost connection:
  // then the outcome is unknown, which the stored positions make safe to
  // retry); the transaction is rolled back then, if it is still open, so
  // the connection is ready for the next one.
  void commit(const std::string& statements = {}) {
    open_ = false;
    try {
      tx_.exec(commit_query(statements));
    } catch (...) {
      rollback_quietly();
      throw;
    }
  }
  // The same commit in two halves, so that the caller can work while
  // PostgreSQL runs the statements and flushes the commit: send_commit()
  // sends them (through libpq's handle of `s`, which must not be used
  // otherwise until finish_commit() returns) and returns at once;
  // finish_commit() waits for their outcome and throws what commit() would.
  // commit_answered() reads what has arrived without waiting: true once
  // every result of the sent commit is in (finish_commit() then returns or
  // throws at once), or when none was sent.
  void send_commit(session& s, const std::string& statements = {});
  bool commit_answered();
  void finish_commit();

  // Runs a statement after the commit (autocommit).
  void exec_after_commit(const std::string& sql) { tx_.exec(sql); }

 private:
  // (A ROLLBACK without a transaction only draws a warning.)
  void rollback_quietly() {
    try {
      tx_.exec("ROLLBACK");
    } catch (...) {
      // the connection is gone: so is the transaction
    }
  }

  // The statements, then a statement that fails in a failed transaction
  // (see commit()), then COMMIT.
  static std::string commit_query(const std::string& statements) {
    return statements.empty() ? "SELECT 1; COMMIT" : statements + ";\nSELECT 1; COMMIT";
  }
  void drain_quietly() noexcept;
  bool read_result();

  pqxx::nontransaction tx_;
  bool open_ = true;
  pqxx::internal::pq::PGconn* sent_ = nullptr;  // a commit sent and not finished yet
  std::string sent_query_;
  bool answered_ = false;                          // a result of it arrived
  bool complete_ = false;                          // all of them did
  pqxx::internal::pq::PGresult* error_ = nullptr;  // the first that reports an error
};

}  // namespace kafnus::postgis
