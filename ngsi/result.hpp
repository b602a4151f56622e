#pragma once
// A value or the error that prevented it: how ngsi/ reports expected
// failures (a bad notification is data, not an exceptional event).

#include <string>
#include <utility>
#include <variant>

namespace kafnus::ngsi {

struct error {
  std::string message;  // names the problem and, where possible, the fix
};

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(error e) : v_(std::move(e)) {}      // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

inline error make_error(std::string message) { return error{std::move(message)}; }

}  // namespace kafnus::ngsi
