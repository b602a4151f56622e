#pragma once
// Checking the admin token on protected requests (POST /logLevel).

#include <optional>
#include <string>
#include <string_view>

namespace kafnus {

// Compares in time that depends only on the lengths, never on where the
// contents differ, so the token cannot be guessed byte by byte from timings.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

// True when `authorization` is "Bearer <token>" (scheme case-insensitive).
// An empty `token` means the server is unprotected: always true.
bool bearer_authorized(const std::optional<std::string>& authorization, std::string_view token) noexcept;

}  // namespace kafnus
