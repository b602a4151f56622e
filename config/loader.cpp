#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>

#include "config/schema.hpp"
#include "config/topic_pattern.hpp"
#include "ngsi/name_mappings.hpp"
#include "text/ascii.hpp"
#include "text/json.hpp"

extern char** environ;

namespace kafnus::config {
namespace {

// One key's value while loading, before it becomes part of `settings`.
struct raw_value {
  std::string scalar;
  std::vector<std::string> list;
  std::map<std::string, std::string> map;
  bool present = false;
};

using values = std::map<std::string, raw_value>;

// The shared helpers (text/), with the string results the messages here build on.
std::string lower(std::string_view s) { return text::to_lower_ascii(s); }
std::string trim(std::string_view s) { return std::string(text::trim(s)); }
using text::split;

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The keys directly below a section ("" is the root), in schema order.
std::vector<std::string> children_of(const std::string& section) {
  std::vector<std::string> out;
  const std::string prefix = section.empty() ? "" : section + ".";
  for (const auto& k : schema()) {
    if (k.path.compare(0, prefix.size(), prefix) != 0) continue;
    auto rest = k.path.substr(prefix.size());
    auto child = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), child) == out.end()) out.push_back(child);
  }
  return out;
}

bool is_section(const std::string& path) {
  const std::string prefix = path + ".";
  for (const auto& k : schema()) {
    if (k.path.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") { return text::join(v, sep); }

// Accepts plain integers and, for byte sizes, KiB/MiB/GiB suffixes.
bool parse_integer(const std::string& text, bool sizes, std::int64_t& out) {
  std::string t = trim(text);
  std::int64_t mult = 1;
  if (sizes) {
    static const std::pair<const char*, std::int64_t> units[] = {
        {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", std::int64_t{1} << 30}};
    for (const auto& [suffix, m] : units) {
      std::string sfx(suffix);
      if (t.size() > sfx.size() && t.compare(t.size() - sfx.size(), sfx.size(), sfx) == 0) {
        t = trim(t.substr(0, t.size() - sfx.size()));
        mult = m;
        break;
      }
    }
  }
  if (t.empty()) return false;
  std::size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  for (std::size_t j = i; j < t.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(t[j]))) return false;
  }
  errno = 0;
  long long v = std::strtoll(t.c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  if (v > INT64_MAX / mult || v < INT64_MIN / mult) return false;
  out = static_cast<std::int64_t>(v) * mult;
  return true;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A YAML node as JSON text: mappings to objects, sequences to arrays, every
// scalar to a string (the name-mapping fields are all text), null to null.
void to_json(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out += ',';
        first = false;
        to_json(kv.first, out);
        out += ':';
        to_json(kv.second, out);
      }
      out += '}';
      break;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) out += ',';
        first = false;
        to_json(item, out);
      }
      out += ']';
      break;
    }
    case YAML::NodeType::Scalar: out += text::json_quote(node.Scalar()); break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: out += "null"; break;
  }
}

class loader {
 public:
  loader(const environment& env, std::string origin) : env_(env), origin_(std::move(origin)) {}

  settings run(const std::string& yaml_text) {
    YAML::Node root;
    try {
      root = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
      throw config_error({origin_ + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                          ": not valid YAML: " + e.msg});
    }
    if (root && !root.IsNull()) {
      if (!root.IsMap()) {
        problem("", root, "the configuration must be a mapping of sections: " + join(children_of("")));
      } else {
        walk(root, "");
      }
    }
    apply_environment();
    read_secret_files();
    apply_defaults();
    if (!problems_.empty()) throw config_error(problems_);
    settings s = build();
    check(s);
    if (!problems_.empty()) throw config_error(problems_);
    s.effective_yaml = render(s);
    s.warnings = warnings_;
    return s;
  }

 private:
  // ------------------------------------------------------------ YAML walk
  void problem(const std::string& path, const YAML::Node& node, const std::string& text) {
    std::string where = origin_;
    if (node && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
    problems_.push_back(where + ": " + (path.empty() ? "" : path + ": ") + text);
  }

  void walk(const YAML::Node& map, const std::string& section) {
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      const std::string path = section.empty() ? key : section + "." + key;
      const YAML::Node& child = kv.second;
      if (const key_spec* spec = find_key(path)) {
        read_leaf(*spec, child);
      } else if (is_section(path)) {
        if (child.IsNull()) continue;
        if (!child.IsMap()) {
          problem(path, child, "must be a mapping with the keys: " + join(children_of(path)));
          continue;
        }
        walk(child, path);
      } else {
        unknown_key(path, key, section, kv.first);
      }
    }
  }

