#include "ngsi/name_mappings.hpp"

#include <initializer_list>
#include <regex>
#include <utility>

#include "ngsi/json_tree.hpp"
#include "ngsi/text.hpp"
#include "text/utf8.hpp"

namespace kafnus::ngsi {
namespace {

// ------------------------------------------------------------------ UTF-8

bool is_ascii(std::string_view s) noexcept {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The code points of valid UTF-8 `s` (wchar_t holds one on Linux).
std::wstring decode(std::string_view s) {
  std::wstring out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(static_cast<wchar_t>(cp));
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, std::wstring::const_iterator b, std::wstring::const_iterator e) {
  char bytes[4];
  for (; b != e; ++b) out.append(bytes, text::encode_utf8(static_cast<char32_t>(*b), bytes));
}

void append_utf8(std::string& out, std::string::const_iterator b, std::string::const_iterator e) { out.append(b, e); }

// Java's "." and "$" stop at these: \n, \r, U+0085, U+2028, U+2029.
bool has_line_terminator(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n' || c == '\r') return true;
    if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\x85') return true;
    if (c == '\xE2' && i + 2 < s.size() && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------- the replacement

// A new… value as Java's Matcher.appendReplacement reads it: literal text
// and group references.
struct replacement {
  struct piece {
    std::string text;  // literal, when group < 0
    int group = -1;
  };
  std::vector<piece> pieces;
};

// Reads `text` against a pattern of `groups` groups, as Java does: "\x" is
// x, "$n" is group n (more digits are taken while they name a group). What
// Java would refuse at run time, for every record, is refused here.
std::string parse_replacement(std::string_view text, unsigned groups, replacement& out) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.pieces.push_back({std::move(literal), -1});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      if (++i == text.size()) return "ends with a lone \\ (Java: character to be escaped is missing)";
      literal += text[i];
    } else if (c == '$') {
      if (++i == text.size()) return "ends with a lone $ (Java: illegal group reference; write \\$ for a dollar)";
      if (text[i] == '{') return "refers to a named group (${...}), which std::regex does not have";
      if (text[i] < '0' || text[i] > '9') {
        return "has a $ not followed by a group number (Java: illegal group reference; write \\$ for a dollar)";
      }
      unsigned ref = static_cast<unsigned>(text[i] - '0');
      if (ref > groups) {
        return "refers to group " + std::to_string(ref) + ", but its pattern has " + std::to_string(groups) +
               " group(s) (Java: no group " + std::to_string(ref) + ")";
      }
      while (i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
        const unsigned longer = ref * 10 + static_cast<unsigned>(text[i + 1] - '0');
        if (longer > groups) break;
        ref = longer;
        ++i;
      }
      flush();
      out.pieces.push_back({{}, static_cast<int>(ref)});
    } else {
      literal += c;
    }
  }
  flush();
  return {};
}

// -------------------------------------------------------------- patterns

// The Java constructs that std::regex (ECMAScript) lacks, or reads with
// another meaning without failing: what is wrong with `p`, or "".
std::string unsupported_java_syntax(std::string_view p) {
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (++i == p.size()) return {};  // std::regex reports it
      const char e = p[i];
      if (std::string_view("dDwWsSbBtnrfcxu").find(e) != std::string_view::npos) continue;
      if (e >= '1' && e <= '9') {
        if (i + 1 < p.size() && p[i + 1] >= '0' && p[i + 1] <= '9') {
          return "a back reference of two digits (\\" + std::string(p.substr(i, 2)) +
                 ") is read differently by Java and ECMAScript";
        }
        continue;
      }
      if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || e == '0') {
        return std::string("\\") + e + " is Java syntax that std::regex lacks or reads differently";
      }
      continue;  // an escaped symbol is that symbol in both
    }
    if (in_class) {
      if (c == ']') in_class = false;
      if (c == '[') return "a [ inside a character class (a Java union or a POSIX class) is not supported";
      if (c == '&' && i + 1 < p.size() && p[i + 1] == '&') {
        return "&& inside a character class (a Java intersection) is not supported";
      }
      continue;
    }
    if (c == '[') {
      in_class = true;
      if (i + 1 < p.size() && p[i + 1] == '^') ++i;
      if (i + 1 < p.size() && p[i + 1] == ']') {
        return "a ] first in a character class is literal in Java but closes an empty class in ECMAScript; write "
               "\\] instead";
      }
    } else if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
      if (i + 2 >= p.size() || (p[i + 2] != ':' && p[i + 2] != '=' && p[i + 2] != '!')) {
        return "(?" + std::string(p.substr(i + 2, 1)) +
               "…: only (?:…), (?=…) and (?!…) are supported (no named groups, lookbehind, atomic groups or "
               "inline flags)";
      }
    } else if ((c == '*' || c == '+' || c == '?' || c == '}') && i + 1 < p.size() && p[i + 1] == '+') {
      return "a possessive quantifier (" + std::string(p.substr(i, 2)) + ") is not supported";
    }
  }
  return {};
}

