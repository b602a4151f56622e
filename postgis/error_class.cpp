#include "postgis/error_class.hpp"

#include <pqxx/except>

namespace kafnus::postgis {
namespace {

bool is_sqlstate(std::string_view s) {
  if (s.size() != 5) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// libpq's message with verbose error reporting starts "ERROR:  42501: …"
// (or FATAL/PANIC): the code after the severity label, if there is one.
std::string sqlstate_in_message(std::string_view text) {
  for (std::string_view label : {"ERROR:", "FATAL:", "PANIC:"}) {
    auto at = text.find(label);
    if (at == std::string_view::npos || (at > 0 && text[at - 1] != '\n')) continue;
    auto rest = text.substr(at + label.size());
    rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
    if (rest.size() > 5 && rest[5] == ':' && is_sqlstate(rest.substr(0, 5))) return std::string(rest.substr(0, 5));
  }
  return {};
}

// libpqxx 6.4 throws these classes for exactly one SQLSTATE each, without
// passing the code on (derived classes before their bases).
std::string sqlstate_of_class(const std::exception& e) {
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return "40001";
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return "40P01";
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) return "40003";
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e)) return "40000";
  if (dynamic_cast<const pqxx::too_many_connections*>(&e)) return "53300";
  return {};
}

}  // namespace

failure_kind classify_sqlstate(std::string_view s) {
  if (!is_sqlstate(s)) return failure_kind::unknown;
  const auto cls = s.substr(0, 2);
  if (cls == "08" ||                                   // connection exception
      s == "40001" || s == "40P01" || s == "40003" ||  // serialization failure, deadlock, completion unknown
      cls == "53" ||   // insufficient resources: too many connections, disk full, out of memory
      cls == "57" ||   // operator intervention: shutdown, cannot connect now, query canceled (statement_timeout)
      cls == "58" ||   // system error (I/O)
      s == "55P03" ||  // lock not available (lock_timeout)
      s == "55006" ||  // object in use
      s == "25006" ||  // read-only transaction: a standby, or a failover in progress
      s == "25P03" ||  // idle-in-transaction timeout
      s == "XX001" || s == "XX002") {  // data/index corrupted: retried, an operator must look
    return failure_kind::transient;
  }
  if (cls == "42" ||  // syntax error or access rule violation: undefined table/column, datatype
                      // mismatch, insufficient privilege, must be owner, wrong object type
      cls == "3F" ||  // invalid schema name
      cls == "0A" ||  // feature not supported
      s == "54001" || s == "54011" || s == "54023") {  // statement too complex, too many columns/arguments
    return failure_kind::statement;
  }
  return failure_kind::row;  // 22 data exception, 23 integrity constraint, 54000 row too big, XX000 (PostGIS), …
}

std::string sqlstate_of(const std::exception& e) {
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql && !sql->sqlstate().empty()) {
    return sql->sqlstate();
  }
  if (auto code = sqlstate_in_message(e.what()); !code.empty()) return code;
  return sqlstate_of_class(e);
}

failure_kind classify(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return failure_kind::transient;
  }
  return classify_sqlstate(sqlstate_of(e));
}

const char* to_string(failure_kind kind) {
  switch (kind) {
    case failure_kind::transient: return "transient";
    case failure_kind::unknown: return "unknown";
    case failure_kind::statement: return "statement";
    case failure_kind::row: return "row";
  }
  return "unknown";
}

std::string error_message(const std::exception& e) {
  // libpq's message: "ERROR:  primary\nDETAIL:  …\nHINT:  …\nLINE 1: …\n   ^\n",
  // with verbose errors "ERROR:  42501: primary\n…LOCATION:  file.c:12\n".
  // Keep the lines that explain the problem, one space after each label.
  const std::string text = e.what();
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    for (const char* label : {"ERROR:", "DETAIL:", "HINT:", "FATAL:"}) {
      const std::string l(label);
      if (line.compare(0, l.size(), l) != 0) continue;
      auto body = line.find_first_not_of(' ', l.size());
      std::string rest = body == std::string::npos ? std::string() : line.substr(body);
      if (rest.size() > 5 && rest[5] == ':' && is_sqlstate(std::string_view(rest).substr(0, 5))) {
        const auto after = rest.find_first_not_of(' ', 6);
        rest = after == std::string::npos ? std::string() : rest.substr(after);
      }
      line = l + " " + rest;
      if (!out.empty()) out += " - ";
      out += line;
      break;
    }
  }
  if (out.empty()) {
    out = text;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  }
  return out;
}

}  // namespace kafnus::postgis
