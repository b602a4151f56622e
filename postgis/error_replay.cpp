#include "postgis/error_replay.hpp"

#include <algorithm>
#include <tuple>

#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>

#include "ngsi/timestamp.hpp"
#include "postgis/error_class.hpp"
#include "postgis/error_log.hpp"
#include "postgis/explicit_transaction.hpp"
#include "postgis/replay_statement.hpp"
#include "postgis/sql.hpp"

namespace kafnus::postgis {
namespace {

bool plain_identifier(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string since_condition(const std::optional<std::int64_t>& since_us) {
  if (!since_us) return {};
  return " AND \"timestamp\" >= " + quote_literal(ngsi::format_utc(*since_us)) + "::timestamptz";
}

// What to say when the database refuses the command itself.
[[noreturn]] void fail(const std::string& doing, const std::exception& e) {
  std::string msg = doing + ": " + error_message(e);
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    msg +=
        " (the connection to PostgreSQL was lost; rows replayed before this are committed and gone from the "
        "error log, the row in flight either committed with its deletion or not at all: run the command again)";
  } else if (sqlstate_of(e) == "42501") {
    msg +=
        " (the role of postgres.user needs SELECT, UPDATE and DELETE on the error-log tables, and what the "
        "statements need on their tables)";
  }
  throw errors_failure(msg);
}

// The services of the fallback log whose error-log table would be `service`'s.
std::vector<std::string> fallback_services(pqxx::transaction_base& tx, const ngsi::table_ref& fallback,
                                           const std::string& service) {
  std::vector<std::string> out;
  const auto wanted = ngsi::error_log_table(service);
  for (const auto& row :
       tx.exec("SELECT DISTINCT service FROM " + qualified(fallback) + " WHERE service IS NOT NULL")) {
    const auto s = row[0].as<std::string>();
    if (ngsi::error_log_table(s) == wanted) out.push_back(s);
  }
  return out;
}

std::string text_join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : "; ") + i;
  return s;
}

std::string in_list(const std::vector<std::string>& values) {
  std::string s;
  for (const auto& v : values) s += (s.empty() ? "" : ", ") + quote_literal(v);
  return s;
}

// A log to read and the condition its rows of the service meet.
struct service_log {
  error_log_source source;
  std::string where;  // " AND …", or empty
};

std::string unreadable(const ngsi::table_ref& t) {
  return "left out " + display_name(t) +
         ": the role of postgres.user may not read it (it needs USAGE on the schema and SELECT on the table)";
}

// The service's own error log and its rows in the fallback, the ones the
// role cannot read named in `warnings`; errors_failure when there are none.
std::vector<service_log> logs_of_service(pqxx::connection_base& conn, const std::string& offsets_schema,
                                         const std::string& service, std::vector<std::string>& warnings) {
  const auto own = ngsi::error_log_table(service);
  std::vector<service_log> out;
  const auto all = find_error_logs(conn, offsets_schema);
  try {
    pqxx::nontransaction tx(conn);
    for (const auto& log : all) {
      if (!log.fallback && log.table != own) continue;
      if (!log.readable) {
        warnings.push_back(unreadable(log.table));
        continue;
      }
      if (!log.fallback) {
        out.push_back({log, {}});
        continue;
      }
      const auto services = fallback_services(tx, log.table, service);
      if (!services.empty()) out.push_back({log, " AND service IN (" + in_list(services) + ")"});
    }
  } catch (const std::exception& e) {
    fail("cannot read the error logs", e);
  }
  if (out.empty() && !warnings.empty()) {
    throw errors_failure("service '" + service + "': no error log it may read: " + text_join(warnings));
  }
  if (out.empty()) {
    throw errors_failure("service '" + service + "' has no error log: table " + display_name(own) +
                         " does not exist and " + display_name({offsets_schema, "error_log"}) +
                         " holds no row of it (Kafnus creates the table at the service's first error; is the "
                         "service name right? kafnus errors list shows every service with errors)");
  }
  return out;
}

// An error-log row to replay.
struct pending_row {
  std::size_t log = 0;  // index into the service's logs
  std::string ctid;
  std::int64_t timestamp_us = 0;
};

std::string target_text(const std::optional<ngsi::table_ref>& t) { return t ? display_name(*t) : std::string(); }

}  // namespace

