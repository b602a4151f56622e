// libFuzzer target: arbitrary bytes through transform() in every flow.
//
// Input layout: when the input holds a blank line ("\n\n"), the lines before
// it are Kafka headers ("Name: value") and the rest is the record value;
// otherwise the whole input is the value, with Orion's usual headers. The
// seed corpus (make_corpus.py) uses the first form.
//
// Besides "no crash, no leak, no undefined behaviour", the target checks the
// promises the writer relies on and aborts when one is broken.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "ngsi/transform.hpp"

namespace {

using namespace kafnus::ngsi;

// A broken promise: say which one, then abort so libFuzzer keeps the input.
#define KAFNUS_CHECK(cond)                                                 \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "kafnus_ngsi_fuzz: check failed: %s\n", #cond); \
      std::abort();                                                        \
    }                                                                      \
  } while (false)

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

header_list split(std::string_view input, std::string_view& payload) {
  const auto blank = input.find("\n\n");
  if (blank == std::string_view::npos) {
    payload = input;
    return {{"Fiware-Service", "test"}, {"Fiware-ServicePath", "/simple"}};
  }
  payload = input.substr(blank + 2);
  header_list headers;
  std::string_view block = input.substr(0, blank);
  while (!block.empty()) {
    const auto eol = block.find('\n');
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view val = line.substr(colon + 1);
    while (!val.empty() && val.front() == ' ') val.remove_prefix(1);
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(val));
  }
  return headers;
}

void check_output(const transform_output& out) {
  KAFNUS_CHECK(out.rows.size() <= out.entities);
  KAFNUS_CHECK(out.rows.size() + out.errors.size() <= out.entities + 1);
  for (const auto& r : out.rows) {
    KAFNUS_CHECK(is_identifier(r.table.schema) && is_identifier(r.table.table));
    KAFNUS_CHECK(!r.columns.empty() && r.columns[0].name == kEntityId && !r.entity_id().empty());
    KAFNUS_CHECK(!r.service.empty());
    if (r.op == operation::remove) {
      KAFNUS_CHECK(r.f == flow::lastdata && r.columns.size() == 1);
    } else {
      KAFNUS_CHECK(r.columns.size() >= 4);
      if (r.f != flow::lastdata) KAFNUS_CHECK(r.timeinstant_us.has_value());
    }
    for (const auto& c : r.columns) {
      KAFNUS_CHECK(!c.name.empty());
      if (c.val.kind == value_kind::geometry) {  // EWKB bytes: byte order 1, a type code, the SRID 4326
        KAFNUS_CHECK(c.val.text.size() >= 9 && c.val.text[0] == '\1');
        continue;
      }
      KAFNUS_CHECK(c.val.text.find('\0') == std::string::npos);
      KAFNUS_CHECK(simdjson::validate_utf8(c.val.text.data(), c.val.text.size()));
      switch (c.val.kind) {
        case value_kind::null: KAFNUS_CHECK(c.val.text.empty()); break;
        case value_kind::boolean: KAFNUS_CHECK(c.val.text == "true" || c.val.text == "false"); break;
        case value_kind::number:
        case value_kind::json: KAFNUS_CHECK(!c.val.text.empty()); break;
        case value_kind::timestamp: KAFNUS_CHECK(c.val.text.size() >= 29); break;
        case value_kind::geometry: break;  // checked above
        case value_kind::text: break;
      }
    }
  }
  for (const auto& e : out.errors) {
    KAFNUS_CHECK(!e.service.empty() && !e.message.empty());
    KAFNUS_CHECK(simdjson::validate_utf8(e.message.data(), e.message.size()));
    // Messages quote input in short excerpts only.
    KAFNUS_CHECK(e.message.size() < 4096);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view payload;
  const header_list headers = split(input, payload);
  for (flow f : kAllFlows) {
    transform_options options;
    options.f = f;
    options.datamodels.per_service["testdatamodel"] = datamodel::by_entity_type_database_schema;
    transform_output out;
    transform(payload, headers, options, 1750935600000000, out);
    check_output(out);
  }
  return 0;
}
