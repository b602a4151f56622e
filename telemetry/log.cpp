#include "telemetry/log.hpp"

#include "telemetry/json_writer.hpp"
#include "text/utf8.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <memory>

namespace kafnus::log {
namespace {

std::atomic<bool> g_json{false};

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("kafnus", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *instance;
}

spdlog::level::level_enum to_spd(level l) {
  switch (l) {
    case level::trace: return spdlog::level::trace;
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warn: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

bool parse(std::string_view name, spdlog::level::level_enum& out) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "trace")
    out = spdlog::level::trace;
  else if (lower == "debug")
    out = spdlog::level::debug;
  else if (lower == "info")
    out = spdlog::level::info;
  else if (lower == "warn" || lower == "warning")
    out = spdlog::level::warn;
  else if (lower == "error")
    out = spdlog::level::err;
  else
    return false;
  return true;
}

void append_json_string(std::string& out, std::string_view s) { out += json_quote(s); }

// Text values are quoted when they hold spaces, quotes, '=', control
// characters or bytes that are not UTF-8 (values can come from messages),
// so a line stays one parseable, valid UTF-8 line.
void append_text_value(std::string& out, std::string_view s) {
  bool plain = !s.empty() && s.find_first_of(" \"=") == std::string_view::npos &&
               std::none_of(s.begin(), s.end(),
                            [](char c) {
                              const auto u = static_cast<unsigned char>(c);
                              return u < 0x20 || u == 0x7F;
                            }) &&
               text::is_valid_utf8(s);
  if (plain) {
    out += s;
  } else {
    append_json_string(out, s);
  }
}

}  // namespace

void init(std::string_view level_name, std::string_view format) {
  g_json = format == "json";
  if (g_json) {
    logger().set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}", spdlog::pattern_time_type::utc);
  } else {
    logger().set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  }
  set_level(level_name);
}

bool set_level(std::string_view level_name) {
  spdlog::level::level_enum l;
  if (!parse(level_name, l)) return false;
  logger().set_level(l);
  return true;
}

std::string current_level() {
  switch (logger().level()) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    default: return "off";
  }
}

bool enabled(level l) { return logger().should_log(to_spd(l)); }

void write(level l, std::string_view event, std::string_view message, std::initializer_list<field> fields) {
  auto lvl = to_spd(l);
  if (!logger().should_log(lvl)) return;
  std::string line;
  line.reserve(128);
  if (g_json) {
    line += "\"event\":";
    append_json_string(line, event);
    line += ",\"msg\":";
    append_json_string(line, message);
    for (const auto& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      append_json_string(line, f.value);
    }
  } else {
    line += "event=";
    line += event;
    line += " msg=";
    append_json_string(line, message);
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      append_text_value(line, f.value);
    }
  }
  logger().log(lvl, "{}", line);
}

}  // namespace kafnus::log
