#pragma once
// Loading the configuration: YAML file -> KAFNUS_* environment overrides ->
// secrets read from files -> defaults -> validation -> settings.

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace kafnus::config {

// Every problem found in a configuration, each naming the key and what it
// accepts. Thrown by load_*; `what()` joins them one per line.
class config_error : public std::runtime_error {
 public:
  explicit config_error(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

using environment = std::map<std::string, std::string>;

// The KAFNUS_* variables of this process.
environment process_environment();

settings load_file(const std::string& path, const environment& env);
settings load_string(const std::string& yaml, const environment& env, const std::string& origin = "<config>");

// The value shown in place of a secret.
inline constexpr const char* kMasked = "********";

}  // namespace kafnus::config
