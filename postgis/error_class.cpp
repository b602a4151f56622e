#include "postgis/error_class.hpp"

#include <pqxx/except>

namespace kafnus::postgis {

failure_kind classify_sqlstate(std::string_view s) {
  if (s.size() != 5) return failure_kind::transient;
  auto cls = s.substr(0, 2);
  if (cls == "08" ||  // connection exception
      cls == "40" ||  // transaction rollback: serialization failure, deadlock
      cls == "53" ||  // insufficient resources: too many connections, disk full, out of memory
      cls == "58" ||  // system error (I/O)
      cls == "25" ||  // invalid transaction state: our transaction is unusable, start over
      s == "57P01" || s == "57P02" || s == "57P03" ||  // admin/crash shutdown, cannot connect now
      s == "57014" ||  // query canceled (statement_timeout, pg_cancel_backend)
      s == "55P03" ||  // lock not available
      s == "55006" ||  // object in use
      s == "XX001" || s == "XX002") {  // data/index corrupted: retried, an operator must look
    return failure_kind::transient;
  }
  if (cls == "42" ||  // syntax error or access rule violation: undefined table/column, datatype mismatch
      cls == "3F" ||  // invalid schema name
      cls == "0A") {  // feature not supported
    return failure_kind::statement;
  }
  return failure_kind::row;  // 22 data exception, 23 integrity constraint, XX000 (PostGIS), others
}

std::string sqlstate_of(const std::exception& e) {
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) return sql->sqlstate();
  return {};
}

failure_kind classify(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return failure_kind::transient;
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    return classify_sqlstate(sql->sqlstate());
  }
  return failure_kind::transient;
}

std::string error_message(const std::exception& e) {
  // libpq's message: "ERROR:  primary\nDETAIL:  …\nHINT:  …\nLINE 1: …\n   ^\n".
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
      line = l + " " + (body == std::string::npos ? std::string() : line.substr(body));
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