  void unknown_key(const std::string& path, const std::string& key, const std::string& section,
                   const YAML::Node& node) {
    auto allowed = children_of(section);
    std::string hint;
    std::size_t best = 3;
    for (const auto& a : allowed) {
      auto d = edit_distance(lower(key), a);
      if (d < best) {
        best = d;
        hint = " (did you mean '" + (section.empty() ? a : section + "." + a) + "'?)";
      }
    }
    problem("", node,
            "unknown key '" + path + "'" + hint + "; allowed " +
                (section.empty() ? "sections" : "keys in '" + section + "'") + ": " + join(allowed));
  }

  void read_leaf(const key_spec& spec, const YAML::Node& node) {
    raw_value v;
    v.present = true;
    auto type_error = [&](const std::string& got) {
      problem(spec.path, node, "expected " + describe_allowed(spec) + ", got " + got);
    };
    switch (spec.type) {
      case value_type::string:
      case value_type::integer:
      case value_type::enumeration:
        if (node.IsNull()) {
          if (spec.type != value_type::string) return type_error("nothing");
          v.scalar = "";
        } else if (!node.IsScalar()) {
          return type_error(node.IsMap() ? "a mapping" : "a list");
        } else {
          v.scalar = node.Scalar();
        }
        if (!check_scalar(spec, v.scalar, [&](const std::string& m) { problem(spec.path, node, m); })) return;
        break;
      case value_type::string_list:
        if (node.IsNull()) break;
        if (!node.IsSequence()) return type_error(node.IsMap() ? "a mapping" : "'" + node.Scalar() + "'");
        for (const auto& item : node) {
          if (!item.IsScalar() || trim(item.Scalar()).empty()) {
            return problem(spec.path, item, "expected a list of non-empty strings");
          }
          v.list.push_back(trim(item.Scalar()));
        }
        break;
      case value_type::string_map:
        if (node.IsNull()) break;
        if (!node.IsMap()) return type_error(node.IsSequence() ? "a list" : "'" + node.Scalar() + "'");
        for (const auto& kv : node) {
          if (!kv.second.IsScalar() && !kv.second.IsNull()) {
            return problem(spec.path + "." + kv.first.Scalar(), kv.second, "expected a string");
          }
          std::string value = kv.second.IsNull() ? "" : kv.second.Scalar();
          if (!check_map_value(spec, kv.first.Scalar(), value,
                               [&](const std::string& m) { problem(spec.path, kv.second, m); })) {
            return;
          }
          v.map[map_key(spec, kv.first.Scalar())] = value;
        }
        break;
      case value_type::document:
        if (node.IsNull()) {
          v.scalar = "[]";
          break;
        }
        if (!node.IsSequence()) return type_error(node.IsMap() ? "a mapping" : "'" + node.Scalar() + "'");
        to_json(node, v.scalar);
        break;
    }
    values_[spec.path] = std::move(v);
  }

  static std::string map_key(const key_spec& spec, const std::string& key) {
    // Services are matched lower-cased, as the fiware-service header is.
    return spec.path == "datamodel.services" ? lower(key) : key;
  }

  template <class Report>
  bool check_scalar(const key_spec& spec, std::string& value, Report report) {
    switch (spec.type) {
      case value_type::integer: {
        std::int64_t n = 0;
        if (!parse_integer(value, ends_with(spec.path, "_bytes"), n) || n < spec.min || n > spec.max) {
          report("expected " + describe_allowed(spec) +
                 (ends_with(spec.path, "_bytes") ? " (KiB, MiB, GiB allowed)" : "") + ", got '" + value + "'");
          return false;
        }
        value = std::to_string(n);
        return true;
      }
      case value_type::enumeration: {
        auto it = std::find(spec.allowed.begin(), spec.allowed.end(), lower(trim(value)));
        if (it == spec.allowed.end()) {
          report("expected " + describe_allowed(spec) + ", got '" + value + "'");
          return false;
        }
        value = *it;
        return true;
      }
      default: return true;
    }
  }