std::string display_name(const ngsi::table_ref& t) {
  auto part = [](const std::string& s) { return plain_identifier(s) ? s : quote_ident(s); };
  return part(t.schema) + "." + part(t.table);
}

std::vector<error_log_source> find_error_logs(pqxx::connection_base& conn, const std::string& offsets_schema) {
  std::vector<error_log_source> out;
  try {
    pqxx::nontransaction tx(conn);
    // Tables with the error log's columns whose name ends in _error_log; the
    // naming rule decides which of them are a service's.
    const auto r = tx.exec_params(
        "SELECT n.nspname, c.relname, has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, "
        "'SELECT') FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND (c.relname LIKE '%\\_error\\_log' OR (n.nspname = $1 AND c.relname = "
        "'error_log')) "
        "AND (SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped "
        "AND a.attname IN ('timestamp', 'error', 'query')) = 3 "
        "ORDER BY 1, 2",
        offsets_schema);
    for (const auto& row : r) {
      ngsi::table_ref t{row[0].as<std::string>(), row[1].as<std::string>()};
      const bool readable = row[2].as<bool>();
      if (t.schema == offsets_schema && t.table == "error_log") {
        out.push_back({t, true, readable});
      } else if (ngsi::error_log_table(t.schema) == t) {
        out.push_back({t, false, readable});
      }
    }
  } catch (const std::exception& e) {
    fail("cannot look for the error-log tables", e);
  }
  return out;
}

error_listing list_errors(pqxx::connection_base& conn, const list_request& req) {
  error_listing listing;
  std::vector<service_log> logs;
  if (req.service) {
    logs = logs_of_service(conn, req.offsets_schema, *req.service, listing.warnings);
  } else {
    for (auto& log : find_error_logs(conn, req.offsets_schema)) {
      if (log.readable) {
        logs.push_back({std::move(log), {}});
      } else {
        listing.warnings.push_back(unreadable(log.table));
      }
    }
  }
  auto& out = listing.groups;
  for (const auto& log : logs) {
    const auto& t = log.source.table;
    const std::string service = log.source.fallback ? "service" : quote_literal(t.schema);
    // The head of the query names the table; the full statement may be 256 KiB.
    const std::string sql = "SELECT " + service +
                            ", CASE WHEN query IS NULL THEN '' WHEN query LIKE '-- not a statement%' THEN '-' "
                            "ELSE coalesce(substring(query from '^(?:INSERT INTO|DELETE FROM) "
                            "(\"(?:[^\"]|\"\")*\"\\.\"(?:[^\"]|\"\")*\")'), "
                            "'?') END, " +
                            primary_error_sql("error") +
                            ", count(*), (extract(epoch FROM min(\"timestamp\")) * 1000000)::bigint, "
                            "(extract(epoch FROM max(\"timestamp\")) * 1000000)::bigint FROM " +
                            qualified(t) + " WHERE true" + log.where + since_condition(req.since_us) +
                            " GROUP BY 1, 2, 3";
    try {
      pqxx::nontransaction tx(conn);
      for (const auto& row : tx.exec(sql)) {
        error_group g;
        g.service = row[0].is_null() ? std::string() : row[0].as<std::string>();
        const auto head = row[1].as<std::string>();
        if (head.empty()) {
          g.target = "(no query)";
        } else if (head == "-") {
          g.target = "(not a statement)";
        } else if (auto target = statement_target("INSERT INTO " + head); target && head != "?") {
          g.target = display_name(*target);
        } else {
          g.target = "(unrecognised)";
        }
        g.error = row[2].is_null() ? std::string() : row[2].as<std::string>();
        g.log = display_name(t);
        g.rows = row[3].as<std::int64_t>();
        g.oldest_us = row[4].as<std::int64_t>();
        g.newest_us = row[5].as<std::int64_t>();
        out.push_back(std::move(g));
      }
    } catch (const std::exception& e) {
      fail("cannot read " + display_name(t), e);
    }
  }
  std::sort(out.begin(), out.end(), [](const error_group& a, const error_group& b) {
    return std::tie(a.service, a.target, a.error, a.log) < std::tie(b.service, b.target, b.error, b.log);
  });
  return listing;
}

