#pragma once
// The effective configuration as JSON, for GET /config.

#include <string>

namespace kafnus {

// Converts settings::effective_yaml (already masked by the loader) to JSON.
// Integer keys of the schema become JSON numbers, everything else strings;
// lists become arrays and sections objects. As a second line of defence,
// every non-empty secret of the schema and every kafka.properties entry
// whose name looks secret is masked again. Throws std::runtime_error when the YAML is not
// a mapping (it always is when it comes from the loader).
std::string effective_config_json(const std::string& effective_yaml);

}  // namespace kafnus