bool has_regex_syntax(std::string_view p) noexcept {
  return p.find_first_of("\\^$.|?*+()[]{}") != std::string_view::npos;
}

// One original… field, compiled once.
struct pattern {
  enum class kind : unsigned char {
    any,      // absent: Cygnus's "^(.*)"
    literal,  // no regular-expression syntax: compared as text
    regex,
  };
  kind k = kind::any;
  std::string text;
  bool ascii = true;    // the pattern: the narrow regex exists
  std::regex narrow;    // kind::regex, ASCII pattern, ASCII name
  std::wregex wide;     // kind::regex, any other name
  unsigned groups = 1;  // capturing groups ("^(.*)" has one)

  // Java's Matcher.matches(): the whole of `s`.
  bool matches(std::string_view s) const {
    switch (k) {
      case kind::any: return !has_line_terminator(s);
      case kind::literal: return s == text;
      case kind::regex:
        if (s.size() > kMaxRegexInput) return false;
        // std::regex may give up on a pathological pattern (error_complexity,
        // error_stack): a name it cannot decide is one that does not match.
        try {
          if (narrow_for(s)) return std::regex_match(s.begin(), s.end(), narrow);
          if (!is_valid_utf8(s)) return false;
          return std::regex_match(decode(s), wide);
        } catch (const std::regex_error&) {
          return false;
        }
    }
    return false;
  }

  // Whether `s` is matched byte by byte: both ASCII, or a name that is not
  // UTF-8 (a header) and an ASCII pattern.
  bool narrow_for(std::string_view s) const { return ascii && (is_ascii(s) || !is_valid_utf8(s)); }

  // Java's s.replaceAll(pattern, r), for an `s` that matches().
  std::string replace_all(std::string_view s, const replacement& r) const {
    switch (k) {
      case kind::any:
      case kind::literal: {
        // One match, the whole of `s` (group 1 of "^(.*)" is all of it too).
        std::string out;
        for (const auto& p : r.pieces) out += p.group < 0 ? std::string_view(p.text) : s;
        return out;
      }
      case kind::regex:
        try {
          if (narrow_for(s)) return java_replace_all(std::string(s), narrow, r);
          if (is_valid_utf8(s)) return java_replace_all(decode(s), wide, r);
        } catch (const std::regex_error&) {
        }
    }
    return std::string(s);
  }

