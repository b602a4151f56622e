#include "postgis/replay_statement.hpp"

#include <algorithm>

#include "ngsi/json_tree.hpp"
#include "ngsi/row.hpp"
#include "postgis/error_log.hpp"
#include "postgis/statements.hpp"
#include "text/ascii.hpp"

namespace kafnus::postgis {
namespace {

constexpr std::string_view kNotAStatement = "-- not a statement";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return text::hex_digit_value(c) >= 0; }

// ngsi::format_utc's output: digits and "-: .+", " BC" before year 1.
bool is_instant_text(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_digit(c) || c == '-' || c == ':' || c == ' ' || c == '.' || c == '+' || c == 'B' || c == 'C';
  });
}

bool is_hex_text(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_hex); }

// A parse failure: where and what was expected.
struct parse_error {
  std::size_t at = 0;
  std::string expected;
};

// Reads a statement left to right; every method either consumes what it
// recognises or leaves the position alone.
class cursor {
 public:
  explicit cursor(std::string_view s) : s_(s) {}

  bool eat(std::string_view token) {
    if (s_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == s_.size(); }

  // "name" with "" standing for one quote.
  std::optional<std::string> identifier() { return quoted('"'); }

  // "a", "b", …: one or more identifiers separated by ", ".
  std::optional<std::vector<std::string>> identifier_list() {
    std::vector<std::string> names;
    do {
      auto name = identifier();
      if (!name) return std::nullopt;
      names.push_back(std::move(*name));
    } while (eat(", "));
    return names;
  }

  // 'text' with '' standing for one quote (standard_conforming_strings: a
  // backslash is a plain character).
  std::optional<std::string> string_literal() { return quoted('\''); }

  // One value as postgis::literal writes it.
  std::optional<ngsi::value> literal() {
    if (eat("NULL")) return ngsi::value::null();
    if (eat("true")) return ngsi::value::boolean(true);
    if (eat("false")) return ngsi::value::boolean(false);
    const auto start = pos_;
    if (auto text = string_literal()) {
      if (eat("::json")) return ngsi::value::json(std::move(*text));
      if (eat("::timestamptz")) {
        if (!is_instant_text(*text)) return fail(start);
        ngsi::value v;
        v.kind = ngsi::value_kind::timestamp;
        v.text = std::move(*text);
        return v;
      }
      if (eat("::geometry")) {
        if (!is_hex_text(*text)) return fail(start);
        if (text->size() % 2 != 0) return fail(start);
        return ngsi::value::geometry_from_hex(*text);
      }
      if (s_.substr(pos_, 2) == "::") return fail(start);  // a cast Kafnus does not write
      return ngsi::value::text_value(std::move(*text));
    }
    auto end = pos_;
    while (end < s_.size() && (is_digit(s_[end]) || s_[end] == '-' || s_[end] == '+' || s_[end] == '.' ||
                               s_[end] == 'e' || s_[end] == 'E')) {
      ++end;
    }
    const auto digits = s_.substr(pos_, end - pos_);
    // The only numbers Kafnus writes are a JSON number's own text.
    if (!ngsi::is_json_number(digits)) return std::nullopt;
    pos_ = end;
    return ngsi::value::number(std::string(digits));
  }

 private:
  std::optional<ngsi::value> fail(std::size_t start) {
    pos_ = start;
    return std::nullopt;
  }

  std::optional<std::string> quoted(char q) {
    if (pos_ >= s_.size() || s_[pos_] != q) return std::nullopt;
    std::string out;
    for (auto i = pos_ + 1; i < s_.size(); ++i) {
      if (s_[i] != q) {
        out += s_[i];
        continue;
      }
      if (i + 1 < s_.size() && s_[i + 1] == q) {
        out += q;
        ++i;
        continue;
      }
      pos_ = i + 1;
      return out;
    }
    return std::nullopt;  // unbalanced
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::optional<ngsi::table_ref> qualified_name(cursor& c) {
  auto schema = c.identifier();
  if (!schema || !c.eat(".")) return std::nullopt;
  auto table = c.identifier();
  if (!table) return std::nullopt;
  return ngsi::table_ref{std::move(*schema), std::move(*table)};
}

// The row an INSERT of Kafnus's shape writes, or where it stops being one.
struct parsed_insert {
  ngsi::row row;
  std::optional<parse_error> error;
};

parsed_insert parse_insert(std::string_view sql) {
  parsed_insert p;
  cursor c(sql);
  auto fail = [&](std::string expected) {
    p.error = parse_error{c.pos(), std::move(expected)};
    return p;
  };
  if (!c.eat("INSERT INTO ")) return fail("INSERT INTO");
  auto table = qualified_name(c);
  if (!table) return fail("a quoted \"schema\".\"table\"");
  p.row.set_table(std::move(*table));
  const bool upsert = c.eat(" AS kafnus_target");
  p.row.op = upsert ? ngsi::operation::upsert : ngsi::operation::insert;
  if (!c.eat(" (")) return fail("the column list");
  auto names = c.identifier_list();
  if (!names) return fail("a quoted column name");
  if (!c.eat(") VALUES (")) return fail(") VALUES (");
  for (std::size_t i = 0; i < names->size(); ++i) {
    if (i > 0 && !c.eat(", ")) return fail("as many values as columns");
    auto v = c.literal();
    if (!v)
      return fail(
          "a literal Kafnus writes (NULL, true, false, a number, a quoted string, optionally ::json, "
          "::timestamptz or ::geometry)");
    p.row.columns.push_back(ngsi::column{std::move((*names)[i]), std::move(*v)});
  }
  if (!c.eat(")")) return fail("as many values as columns");
  if (!upsert) {
    p.row.f = ngsi::flow::historic;
    if (!c.at_end()) return fail("the end of the statement");
    return p;
  }
  if (!c.eat(" ON CONFLICT (")) return fail("ON CONFLICT (");
  const auto keys = c.identifier_list();
  if (!keys) return fail("a quoted key column");
  // The flow is the one whose key this is; render_statement writes the rest.
  for (auto f : {ngsi::flow::lastdata, ngsi::flow::mutable_}) {
    const auto k = ngsi::key_columns(f);
    if (std::equal(keys->begin(), keys->end(), k.begin(), k.end())) {
      p.row.f = f;
      return p;
    }
  }
  return fail("the key of the lastdata (\"entityid\") or mutable (\"entityid\", \"timeinstant\") flow");
}

bool is_truncated(std::string_view q) {
  // truncate_utf8's mark: "… [truncated N bytes]" at the end.
  constexpr std::string_view kHead = "… [truncated ";
  constexpr std::string_view kTail = " bytes]";
  if (q.size() < kHead.size() + kTail.size() + 1 || q.substr(q.size() - kTail.size()) != kTail) return false;
  const auto head = q.rfind(kHead);
  if (head == std::string_view::npos) return false;
  const auto digits = q.substr(head + kHead.size(), q.size() - kTail.size() - head - kHead.size());
  return !digits.empty() && std::all_of(digits.begin(), digits.end(), is_digit);
}

replay_shape refuse(std::string reason, std::string detail = {}, std::optional<ngsi::table_ref> table = {}) {
  replay_shape r;
  r.reason = std::move(reason);
  r.detail = std::move(detail);
  r.table = std::move(table);
  return r;
}

std::string excerpt(std::string_view s, std::size_t at) {
  constexpr std::size_t kBefore = 20;
  constexpr std::size_t kAfter = 30;
  const auto from = at > kBefore ? at - kBefore : 0;
  std::string out = from > 0 ? "…" : "";
  out += s.substr(from, at - from);
  out += "⟨here⟩";
  out += s.substr(at, kAfter);
  if (at + kAfter < s.size()) out += "…";
  return out;
}

}  // namespace

std::optional<ngsi::table_ref> statement_target(std::string_view query) {
  cursor c(query);
  if (!c.eat("INSERT INTO ") && !c.eat("DELETE FROM ")) return std::nullopt;
  return qualified_name(c);
}

replay_shape check_replay_statement(const std::optional<std::string>& query, const replay_scope& scope) {
  if (!query) return refuse("no statement (the query is NULL)");
  const std::string_view q = *query;
  if (q.substr(0, kNotAStatement.size()) == kNotAStatement) {
    return refuse("not a statement: a Kafka record that could not become rows (the query names the record)");
  }
  if (is_truncated(q)) {
    return refuse("truncated in the error log (statements over " + std::to_string(kMaxQueryBytes / 1024) +
                  " KiB are cut): the data must be sent again");
  }
  if (q.substr(0, 12) == "DELETE FROM ") {
    return refuse(
        "a lastdata delete: not replayed (it has no freshness guard and would delete an entity created again "
        "since); run it by hand if it is still wanted",
        {}, statement_target(q));
  }
  auto parsed = parse_insert(q);
  if (parsed.error) {
    return refuse("not a statement Kafnus writes",
                  "at byte " + std::to_string(parsed.error->at) + " (" + excerpt(q, parsed.error->at) + "): expected " +
                      parsed.error->expected,
                  statement_target(q));
  }
  // Byte for byte what Kafnus writes for that row: the ON CONFLICT clause,
  // the alias and every quote.
  const auto rendered = render_statement(parsed.row);
  if (rendered != q) {
    const auto diff = static_cast<std::size_t>(
        std::mismatch(rendered.begin(), rendered.end(), q.begin(), q.end()).second - q.begin());
    return refuse("not a statement Kafnus writes",
                  "at byte " + std::to_string(diff) + " (" + excerpt(q, diff) +
                      "): differs from the statement Kafnus writes for the same row",
                  parsed.row.table());
  }
  const auto& t = parsed.row.table();
  const bool allowed = t.schema == scope.schema || std::find(scope.more_schemas.begin(), scope.more_schemas.end(),
                                                             t.schema) != scope.more_schemas.end();
  if (!allowed) {
    return refuse("the target is outside the service's schema",
                  "schema \"" + t.schema + "\" (--schema " + t.schema + " allows it)", t);
  }
  if (t == scope.error_log || (t.schema == scope.offsets_schema && (t.table == "offsets" || t.table == "error_log"))) {
    return refuse("the target is one of Kafnus's own tables", "\"" + t.schema + "\".\"" + t.table + "\"", t);
  }
  replay_shape ok;
  ok.accepted = true;
  ok.table = t;
  ok.f = parsed.row.f;
  return ok;
}

std::string primary_error(std::string_view error) {
  auto end = error.size();
  for (std::string_view mark : {"\n", " - DETAIL: ", " - HINT: "}) end = std::min(end, error.find(mark));
  return std::string(error.substr(0, end));
}

std::string primary_error_sql(const std::string& column) {
  // PostgreSQL's '.' matches a newline too; the leftmost of the three marks wins.
  return "regexp_replace(" + column + ", '(\n| - DETAIL: | - HINT: ).*$', '')";
}

}  // namespace kafnus::postgis
