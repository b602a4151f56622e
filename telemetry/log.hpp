#pragma once
// Structured logging: one line per event an operator needs, as
// `ts LEVEL event=… msg="…" key=value…` (text) or one JSON object (json).
// Thread-safe; the level can be changed while running (/logLevel).

#include <initializer_list>
#include <string>
#include <string_view>

namespace kafnus::log {

enum class level { trace, debug, info, warn, error };

// Sets up the process-wide logger (stderr). format: "text" | "json".
void init(std::string_view level_name, std::string_view format);

// Changes the level; false when the name is not one of trace, debug, info, warn, error.
bool set_level(std::string_view level_name);
std::string current_level();
bool enabled(level l);

struct field {
  std::string_view key;
  std::string value;
};

void write(level l, std::string_view event, std::string_view message, std::initializer_list<field> fields = {});

inline void trace(std::string_view e, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::trace, e, m, f);
}
inline void debug(std::string_view e, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::debug, e, m, f);
}
inline void info(std::string_view e, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::info, e, m, f);
}
inline void warn(std::string_view e, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::warn, e, m, f);
}
inline void error(std::string_view e, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::error, e, m, f);
}

}  // namespace kafnus::log
