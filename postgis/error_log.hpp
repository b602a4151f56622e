#pragma once
// The per-service error log: <service>.<service>_error_log ("timestamp",
// error, query), created when missing. When the service has no schema (no
// table of it could exist either), entries go to <kafnus schema>.error_log
// with the service named, rather than creating schemas from message content.

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "ngsi/error_entry.hpp"
#include "postgis/bounded_lru.hpp"

namespace kafnus::postgis {

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
  std::size_t lost = 0;         // entries no error log could take (both inserts failed)
  std::string lost_reason;      // PostgreSQL's message of the failed fallback insert
  std::vector<bool> written;    // per entry: whether it is in an error log
};

class error_log_writer {
 public:
  // `capacity`: how many services' error-log tables are remembered as
  // existing (services come from message content).
  explicit error_log_writer(std::string kafnus_schema, std::size_t capacity = 1024)
      : kafnus_schema_(std::move(kafnus_schema)), known_(capacity) {}

  // Inserts the entries within `tx`, each table in its own savepoint: an
  // unusable error-log table sends its rows to the fallback, and when even
  // the fallback refuses them they are counted as lost instead of failing
  // the transaction (its rows and positions). A transient failure
  // (connection lost, …) escapes, and so does an unknown one unless
  // `unknown_is_data` (the writer's backstop).
  error_log_counts write(pqxx::transaction_base& tx, const std::vector<ngsi::error_entry>& entries,
                         bool unknown_is_data = false);

  // Forget which tables are known to exist (after a rollback).
  void forget() { known_.clear(); }
  std::size_t known_tables() const { return known_.size(); }

 private:
  bool ensure_table(pqxx::transaction_base& tx, const std::string& service);
  std::string kafnus_schema_;
  bounded_lru<std::string, bool> known_;  // services whose error-log table exists
};

}  // namespace kafnus::postgis
