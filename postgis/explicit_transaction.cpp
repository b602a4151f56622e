#include "postgis/explicit_transaction.hpp"

#include <libpq-fe.h>

#include <utility>

#include <pqxx/except>

namespace kafnus::postgis {

void explicit_transaction::send_commit(session& s, const std::string& statements) {
  open_ = false;
  sent_query_ = commit_query(statements);
  PGconn* pg = s.raw_handle();
  try {
    if (pg == nullptr) throw pqxx::broken_connection("the connection closed before its commit was sent");
    // libpqxx leaves the end of a COPY's results unread (its next PQexec
    // would discard it, as this does).
    while (PGresult* left = PQgetResult(pg)) PQclear(left);
    if (PQsendQuery(pg, sent_query_.c_str()) != 1) throw_result_error(pg, nullptr, sent_query_);
  } catch (...) {
    rollback_quietly();
    throw;
  }
  sent_ = pg;
}

// Reads the sent commit's next result (waiting for it when it has not
// arrived); the first error is kept for finish_commit(). False once there
// are no more.
bool explicit_transaction::read_result() {
  PGresult* res = PQgetResult(sent_);
  if (res == nullptr) {
    complete_ = true;
    return false;
  }
  answered_ = true;
  const auto status = PQresultStatus(res);
  if (error_ == nullptr && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    error_ = res;
  } else {
    PQclear(res);
  }
  return true;
}

bool explicit_transaction::commit_answered() {
  if (sent_ == nullptr || complete_) return true;
  if (PQconsumeInput(sent_) != 1) return true;  // the connection failed: finish_commit() says so
  while (PQisBusy(sent_) == 0) {
    if (!read_result()) return true;
  }
  return false;
}

void explicit_transaction::finish_commit() {
  PGconn* pg = sent_;
  if (pg == nullptr) return;
  try {
    while (!complete_) read_result();
    sent_ = nullptr;
    PGresult* error = std::exchange(error_, nullptr);
    // No result at all: the connection went before the first one.
    if (error != nullptr || !answered_) throw_result_error(pg, error, sent_query_);
  } catch (...) {
    sent_ = nullptr;
    rollback_quietly();
    throw;
  }
}

void explicit_transaction::drain_quietly() noexcept {
  while (!complete_) read_result();
  if (error_ != nullptr) PQclear(std::exchange(error_, nullptr));
  sent_ = nullptr;
}

}  // namespace kafnus::postgis