  // Every match, left to right, as Java's Matcher.find() walks them: after
  // an empty match the search moves one character on; after another it
  // starts where the match ended (so ".*" also matches the empty end).
  template <class Str, class Re>
  static std::string java_replace_all(const Str& s, const Re& re, const replacement& r) {
    std::string out;
    auto last = s.begin();
    auto from = s.begin();
    std::match_results<typename Str::const_iterator> m;
    while (true) {
      const auto flags =
          from == s.begin() ? std::regex_constants::match_default : std::regex_constants::match_prev_avail;
      if (!std::regex_search(from, s.end(), m, re, flags)) break;
      append_utf8(out, last, m[0].first);
      for (const auto& p : r.pieces) {
        if (p.group < 0) {
          out += p.text;
        } else if (m[static_cast<std::size_t>(p.group)].matched) {
          append_utf8(out, m[static_cast<std::size_t>(p.group)].first, m[static_cast<std::size_t>(p.group)].second);
        }
      }
      last = m[0].second;
      from = m[0].second;
      if (m[0].first == m[0].second) {
        if (from == s.end()) break;
        ++from;
      }
    }
    append_utf8(out, last, s.end());
    return out;
  }
};

// Compiles `text` (absent: nullopt); returns what is wrong with it, or "".
std::string compile(const std::optional<std::string>& text, pattern& out) {
  if (!text) return {};
  out.text = *text;
  if (!has_regex_syntax(out.text)) {
    out.k = pattern::kind::literal;
    out.groups = 0;
    return {};
  }
  out.k = pattern::kind::regex;
  if (auto why = unsupported_java_syntax(out.text); !why.empty()) {
    return "regular expression " + quoted(out.text, 200) + " is not supported: " + why;
  }
  try {
    out.ascii = is_ascii(out.text);
    if (out.ascii) out.narrow.assign(out.text, std::regex::ECMAScript);
    out.wide.assign(decode(out.text), std::wregex::ECMAScript);
    out.groups = static_cast<unsigned>(out.wide.mark_count());
  } catch (const std::regex_error& e) {
    return "invalid regular expression " + quoted(out.text, 200) + ": " + e.what();
  }
  return {};
}

}  // namespace

// ----------------------------------------------------------------- rules

struct attribute_rule {
  pattern name, type;
  std::optional<std::string> new_name, new_type;
};

struct entity_rule {
  pattern id, type;
  std::optional<replacement> new_id;
  std::optional<std::string> new_type;
  std::vector<attribute_rule> attributes;
};

struct servicepath_rule {
  pattern servicepath;
  std::optional<replacement> new_servicepath;
  std::vector<entity_rule> entities;
};

struct service_rule {
  pattern service;
  std::optional<replacement> new_service;
  std::vector<servicepath_rule> servicepaths;
};

namespace {

// ---------------------------------------------------------------- reading

// Reads the JSON tree into rules, collecting every problem with its path.
class reader {
 public:
  explicit reader(const json_tree& t) : t_(t) {}

  std::vector<service_rule> document(std::uint32_t root) {
    std::vector<service_rule> out;
    for_members(root, "", {"serviceMappings"}, [&](std::string_view, std::uint32_t v) {
      list(v, "serviceMappings", "service mappings",
           [&](std::uint32_t item, const std::string& path) { out.push_back(service(item, path)); });
    });
    return out;
  }

  std::vector<std::string> problems;
  std::vector<std::string> warnings;

 private:
  void problem(const std::string& path, const std::string& what) {
    problems.push_back(path.empty() ? what : path + ": " + what);
  }

  // Calls f(key, node) for each member of object `obj`, after checking that
  // every key is one of `allowed`.
  template <class F>
  void for_members(std::uint32_t obj, const std::string& path, std::initializer_list<std::string_view> allowed, F&& f) {
    const json_node& o = t_.at(obj);
    for (std::uint32_t c = json_tree::first_child(obj); c < o.next; c = t_.at(c).next) {
      const std::string_view key = t_.at(c).key;
      bool known = false;
      for (auto a : allowed) known = known || a == key;
      if (!known) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        problem(path, "unknown key " + quoted(key) + "; allowed: " + list);
        continue;
      }
      if (t_.member(obj, key) != c) {
        problem(path, "key " + quoted(key) + " is given twice");
        continue;
      }
      f(key, c);
    }
  }