  template <class Report>
  bool check_map_value(const key_spec& spec, const std::string& key, std::string& value, Report report) {
    if (trim(key).empty()) {
      report("a key of the mapping is empty");
      return false;
    }
    if (spec.allowed.empty()) return true;
    auto it = std::find(spec.allowed.begin(), spec.allowed.end(), lower(trim(value)));
    if (it == spec.allowed.end()) {
      report("'" + key + "': expected one of: " + join(spec.allowed) + ", got '" + value + "'");
      return false;
    }
    value = *it;
    return true;
  }

  // ----------------------------------------------------------- environment
  void apply_environment() {
    static const std::string kPropertyPrefix = "KAFNUS_KAFKA_PROPERTY_";
    for (const auto& [name, text] : env_) {
      if (name.rfind("KAFNUS_", 0) != 0 || name == "KAFNUS_CONFIG") continue;
      auto report = [&, n = name](const std::string& m) { problems_.push_back("environment " + n + ": " + m); };
      if (name.rfind(kPropertyPrefix, 0) == 0) {
        std::string prop = lower(name.substr(kPropertyPrefix.size()));
        std::replace(prop.begin(), prop.end(), '_', '.');
        auto& v = values_["kafka.properties"];
        v.present = true;
        v.map[prop] = text;
        continue;
      }
      const key_spec* spec = nullptr;
      for (const auto& k : schema()) {
        if (env_name(k.path) == name) spec = &k;
      }
      if (!spec) {
        warnings_.push_back("environment variable " + name + " is not a Kafnus setting and was ignored");
        continue;
      }
      raw_value v;
      v.present = true;
      switch (spec->type) {
        case value_type::string_list: v.list = split(text, ','); break;
        case value_type::string_map: {
          // A bad pair rejects this variable; the other variables are still
          // checked, so that every problem is reported at once.
          bool valid = true;
          for (const auto& pair : split(text, ',')) {
            auto eq = pair.find('=');
            if (eq == std::string::npos) {
              report(spec->path + ": expected name=value pairs separated by commas, got '" + pair + "'");
              valid = false;
              break;
            }
            std::string key = trim(pair.substr(0, eq)), value = trim(pair.substr(eq + 1));
            auto rep = [&](const std::string& m) { report(spec->path + ": " + m); };
            if (!check_map_value(*spec, key, value, rep)) {
              valid = false;
              break;
            }
            v.map[map_key(*spec, key)] = value;
          }
          if (!valid) continue;
          break;
        }
        default:
          v.scalar = spec->type == value_type::document && trim(text).empty() ? "[]" : text;
          if (!check_scalar(*spec, v.scalar, [&](const std::string& m) { report(spec->path + ": " + m); })) continue;
      }
      values_[spec->path] = std::move(v);
    }
  }

  // --------------------------------------------------------- secret files
  bool read_first_line(const std::string& key, const std::string& path, std::string& out) {
    std::ifstream in(path);
    if (!in) {
      problems_.push_back(key + ": cannot read '" + path + "': " + std::generic_category().message(errno));
      return false;
    }
    std::getline(in, out);
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
  }

  void read_secret_files() {
    auto from_file = [&](const std::string& file_key, const std::string& target) {
      auto it = values_.find(file_key);
      if (it == values_.end() || it->second.scalar.empty()) return;
      std::string secret;
      if (!read_first_line(file_key, it->second.scalar, secret)) return;
      auto& t = values_[target];
      t.present = true;
      t.scalar = secret;
    };
    from_file("postgres.password_file", "postgres.password");
    from_file("admin.token_file", "admin.token");
    auto files = values_.find("kafka.property_files");
    if (files != values_.end()) {
      for (const auto& [prop, path] : files->second.map) {
        std::string secret;
        if (!read_first_line("kafka.property_files." + prop, path, secret)) continue;
        auto& props = values_["kafka.properties"];
        props.present = true;
        props.map[prop] = secret;
      }
    }
  }

  void apply_defaults() {
    for (const auto& spec : schema()) {
      auto& v = values_[spec.path];
      if (v.present) {
        if (spec.required && trim(v.scalar).empty()) {
          problems_.push_back(origin_ + ": " + spec.path + " is required and is empty: set it to " + spec.help +
                              " (or set " + env_name(spec.path) + ")");
        }
        continue;
      }
      if (spec.required) {
        problems_.push_back(origin_ + ": " + spec.path + " is required: set it to " + spec.help + " (or set " +
                            env_name(spec.path) + ")");
        continue;
      }
      if (spec.type == value_type::string_list) {
        v.list = split(spec.default_value, ',');
      } else {
        v.scalar = spec.default_value;
      }
    }
  }

