#pragma once
// The value of a Prometheus label that comes from outside the daemon: a
// service name from a message header, a topic name from the broker.
//
// The exposition format needs label values in valid UTF-8 — one invalid
// byte makes Prometheus refuse the whole page ("invalid label value") and
// every panel and alert goes dark — and every byte of a label is repeated in
// each series of each scrape. So the value is made valid UTF-8 (each byte
// that does not start a well-formed sequence becomes U+FFFD), printable
// (control characters become U+FFFD too, so no line break or terminal
// escape reaches a dashboard) and short (cut on a character boundary, "…"
// marking the cut). Quotes and backslashes are kept: prometheus-cpp's
// TextSerializer escapes `\`, `"` and line feeds when it writes the page.

#include <cstddef>
#include <string>
#include <string_view>

namespace kafnus {

// Orion limits a service name to 50 characters; topic names are at most 249
// ASCII bytes in Kafka but are configured, hence short in practice.
inline constexpr std::size_t kMaxLabelBytes = 128;

std::string label_value(std::string_view raw, std::size_t max_bytes = kMaxLabelBytes);

// `s` with each byte that does not start a well-formed UTF-8 sequence
// (stray continuation bytes, truncated or overlong forms, surrogates, code
// points past U+10FFFF) replaced by U+FFFD; valid text comes back unchanged.
std::string valid_utf8(std::string_view s);

}  // namespace kafnus
