#pragma once
// JSON string literals, for every folder that writes a little JSON by hand.

#include <string>
#include <string_view>

namespace kafnus::text {

// `s` as a JSON string literal, quotes included, valid UTF-8 whatever `s`
// holds: a byte that does not start a well-formed sequence is written as
// \ufffd.
std::string json_quote(std::string_view s);

}  // namespace kafnus::text