  // ----------------------------------------------------------- build/check
  const raw_value& at(const std::string& path) const { return values_.at(path); }

  // Every key lands in its field, as the schema binds it.
  settings build() const {
    settings out{};
    for (const auto& spec : schema()) {
      if (!spec.assign) continue;  // consumed by read_secret_files
      const auto& v = at(spec.path);
      spec.assign(out, loaded_value{v.scalar, v.list, v.map});
    }
    return out;
  }

  void check(settings& out) {
    auto fail = [&](const std::string& m) { problems_.push_back(origin_ + ": " + m); };
    // Patterns must compile; a topic may be listed under several flows (it
    // feeds each of them).
    std::set<std::string> owner;
    const std::pair<const char*, const flow_settings*> flows[] = {
        {"historic", &out.flows.historic}, {"lastdata", &out.flows.lastdata}, {"mutable", &out.flows.mutable_}};
    for (const auto& [name, f] : flows) {
      for (const auto& t : f->topics) {
        if (is_topic_pattern(t)) {
          if (auto problem = topic_pattern_problem(t); !problem.empty()) {
            fail("flows." + std::string(name) + ".topics: " + problem);
          }
        }
        owner.insert(t);
      }
    }
    if (owner.empty()) {
      fail(
          "flows: no topic is configured; give at least one of flows.historic.topics, flows.lastdata.topics, "
          "flows.mutable.topics");
    }
    // Kafnus owns these librdkafka properties.
    static const std::map<std::string, std::string> managed = {
        {"bootstrap.servers", "use kafka.brokers"},
        {"metadata.broker.list", "use kafka.brokers"},
        {"group.id", "use kafka.group_id"},
        {"client.id", "use kafka.client_id"},
        {"enable.auto.commit", "Kafnus commits offsets itself, with the rows"},
        {"enable.auto.offset.store", "Kafnus stores offsets itself, with the rows"},
        {"auto.offset.reset", "use kafka.auto_offset_reset"},
    };
    for (const auto& [k, v] : out.kafka.properties) {
      auto m = managed.find(k);
      if (m != managed.end()) fail("kafka.properties." + k + ": Kafnus sets this property; " + m->second);
    }
    // admin.listen: host:port
    const auto& listen = out.admin.listen;
    auto colon = listen.rfind(':');
    std::int64_t port = 0;
    if (colon == std::string::npos || colon == 0 || !parse_integer(listen.substr(colon + 1), false, port) || port < 1 ||
        port > 65535) {
      fail("admin.listen: expected host:port (e.g. 0.0.0.0:8000 or 127.0.0.1:8000), got '" + listen + "'");
    } else {
      out.admin.host = listen.substr(0, colon);
      if (out.admin.host.size() > 2 && out.admin.host.front() == '[' && out.admin.host.back() == ']') {
        out.admin.host = out.admin.host.substr(1, out.admin.host.size() - 2);
      }
      out.admin.port = static_cast<int>(port);
    }
    if (out.writer.retry_initial_ms > out.writer.retry_max_ms) {
      fail("writer.retry_initial_ms (" + std::to_string(out.writer.retry_initial_ms) +
           ") must not exceed writer.retry_max_ms (" + std::to_string(out.writer.retry_max_ms) + ")");
    }
    if (out.supervisor.backoff_initial_ms > out.supervisor.backoff_max_ms) {
      fail("supervisor.backoff_initial_ms (" + std::to_string(out.supervisor.backoff_initial_ms) +
           ") must not exceed supervisor.backoff_max_ms (" + std::to_string(out.supervisor.backoff_max_ms) + ")");
    }
    if (out.limits.max_value_bytes > out.limits.max_message_bytes) {
      fail("limits.max_value_bytes (" + std::to_string(out.limits.max_value_bytes) +
           ") must not exceed limits.max_message_bytes (" + std::to_string(out.limits.max_message_bytes) + ")");
    }
    read_name_mappings(out);
    const auto& schema_name = out.postgres.offsets_schema;
    if (schema_name.empty() || schema_name.size() > 63 ||
        !std::all_of(schema_name.begin(), schema_name.end(),
                     [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '_'; })) {
      fail("postgres.offsets_schema: expected a lower-case name of letters, digits and '_' (at most 63), got '" +
           schema_name + "'");
    }
  }