  // A list of objects (null: empty); f(item, path) for each.
  template <class F>
  void list(std::uint32_t node, const std::string& path, const char* what, F&& f) {
    const json_node& n = t_.at(node);
    if (n.type == json_type::null) return;
    if (n.type != json_type::array) {
      problem(path, std::string("expected a list of ") + what + ", got " + describe(n.type));
      return;
    }
    std::size_t i = 0;
    for (std::uint32_t c = json_tree::first_child(node); c < n.next; c = t_.at(c).next, ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (t_.at(c).type != json_type::object) {
        problem(item_path, std::string("expected an object, got ") + describe(t_.at(c).type));
        continue;
      }
      f(c, item_path);
    }
  }

  // A string field (null: absent).
  std::optional<std::string> text(std::uint32_t node, const std::string& path) {
    const json_node& n = t_.at(node);
    if (n.type == json_type::null) return std::nullopt;
    if (n.type != json_type::string) {
      problem(path, std::string("expected a string, got ") + describe(n.type));
      return std::nullopt;
    }
    if (n.has_nul) {
      problem(path, "holds a NUL character (\\u0000)");
      return std::nullopt;
    }
    return std::string(n.text);
  }

  void original(std::uint32_t node, const std::string& path, pattern& out) {
    const auto t = text(node, path);
    if (auto why = compile(t, out); !why.empty()) problem(path, why);
  }

  // A new… value read as a replacement of `of`'s matches.
  void replacement_of(const std::optional<std::string>& t, const pattern& of, const std::string& path,
                      std::optional<replacement>& out) {
    if (!t) return;
    replacement r;
    if (auto why = parse_replacement(*t, of.groups, r); !why.empty()) {
      problem(path, quoted(*t, 200) + " " + why);
      return;
    }
    out = std::move(r);
  }

  service_rule service(std::uint32_t obj, const std::string& path) {
    service_rule r;
    std::optional<std::string> new_service;
    for_members(obj, path, {"originalService", "newService", "servicePathMappings"},
                [&](std::string_view key, std::uint32_t v) {
                  const std::string p = path + "." + std::string(key);
                  if (key == "originalService") {
                    original(v, p, r.service);
                  } else if (key == "newService") {
                    new_service = text(v, p);
                  } else {
                    list(v, p, "service path mappings", [&](std::uint32_t item, const std::string& ip) {
                      r.servicepaths.push_back(servicepath(item, ip));
                    });
                  }
                });
    replacement_of(new_service, r.service, path + ".newService", r.new_service);
    return r;
  }

  servicepath_rule servicepath(std::uint32_t obj, const std::string& path) {
    servicepath_rule r;
    std::optional<std::string> new_servicepath;
    for_members(obj, path, {"originalServicePath", "newServicePath", "entityMappings"},
                [&](std::string_view key, std::uint32_t v) {
                  const std::string p = path + "." + std::string(key);
                  if (key == "originalServicePath") {
                    original(v, p, r.servicepath);
                  } else if (key == "newServicePath") {
                    new_servicepath = text(v, p);
                  } else {
                    list(v, p, "entity mappings",
                         [&](std::uint32_t item, const std::string& ip) { r.entities.push_back(entity(item, ip)); });
                  }
                });
    replacement_of(new_servicepath, r.servicepath, path + ".newServicePath", r.new_servicepath);
    if (r.entities.empty()) {
      warnings.push_back(path +
                         ": has no entityMappings, so it never applies (Cygnus picks a servicepath rule only through "
                         "an entity rule matching the entity type); add {} to entityMappings to rename the "
                         "servicepath of every entity");
    }
    return r;
  }

