#pragma once
// The per-service error log: <service>.<service>_error_log ("timestamp",
// error, query), created when missing. When the service has no schema (no
// table of it could exist either), entries go to <kafnus schema>.error_log
// with the service named, rather than creating schemas from message content.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <pqxx/dbtransaction>

namespace kafnus::postgis {

struct error_log_entry {
  std::string service;  // lower-cased fiware-service
  std::int64_t timestamp_us = 0;
  std::string error;
  std::string query;
};

inline constexpr std::size_t kMaxErrorChars = 4000;
inline constexpr std::size_t kMaxQueryBytes = 256 * 1024;

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD
// and NUL written as \0: what a text column can hold.
std::string printable_utf8(const std::string& text);

// Cuts `text` to at most `max` bytes on a UTF-8 boundary, saying how much was cut.
std::string truncate_utf8(const std::string& text, std::size_t max);

struct error_log_counts {
  std::size_t per_service = 0;  // rows in <service>.<service>_error_log tables
  std::size_t fallback = 0;     // rows in <kafnus schema>.error_log
};

class error_log_writer {
 public:
  explicit error_log_writer(std::string kafnus_schema) : kafnus_schema_(std::move(kafnus_schema)) {}

  // Inserts the entries within `tx` (each table in its own savepoint, so an
  // unusable error-log table sends its rows to the fallback instead of
  // failing the transaction).
  error_log_counts write(pqxx::dbtransaction& tx, const std::vector<error_log_entry>& entries);

  // Forget which tables are known to exist (after a rollback).
  void forget() { known_.clear(); }

 private:
  bool ensure_table(pqxx::transaction_base& tx, const std::string& service);
  std::string kafnus_schema_;
  std::set<std::string> known_;  // services whose error-log table exists
};

}  // namespace kafnus::postgis
