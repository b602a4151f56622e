#include "admin/config_json.hpp"

#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "telemetry/json_writer.hpp"

namespace kafnus {
namespace {

bool parse_int(const std::string& text, long long& out) {
  try {
    std::size_t used = 0;
    out = std::stoll(text, &used);
    return used == text.size();
  } catch (const std::exception&) {
    return false;
  }
}

// Whether a scalar is a secret: a secret key of the schema, or a librdkafka
// property whose name looks secret (the loader's rule). Other maps hold
// service names and file paths, which are not secrets.
bool is_secret(const config::key_spec* spec, const config::key_spec* map_spec, const std::string& name) {
  if (spec && spec->secret) return true;
  return map_spec && map_spec->path == "kafka.properties" && config::is_secret_name(name);
}

void write_scalar(json_writer& w, const YAML::Node& node, const config::key_spec* spec, bool secret) {
  const auto& text = node.Scalar();
  long long number = 0;
  if (secret && !text.empty()) {
    w.string(config::kMasked);
  } else if (spec && spec->type == config::value_type::integer && parse_int(text, number)) {
    w.integer(number);
  } else {
    w.string(text);
  }
}

// `path` is the dotted schema path of `node`; `map_spec` is set when `node`
// is the value of entry `name` of a string_map key (kafka.properties, ...).
void write_node(json_writer& w, const YAML::Node& node, const std::string& path, const config::key_spec* map_spec,
                const std::string& name) {
  const config::key_spec* spec = map_spec ? nullptr : config::find_key(path);
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      const bool is_map_key = spec && spec->type == config::value_type::string_map;
      w.begin_object();
      for (const auto& kv : node) {
        const auto key = kv.first.Scalar();
        w.key(key);
        write_node(w, kv.second, path.empty() ? key : path + "." + key, is_map_key ? spec : map_spec, key);
      }
      w.end_object();
      break;
    }
    case YAML::NodeType::Sequence:
      w.begin_array();
      for (const auto& item : node) write_node(w, item, path, map_spec, name);
      w.end_array();
      break;
    case YAML::NodeType::Scalar: write_scalar(w, node, spec, is_secret(spec, map_spec, name)); break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: w.null(); break;
  }
}

}  // namespace

std::string effective_config_json(const std::string& effective_yaml) {
  const YAML::Node root = YAML::Load(effective_yaml);
  if (!root.IsMap()) throw std::runtime_error("the effective configuration is not a YAML mapping");
  json_writer w;
  write_node(w, root, "", nullptr, "");
  return w.str();
}

}  // namespace kafnus