  entity_rule entity(std::uint32_t obj, const std::string& path) {
    entity_rule r;
    std::optional<std::string> new_id;
    for_members(
        obj, path, {"originalEntityId", "originalEntityType", "newEntityId", "newEntityType", "attributeMappings"},
        [&](std::string_view key, std::uint32_t v) {
          const std::string p = path + "." + std::string(key);
          if (key == "originalEntityId") {
            original(v, p, r.id);
          } else if (key == "originalEntityType") {
            original(v, p, r.type);
          } else if (key == "newEntityId") {
            new_id = text(v, p);
          } else if (key == "newEntityType") {
            r.new_type = text(v, p);
          } else {
            list(v, p, "attribute mappings",
                 [&](std::uint32_t item, const std::string& ip) { r.attributes.push_back(attribute(item, ip)); });
          }
        });
    replacement_of(new_id, r.id, path + ".newEntityId", r.new_id);
    return r;
  }

  attribute_rule attribute(std::uint32_t obj, const std::string& path) {
    attribute_rule r;
    for_members(obj, path, {"originalAttributeName", "originalAttributeType", "newAttributeName", "newAttributeType"},
                [&](std::string_view key, std::uint32_t v) {
                  const std::string p = path + "." + std::string(key);
                  if (key == "originalAttributeName") {
                    original(v, p, r.name);
                  } else if (key == "originalAttributeType") {
                    original(v, p, r.type);
                  } else if (key == "newAttributeName") {
                    r.new_name = text(v, p);
                  } else {
                    r.new_type = text(v, p);
                  }
                });
    return r;
  }

  const json_tree& t_;
};

}  // namespace

// --------------------------------------------------------------- the API

name_mappings::name_mappings() = default;
name_mappings::~name_mappings() = default;
name_mappings::name_mappings(name_mappings&&) noexcept = default;
name_mappings& name_mappings::operator=(name_mappings&&) noexcept = default;

bool name_mappings::empty() const noexcept { return services_.empty(); }

std::vector<std::string> name_mappings::add_json(std::string_view json) {
  // The depth of the deepest rule (attributeMappings) and a little more.
  constexpr int kMaxDepth = 16;
  auto parsed = parse_json_object(json, kMaxDepth);
  if (!parsed) return {"not a JSON object: " + parsed.err().message};
  reader r(*parsed.value());
  auto rules = r.document(parsed.value()->root());
  if (!r.problems.empty()) return std::move(r.problems);
  for (auto& rule : rules) services_.push_back(std::move(rule));
  warnings_.insert(warnings_.end(), r.warnings.begin(), r.warnings.end());
  return {};
}

const service_rule* name_mappings::match_service(std::string_view service) const {
  for (const auto& r : services_) {
    if (r.service.matches(service)) return &r;
  }
  return nullptr;
}

std::optional<std::string> mapped_service(const service_rule& rule, std::string_view service) {
  if (!rule.new_service) return std::nullopt;
  return rule.service.replace_all(service, *rule.new_service);
}

entity_names map_entity(const service_rule& rule, std::string_view servicepath, std::string_view id,
                        std::string_view type) {
  entity_names out;
  const servicepath_rule* chosen = nullptr;
  for (const auto& sp : rule.servicepaths) {
    if (!sp.servicepath.matches(servicepath)) continue;
    for (const auto& e : sp.entities) {
      if (e.type.matches(type)) {
        chosen = &sp;
        break;
      }
    }
    if (chosen) break;
  }
  if (!chosen) return out;
  if (chosen->new_servicepath) out.servicepath = chosen->servicepath.replace_all(servicepath, *chosen->new_servicepath);
  for (const auto& e : chosen->entities) {
    if (!e.type.matches(type) || !e.id.matches(id)) continue;
    if (e.new_id) out.id = e.id.replace_all(id, *e.new_id);
    if (e.new_type) out.type = *e.new_type;
    out.rule = &e;
    break;
  }
  return out;
}

bool map_attribute(const entity_rule& rule, std::string_view& name, std::string_view& type) {
  for (const auto& a : rule.attributes) {
    if (!a.type.matches(type) || !a.name.matches(name)) continue;
    if (a.new_name) name = *a.new_name;
    if (a.new_type) type = *a.new_type;
    return true;
  }
  return false;
}

}  // namespace kafnus::ngsi
