#include "postgis/error_log.hpp"

#include <map>

#include "ngsi/table_name.hpp"
#include "ngsi/value.hpp"
#include "postgis/error_class.hpp"
#include "postgis/savepoint.hpp"
#include "postgis/sql.hpp"
#include "text/utf8.hpp"

namespace kafnus::postgis {
namespace {

std::string values_row(const ngsi::error_entry& e, bool with_service) {
  std::string s = "(" + quote_literal(ngsi::value::timestamp(e.timestamp_us).text) + "::timestamptz, ";
  if (with_service) s += quote_literal(printable_utf8(e.service)) + ", ";
  s += quote_literal(truncate_utf8(printable_utf8(e.error), kMaxErrorChars)) + ", ";
  s += e.query.empty() ? std::string("NULL") : quote_literal(truncate_utf8(printable_utf8(e.query), kMaxQueryBytes));
  return s + ")";
}

// One multi-row INSERT per chunk of entries.
void insert_rows(pqxx::transaction_base& tx, const std::string& head, const std::vector<const ngsi::error_entry*>& rows,
                 bool with_service) {
  constexpr std::size_t kChunk = 500;
  for (std::size_t i = 0; i < rows.size(); i += kChunk) {
    std::string sql = head;
    for (std::size_t j = i; j < rows.size() && j < i + kChunk; ++j) {
      if (j > i) sql += ", ";
      sql += values_row(*rows[j], with_service);
    }
    tx.exec(sql);
  }
}

}  // namespace

std::string printable_utf8(const std::string& text) {
  // NUL, which PostgreSQL's text cannot hold, written as \0; every byte that
  // is not UTF-8 as U+FFFD.
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      out += "\\0";
      ++i;
      continue;
    }
    const auto len = text::utf8_sequence_length(std::string_view(text).substr(i));
    if (len == 0) {
      out += text::kReplacementCharacter;
      ++i;
      continue;
    }
    out.append(text, i, len);
    i += len;
  }
  return out;
}

std::string truncate_utf8(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  const auto kept = text::utf8_prefix(text, max);
  return std::string(kept) + "… [truncated " + std::to_string(text.size() - kept.size()) + " bytes]";
}

bool error_log_writer::ensure_table(pqxx::transaction_base& tx, const std::string& service) {
  if (known_.find(service)) return true;
  const auto table = ngsi::error_log_table(service);
  auto r = tx.exec_params(
      "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1), "
      "EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2)",
      table.schema, table.table);
  const bool schema_exists = r[0][0].as<bool>();
  const bool table_exists = r[0][1].as<bool>();
  if (!schema_exists) return false;
  if (!table_exists) {
    tx.exec("CREATE TABLE IF NOT EXISTS " + qualified(table) +
            " (\"timestamp\" timestamptz NOT NULL, error text NOT NULL, query text NULL)");
  }
  known_.put(service, true);
  return true;
}

error_log_counts error_log_writer::write(pqxx::transaction_base& tx, const std::vector<ngsi::error_entry>& entries,
                                         bool unknown_is_data) {
  auto retryable = [&](const std::exception& e) {
    const auto kind = classify(e);
    return kind == failure_kind::transient || (kind == failure_kind::unknown && !unknown_is_data);
  };
  error_log_counts counts;
  counts.written.assign(entries.size(), false);
  if (entries.empty()) return counts;
  std::map<std::string, std::vector<std::size_t>> by_service;
  for (std::size_t i = 0; i < entries.size(); ++i) by_service[entries[i].service].push_back(i);
  auto pointers = [&](const std::vector<std::size_t>& idx) {
    std::vector<const ngsi::error_entry*> rows;
    rows.reserve(idx.size());
    for (auto i : idx) rows.push_back(&entries[i]);
    return rows;
  };
  std::vector<std::size_t> fallback;
  for (const auto& entry : by_service) {
    const auto& service = entry.first;  // (named, not bound: a lambda below captures them)
    const auto& idx = entry.second;
    bool written = false;
    try {
      in_savepoint(tx, [&] {
        if (ensure_table(tx, service)) {
          const auto table = ngsi::error_log_table(service);
          insert_rows(tx, "INSERT INTO " + qualified(table) + " (\"timestamp\", error, query) VALUES ", pointers(idx),
                      false);
          written = true;
        }
      });
    } catch (const std::exception& e) {
      if (retryable(e)) throw;
      known_.erase(service);  // an unusable table: its rows go to the fallback below
    }
    if (written) {
      counts.per_service += idx.size();
      for (auto i : idx) counts.written[i] = true;
    } else {
      fallback.insert(fallback.end(), idx.begin(), idx.end());
    }
  }
  if (!fallback.empty()) {
    try {
      in_savepoint(tx, [&] {
        insert_rows(
            tx,
            "INSERT INTO " + quote_ident(kafnus_schema_) + ".error_log (\"timestamp\", service, error, query) VALUES ",
            pointers(fallback), true);
      });
      counts.fallback = fallback.size();
      for (auto i : fallback) counts.written[i] = true;
    } catch (const std::exception& e) {
      if (retryable(e)) throw;
      counts.lost = fallback.size();
      counts.lost_reason = error_message(e);
    }
  }
  return counts;
}

}  // namespace kafnus::postgis