  // The inline rules, then those of mappings.file, compiled once for every
  // processor; each problem names its rule.
  void read_name_mappings(settings& out) {
    auto rules = std::make_shared<ngsi::name_mappings>();
    std::size_t warned = 0;
    auto add = [&](const std::string& json, const std::function<std::string(const std::string&)>& where) {
      for (const auto& p : rules->add_json(json)) problems_.push_back(origin_ + ": " + where(p));
      for (; warned < rules->warnings().size(); ++warned) warnings_.push_back(where(rules->warnings()[warned]));
    };
    if (trim(out.mappings.service_mappings) != "[]") {
      // Read as the list of a file's "serviceMappings", so paths name the rule.
      add("{\"serviceMappings\":" + out.mappings.service_mappings + "}", [](const std::string& p) {
        return p.rfind("serviceMappings", 0) == 0 ? "mappings." + p : "mappings.serviceMappings: " + p;
      });
    }
    if (!out.mappings.file.empty()) {
      std::ifstream in(out.mappings.file);
      if (!in) {
        problems_.push_back(origin_ + ": mappings.file: cannot read '" + out.mappings.file +
                            "': " + std::generic_category().message(errno));
        return;
      }
      std::stringstream text;
      text << in.rdbuf();
      add(text.str(), [&](const std::string& p) { return "mappings.file " + out.mappings.file + ": " + p; });
    }
    if (!rules->empty()) out.mappings.rules = std::move(rules);
  }

  // -------------------------------------------------------------- render
  std::string render(const settings&) const {
    YAML::Emitter e;
    e << YAML::BeginMap;
    std::vector<std::string> open;  // currently open sections
    for (const auto& spec : schema()) {
      std::vector<std::string> parts = split(spec.path, '.');
      std::vector<std::string> sections(parts.begin(), parts.end() - 1);
      std::size_t common = 0;
      while (common < open.size() && common < sections.size() && open[common] == sections[common]) ++common;
      for (std::size_t k = open.size(); k > common; --k) e << YAML::EndMap;
      open.resize(common);
      for (std::size_t k = common; k < sections.size(); ++k) {
        e << YAML::Key << sections[k] << YAML::Value << YAML::BeginMap;
        open.push_back(sections[k]);
      }
      e << YAML::Key << parts.back() << YAML::Value;
      const auto& v = values_.at(spec.path);
      switch (spec.type) {
        case value_type::string_list:
          e << YAML::Flow << YAML::BeginSeq;
          for (const auto& item : v.list) e << item;
          e << YAML::EndSeq;
          break;
        case value_type::document: e << YAML::Load(v.scalar); break;
        case value_type::string_map:
          e << YAML::BeginMap;
          for (const auto& [k, val] : v.map) {
            e << YAML::Key << k << YAML::Value
              << ((is_secret_name(k) && spec.path == "kafka.properties" && !val.empty()) ? kMasked : val);
          }
          e << YAML::EndMap;
          break;
        default:
          if (spec.secret && !v.scalar.empty()) {
            e << kMasked;
          } else if (spec.type == value_type::integer) {
            e << std::stoll(v.scalar);
          } else {
            e << v.scalar;
          }
      }
    }
    for (std::size_t k = open.size(); k > 0; --k) e << YAML::EndMap;
    e << YAML::EndMap;
    return std::string(e.c_str()) + "\n";
  }

  const environment& env_;
  std::string origin_;
  values values_;
  std::vector<std::string> problems_;
  std::vector<std::string> warnings_;
};

}  // namespace

config_error::config_error(std::vector<std::string> problems)
    : std::runtime_error(join(problems, "\n")), problems_(std::move(problems)) {}

environment process_environment() {
  environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (name.rfind("KAFNUS_", 0) == 0) env[name] = entry.substr(eq + 1);
  }
  return env;
}

settings load_string(const std::string& yaml, const environment& env, const std::string& origin) {
  return loader(env, origin).run(yaml);
}

settings load_file(const std::string& path, const environment& env) {
  std::ifstream in(path);
  if (!in) {
    throw config_error({path + ": cannot open the configuration file: " + std::generic_category().message(errno) +
                        " (give another one with --config FILE)"});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return load_string(buffer.str(), env, path);
}

}  // namespace kafnus::config
