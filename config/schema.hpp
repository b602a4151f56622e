#pragma once
// The configuration schema: every key the YAML file may hold — its type, its
// default, what values are allowed, whether it is a secret, its help text and
// the field of `settings` it fills. The loader, the environment overrides, the
// effective-config printer and the tests of config/kafnus.yaml all read this
// one list, so a key is declared exactly once (its environment variable is
// derived from its path: env_name).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace kafnus::config {

enum class value_type {
  string,       // any text
  integer,      // whole number within [min, max]
  enumeration,  // one of `allowed`
  string_list,  // list of non-empty strings
  string_map,   // mapping of string -> string (values restricted to `allowed` when set)
  document,     // nested lists and mappings (name mappings), kept as JSON text
};

// A key's value in its canonical text form: what the loader reads from the
// YAML file or the environment, and what a `settings` holds, written back.
struct loaded_value {
  std::string scalar;                      // string, integer (decimal), enumeration (its name), document (JSON)
  std::vector<std::string> list;           // string_list
  std::map<std::string, std::string> map;  // string_map (enumeration values by name)
};

struct key_spec {
  std::string path;  // dotted path, e.g. "postgres.port"
  value_type type;
  std::string default_value;  // as text; for lists "a,b"; empty map/list = ""
  bool required = false;
  bool secret = false;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::vector<std::string> allowed;
  std::string help;
  // Where the value lands in `settings`, and what a `settings` holds for it.
  // Empty for the keys the loader consumes itself (the *_file keys, whose
  // contents become another key's value).
  std::function<void(settings&, const loaded_value&)> assign;
  std::function<loaded_value(const settings&)> read;
};

// All keys, in the order the effective configuration is printed.
const std::vector<key_spec>& schema();

// The spec of a dotted path, or nullptr.
const key_spec* find_key(std::string_view path);

// The environment variable that overrides a key: KAFNUS_ + upper-cased path
// with '.' replaced by '_' (postgres.port -> KAFNUS_POSTGRES_PORT).
std::string env_name(std::string_view path);

// Whether a librdkafka property or map key holds a secret (password, secret,
// token, private key) and must be masked wherever it is shown.
bool is_secret_name(std::string_view name);

// Human description of what a key accepts ("an integer from 1 to 65535").
std::string describe_allowed(const key_spec& spec);

}  // namespace kafnus::config
