#pragma once
// A minimal streaming JSON writer for the admin endpoints' small responses:
// objects, arrays, strings (escaped, and always valid UTF-8: a byte that
// does not start a well-formed sequence is written as \ufffd), integers,
// finite doubles, booleans and null. Commas are placed automatically; the caller keeps keys and values
// paired and containers balanced.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/json.hpp"

namespace kafnus {

class json_writer {
 public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();

  // The key of the next member; must be followed by exactly one value.
  json_writer& key(std::string_view k);

  json_writer& string(std::string_view s);
  json_writer& integer(std::int64_t v);
  json_writer& number(double v);  // NaN and infinities are written as null
  json_writer& boolean(bool v);
  json_writer& null();

  const std::string& str() const { return out_; }

 private:
  void before_value();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

using text::json_quote;  // `s` as a JSON string literal, quotes included, valid UTF-8

}  // namespace kafnus
