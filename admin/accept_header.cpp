#include "admin/accept_header.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

#include "text/ascii.hpp"

namespace kafnus {
namespace {

using text::trim;

// The quality of one media range ("text/plain;q=0.5" -> 0.5); 1 when absent.
double quality(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    auto param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      std::string value(param.substr(2));
      return std::strtod(value.c_str(), nullptr);
    }
  }
  return 1.0;
}

}  // namespace

bool accepts_prometheus_text(std::string_view accept) {
  if (trim(accept).empty()) return true;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    auto range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = range.find(';');
    const auto type = text::to_lower_ascii(trim(range.substr(0, semi)));
    const auto params = semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1);
    if ((type == "text/plain" || type == "text/*" || type == "*/*") && quality(params) > 0) return true;
  }
  return false;
}

}  // namespace kafnus