replay_report replay_errors(pqxx::connection_base& conn, const replay_request& req) {
  replay_report report;
  const auto logs = logs_of_service(conn, req.offsets_schema, req.service, report.warnings);
  replay_scope scope;
  scope.schema = ngsi::error_log_table(req.service).schema;
  scope.more_schemas = req.more_schemas;
  scope.offsets_schema = req.offsets_schema;
  scope.error_log = ngsi::error_log_table(req.service);

  // The rows present now, oldest first across the logs: rows that arrive
  // later wait for the next replay.
  std::vector<pending_row> rows;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const auto& t = logs[i].source.table;
    report.logs.push_back(display_name(t));
    try {
      pqxx::nontransaction tx(conn);
      for (const auto& row : tx.exec("SELECT ctid::text, (extract(epoch FROM \"timestamp\") * 1000000)::bigint FROM " +
                                     qualified(t) + " WHERE true" + logs[i].where + since_condition(req.since_us))) {
        rows.push_back(pending_row{i, row[0].as<std::string>(), row[1].as<std::int64_t>()});
      }
    } catch (const std::exception& e) {
      fail("cannot read " + display_name(t), e);
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const pending_row& a, const pending_row& b) { return a.timestamp_us < b.timestamp_us; });
  if (req.limit && rows.size() > *req.limit) rows.resize(*req.limit);
  report.rows = rows.size();

  for (const auto& p : rows) {
    if (req.stop_requested && req.stop_requested()) {
      report.interrupted = true;
      break;
    }
    const auto& log = logs[p.log];
    const auto table = qualified(log.source.table);
    // The row again, by its ctid, if it is still the row listed (a ctid is
    // reused only after the row is gone; the filters are checked again).
    const std::string where =
        " WHERE ctid = " + quote_literal(p.ctid) + "::tid" + log.where + since_condition(req.since_us);
    row_outcome out;
    out.log = display_name(log.source.table);
    out.ctid = p.ctid;
    out.timestamp_us = p.timestamp_us;
    try {
      explicit_transaction t(conn);
      auto& tx = t.tx();
      const auto r = tx.exec("SELECT query FROM " + table + where + (req.dry_run ? "" : " FOR UPDATE SKIP LOCKED"));
      if (r.empty()) {
        out.result = row_result::skipped;
        out.reason = "gone, or being replayed by another kafnus errors replay";
      } else {
        const auto query = r[0][0].is_null() ? std::nullopt : std::optional<std::string>(r[0][0].as<std::string>());
        const auto shape = check_replay_statement(query, scope);
        out.target = target_text(shape.table);
        if (!shape.accepted) {
          out.result = row_result::refused;
          out.reason = shape.reason;
          out.detail = shape.detail;
        } else if (req.dry_run) {
          out.result = row_result::would_replay;
        } else {
          tx.exec("SAVEPOINT kafnus_replay");
          std::optional<std::string> error;
          try {
            tx.exec(*query);
          } catch (const pqxx::broken_connection&) {
            throw;
          } catch (const pqxx::in_doubt_error&) {
            throw;
          } catch (const std::exception& e) {
            error = error_message(e);
          }
          if (!error) {
            tx.exec("RELEASE SAVEPOINT kafnus_replay");
            tx.exec("DELETE FROM " + table + where);
            out.result = row_result::replayed;
          } else {
            tx.exec("ROLLBACK TO SAVEPOINT kafnus_replay");
            const auto stored = truncate_utf8(printable_utf8(*error), kMaxErrorChars);
            tx.exec("UPDATE " + table + " SET error = " + quote_literal(stored) + where);
            out.result = row_result::failed;
            out.reason = primary_error(stored);
            out.detail = stored;
          }
          t.commit();
        }
      }
    } catch (const std::exception& e) {
      // The row's transaction is rolled back (or, with the connection lost,
      // committed whole or not at all): never its statement without its deletion.
      fail("replaying row " + p.ctid + " of " + out.log + " (stopped there; the rows before it are done)", e);
    }
    switch (out.result) {
      case row_result::replayed: ++report.replayed; break;
      case row_result::would_replay: ++report.would_replay; break;
      case row_result::failed:
        ++report.failed;
        ++report.failed_by_error[out.reason];
        break;
      case row_result::refused:
        ++report.refused;
        ++report.refused_by_reason[out.reason];
        break;
      case row_result::skipped: ++report.skipped; break;
    }
    if (req.on_row) req.on_row(out);
  }
  return report;
}

}  // namespace kafnus::postgis
