#include "test/conformance/expectation.hpp"

#include <cmath>
#include <ctime>
#include <regex>

namespace kafnus::test {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool is_number(element e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

double as_double(element e) {
  double d = 0;
  int64_t i = 0;
  uint64_t u = 0;
  if (!e.get(d)) return d;
  if (!e.get(i)) return static_cast<double>(i);
  if (!e.get(u)) return static_cast<double>(u);
  return NAN;
}

// Text of a scalar as a person would write it.
std::string as_text(element e) {
  std::string_view s;
  if (!e.get(s)) return std::string(s);
  return simdjson::minify(e);
}

bool is_operator_object(element e) {
  simdjson::dom::object o;
  if (e.get(o) || o.size() == 0) return false;
  for (auto kv : o) {
    const auto k = kv.key;
    if (k != "eq" && k != "gt" && k != "gte" && k != "lt" && k != "lte" && k != "contains" && k != "regex") {
      return false;
    }
  }
  return true;
}

bool is_geojson_geometry(element e) {
  simdjson::dom::object o;
  if (e.get(o)) return false;
  std::string_view type;
  simdjson::dom::array coords;
  return !o["type"].get(type) && !o["coordinates"].get(coords);
}

bool is_wkt(const std::string& s) {
  static const std::regex wkt(
      R"(^\s*(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|GEOMETRYCOLLECTION)\b)",
      std::regex::icase);
  return std::regex_search(s, wkt);
}

bool is_null_or_empty(element e) {
  std::string_view s;
  return e.is_null() || (!e.get(s) && s.empty());
}

// JSON equality, numbers compared numerically.
bool json_equal(element a, element b) {
  if (is_number(a) && is_number(b))
    return std::fabs(as_double(a) - as_double(b)) <= 1e-9 * std::max(1.0, std::fabs(as_double(a)));
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array x = a, y = b;
      if (x.size() != y.size()) return false;
      auto it = y.begin();
      for (auto v : x) {
        if (!json_equal(v, *it)) return false;
        ++it;
      }
      return true;
    }
    case element_type::OBJECT: {
      simdjson::dom::object x = a, y = b;
      if (x.size() != y.size()) return false;
      for (auto kv : x) {
        element other;
        if (y[kv.key].get(other) || !json_equal(kv.value, other)) return false;
      }
      return true;
    }
    default: return simdjson::minify(a) == simdjson::minify(b);
  }
}

int compare_values(element expected, element actual) {
  if (is_number(expected) && is_number(actual)) {
    double x = as_double(actual), y = as_double(expected);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  std::string x = as_text(actual), y = as_text(expected);
  double tx = 0, ty = 0;
  if (parse_timestamp_ms(x, tx) && parse_timestamp_ms(y, ty)) return tx < ty ? -1 : tx > ty ? 1 : 0;
  return x.compare(y) < 0 ? -1 : x.compare(y) > 0 ? 1 : 0;
}

bool operator_matches(simdjson::dom::object ops, element actual, const geometry_equals& geo) {
  for (auto kv : ops) {
    const auto op = kv.key;
    if (op == "eq") {
      if (!value_matches(kv.value, actual, geo)) return false;
      continue;
    }
    if (actual.is_null()) return false;
    if (op == "contains") {
      if (as_text(actual).find(as_text(kv.value)) == std::string::npos) return false;
    } else if (op == "regex") {
      std::string pattern = as_text(kv.value);
      auto flags = std::regex::ECMAScript;
      if (pattern.rfind("(?i)", 0) == 0) {
        pattern = pattern.substr(4);
        flags |= std::regex::icase;
      }
      if (!std::regex_search(as_text(actual), std::regex(pattern, flags))) return false;
    } else {
      const int c = compare_values(kv.value, actual);
      if ((op == "gt" && !(c > 0)) || (op == "gte" && !(c >= 0)) || (op == "lt" && !(c < 0)) ||
          (op == "lte" && !(c <= 0))) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool parse_timestamp_ms(const std::string& text, double& ms) {
  static const std::regex iso(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, iso)) return false;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = m[4].matched ? std::stoi(m[4]) : 0;
  tm.tm_min = m[5].matched ? std::stoi(m[5]) : 0;
  tm.tm_sec = m[6].matched ? std::stoi(m[6]) : 0;
  double seconds = static_cast<double>(timegm(&tm));
  if (m[7].matched) seconds += std::stod("0" + m[7].str());
  if (m[8].matched && m[8].str() != "Z") {
    const std::string z = m[8].str();
    const int sign = z[0] == '-' ? -1 : 1;
    const int hours = std::stoi(z.substr(1, 2));
    int minutes = 0;
    std::string rest = z.substr(3);
    if (!rest.empty() && rest[0] == ':') rest = rest.substr(1);
    if (!rest.empty()) minutes = std::stoi(rest);
    seconds -= sign * (hours * 3600 + minutes * 60);
  }
  ms = seconds * 1000.0;
  return true;
}

bool value_matches(element expected, element actual, const geometry_equals& geo) {
  // 1. operators
  if (is_operator_object(expected)) return operator_matches(expected, actual, geo);
  // 2. geometry (to_jsonb renders a stored geometry as GeoJSON)
  std::string_view stored;
  auto stored_geometry = [&](std::string& out) {
    if (is_geojson_geometry(actual)) {
      out = simdjson::minify(actual);
      return true;
    }
    if (actual.get(stored)) return false;
    out = std::string(stored);
    return true;
  };
  std::string stored_text;
  if (is_geojson_geometry(expected)) {
    return stored_geometry(stored_text) && geo(simdjson::minify(expected), false, stored_text);
  }
  std::string_view exp_text;
  if (!expected.get(exp_text) && is_wkt(std::string(exp_text))) {
    return stored_geometry(stored_text) && geo(std::string(exp_text), true, stored_text);
  }
  // 3. timestamps
  double te = 0, ta = 0;
  if (!expected.get(exp_text) && parse_timestamp_ms(std::string(exp_text), te)) {
    return !actual.get(stored) && parse_timestamp_ms(std::string(stored), ta) && std::fabs(te - ta) <= 1.0;
  }
  // 4. objects and arrays: JSON equality (text columns holding JSON are parsed)
  const auto et = expected.type();
  if (et == element_type::OBJECT || et == element_type::ARRAY) {
    if (actual.type() == element_type::STRING) {
      thread_local simdjson::dom::parser parser;
      element parsed;
      const std::string text(actual.get_string().value());
      if (parser.parse(text).get(parsed)) return false;
      return json_equal(expected, parsed);
    }
    return json_equal(expected, actual);
  }
  // 5. scalars
  if (is_null_or_empty(expected) || is_null_or_empty(actual)) {
    return is_null_or_empty(expected) && is_null_or_empty(actual);
  }
  if (is_number(expected)) {
    double a = NAN;
    if (is_number(actual)) {
      a = as_double(actual);
    } else if (actual.type() == element_type::STRING) {
      try {
        a = std::stod(std::string(actual.get_string().value()));
      } catch (const std::exception&) {
        return false;
      }
    }
    const double e = as_double(expected);
    return std::fabs(a - e) <= 1e-9 * std::max(1.0, std::fabs(e));
  }
  return as_text(expected) == as_text(actual);
}

bool row_matches(simdjson::dom::object expected, simdjson::dom::object actual, const geometry_equals& geo) {
  for (auto kv : expected) {
    element a;
    if (actual[kv.key].get(a)) return false;  // no such column
    if (!value_matches(kv.value, a, geo)) return false;
  }
  return true;
}

}  // namespace kafnus::test
