#pragma once
// The configuration schema: every key the YAML file may hold, its type, its
// default, what values are allowed, and whether it is a secret. The loader,
// the environment overrides and the effective-config printer all read this one
// table, so a key is declared exactly once.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kafnus::config {

enum class value_type {
  string,       // any text
  integer,      // whole number within [min, max]
  enumeration,  // one of `allowed`
  string_list,  // list of non-empty strings
  string_map,   // mapping of string -> string (values restricted to `allowed` when set)
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
