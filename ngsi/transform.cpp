#include "ngsi/transform.hpp"

#include <simdjson.h>

#include <algorithm>
#include <unordered_set>

#include "ngsi/attribute_value.hpp"
#include "ngsi/table_name.hpp"
#include "ngsi/text.hpp"

namespace kafnus::ngsi {
namespace {

namespace od = simdjson::ondemand;

// A malformed record: the whole record becomes one error, none of its rows
// are kept (a truncated notification must not be half written).
struct record_error {
  std::string message;
};

[[noreturn]] void malformed(const std::string& what, simdjson::error_code e) {
  throw record_error{what + ": " + simdjson::error_message(e)};
}

template <class T>
T get_or_throw(simdjson::simdjson_result<T>&& r, const char* what) {
  T v;
  if (auto e = std::move(r).get(v)) malformed(std::string("the notification is not valid JSON (") + what + ")", e);
  return v;
}

// The deepest nesting of objects and arrays, stopping as soon as it passes
// `limit` (so a hostile 100,000-deep document costs nothing more).
int nesting_depth(std::string_view s, int limit) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max;
}

struct pending_attribute {
  std::string name;   // as sent
  std::string lower;  // column name
  std::string ngsi_type;
  json_value value;
  std::string problem;  // why it cannot be used, when it cannot
};

class transformer {
 public:
  transformer(const header_list& headers, const transform_options& o, std::int64_t now_us, transform_output& out)
      : ctx_(read_fiware_context(headers)), o_(o), now_us_(now_us), out_(out) {}

  void run(std::string_view payload) {
    if (!valid_utf8(ctx_.service) || !valid_utf8(ctx_.servicepath)) {
      return record_failed("the fiware-service or fiware-servicepath header is not valid UTF-8");
    }
    auto dm = choose_datamodel(ctx_, o_.datamodels);
    if (!dm) return record_failed(dm.err().message);
    dm_ = dm.value();
    try {
      parse(payload, 0);
    } catch (const record_error& e) {
      return record_failed(e.message);
    }
    for (auto& r : rows_) out_.rows.push_back(std::move(r));
    for (auto& e : errors_) out_.errors.push_back(std::move(e));
  }

 private:
  void record_failed(std::string message) {
    out_.errors.push_back(transform_error{ctx_.service, std::move(message), std::nullopt});
  }

  void parse(std::string_view payload, int envelope_level) {
    if (payload.size() > o_.lim.max_message_bytes) {
      throw record_error{"the notification is " + std::to_string(payload.size()) + " bytes; the limit is " +
                         std::to_string(o_.lim.max_message_bytes) + " (limits.max_message_bytes)"};
    }
    if (nesting_depth(payload, o_.lim.max_nesting_depth) > o_.lim.max_nesting_depth) {
      throw record_error{"the notification nests deeper than " + std::to_string(o_.lim.max_nesting_depth) +
                         " levels (limits.max_nesting_depth)"};
    }
    thread_local od::parser parser;
    thread_local std::string buffer;
    buffer.reserve(payload.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(payload.data(), payload.size());
    simdjson::padded_string_view view(buffer.data(), buffer.size(), buffer.capacity());

    od::document doc;
    if (auto e = parser.iterate(view).get(doc)) {
      malformed(e == simdjson::UTF8_ERROR ? "the notification is not valid UTF-8" : "the notification is not valid JSON",
                e);
    }
    od::object top;
    if (doc.get_object().get(top)) {
      throw record_error{"the notification is not a JSON object; expected {\"subscriptionId\": …, \"data\": [ … ]}"};
    }
    bool has_data = false;
    std::string legacy_payload;
    bool has_legacy = false;
    for (auto field_result : top) {
      od::field field = get_or_throw(std::move(field_result), "a member");
      std::string_view key = get_or_throw(field.unescaped_key(), "a member name");
      od::value v = field.value();
      if (key == "data") {
        od::array data;
        if (v.get_array().get(data)) {
          throw record_error{"\"data\" must be an array of entities"};
        }
        has_data = true;
        std::size_t index = 0;
        for (auto item : data) {
          od::value entity = get_or_throw(std::move(item), "an entity");
          entity_from(entity, index++);
        }
      } else if (key == "payload" && envelope_level == 0) {
        od::json_type t = get_or_throw(v.type(), "payload");
        if (t == od::json_type::string) {
          legacy_payload = std::string(get_or_throw(v.get_string(), "payload"));
          has_legacy = true;
        } else if (t == od::json_type::object) {
          od::object inner = get_or_throw(v.get_object(), "payload");
          legacy_payload = std::string(get_or_throw(inner.raw_json(), "payload"));
          has_legacy = true;
        }
      }
    }
    if (has_data) return;
    if (has_legacy) {
      // The Kafka Connect string envelope of the Faust era: the notification
      // travels as a string in "payload".
      return parse(legacy_payload, envelope_level + 1);
    }
    throw record_error{"the notification has no \"data\" array of entities"};
  }

  json_value capture(od::value& v, std::string& problem, const std::string& attribute) {
    json_value out;
    od::json_type t = get_or_throw(v.type(), "a value");
    switch (t) {
      case od::json_type::null:
        get_or_throw(v.is_null(), "a value");
        break;
      case od::json_type::boolean:
        out.kind = json_value::shape::boolean;
        out.flag = get_or_throw(v.get_bool(), "a value");
        break;
      case od::json_type::number: {
        out.kind = json_value::shape::number;
        std::string_view token = v.raw_json_token();
        get_or_throw(v.get_number(), "a number");  // validates the token
        out.text = std::string(trim(token));
        break;
      }
      case od::json_type::string: {
        out.kind = json_value::shape::string;
        std::string_view raw = v.raw_json_token();
        out.raw = std::string(trim(raw));
        std::string_view s = get_or_throw(v.get_string(), "a string");
        out.text = std::string(s);
        if (out.text.find('\0') != std::string::npos) {
          problem = "attribute '" + excerpt(attribute, 80) +
                    "' contains a NUL character (\\u0000), which PostgreSQL text cannot store";
        }
        break;
      }
      case od::json_type::object:
      case od::json_type::array: {
        out.kind = t == od::json_type::object ? json_value::shape::object : json_value::shape::array;
        std::string_view raw;
        if (t == od::json_type::object) {
          od::object o = get_or_throw(v.get_object(), "an object");
          raw = get_or_throw(o.raw_json(), "an object");
        } else {
          od::array a = get_or_throw(v.get_array(), "an array");
          raw = get_or_throw(a.raw_json(), "an array");
        }
        out.text.resize(raw.size());
        std::size_t len = 0;
        if (auto e = simdjson::minify(raw.data(), raw.size(), out.text.data(), len)) malformed("invalid JSON value", e);
        out.text.resize(len);
        break;
      }
    }
    const std::size_t size = std::max(out.text.size(), out.raw.size());
    if (problem.empty() && size > o_.lim.max_value_bytes) {
      problem = "the value of attribute '" + excerpt(attribute, 80) + "' is " + std::to_string(size) +
                " bytes; the limit is " + std::to_string(o_.lim.max_value_bytes) + " (limits.max_value_bytes)";
    }
    return out;
  }

  void entity_from(od::value& v, std::size_t index) {
    ++out_.entities;
    od::object entity;
    if (v.get_object().get(entity)) {
      return entity_failed("entity #" + std::to_string(index) + " of \"data\" is not an object");
    }
    std::string id, type;
    bool has_id = false, has_type = false, is_delete = false;
    std::string problem;
    std::vector<pending_attribute> attrs;
    for (auto field_result : entity) {
      od::field field = get_or_throw(std::move(field_result), "an entity member");
      std::string_view key = get_or_throw(field.unescaped_key(), "an attribute name");
      od::value val = field.value();
      if (key == "id" || key == "type") {
        std::string_view s;
        if (val.get_string().get(s)) {
          if (problem.empty()) problem = "the entity \"" + std::string(key) + "\" must be a string";
          continue;
        }
        (key == "id" ? id : type) = std::string(s);
        (key == "id" ? has_id : has_type) = true;
        continue;
      }
      pending_attribute a;
      a.name = std::string(key);
      a.lower = ascii_lower(key);
      od::object attr;
      if (val.get_object().get(attr)) {
        if (problem.empty()) {
          problem = "attribute '" + excerpt(a.name, 80) + "' is not an object {\"type\", \"value\", \"metadata\"}";
        }
        continue;
      }
      for (auto member_result : attr) {
        od::field member = get_or_throw(std::move(member_result), "an attribute member");
        std::string_view mkey = get_or_throw(member.unescaped_key(), "an attribute member name");
        od::value mval = member.value();
        if (mkey == "type") {
          std::string_view s;
          if (!mval.get_string().get(s)) a.ngsi_type = std::string(s);
        } else if (mkey == "value") {
          a.value = capture(mval, a.problem, a.name);
        }
      }
      if (a.lower == "alterationtype") {
        is_delete = a.value.kind == json_value::shape::string && ascii_lower(a.value.text) == "entitydelete";
        continue;
      }
      if (a.lower == "id" || a.lower == "type") continue;  // never attributes
      attrs.push_back(std::move(a));
    }
    build(index, id, has_id, type, has_type, is_delete, problem, attrs);
  }

  void entity_failed(std::string message, std::optional<row> candidate = std::nullopt) {
    errors_.push_back(transform_error{ctx_.service, std::move(message), std::move(candidate)});
  }

  void build(std::size_t index, const std::string& id, bool has_id, const std::string& type, bool has_type,
             bool is_delete, const std::string& problem, std::vector<pending_attribute>& attrs) {
    const std::string who = has_id ? "entity '" + excerpt(id, 120) + "'" + (has_type ? " (type '" + excerpt(type, 80) + "')" : "")
                                   : "entity #" + std::to_string(index);
    if (!has_id || id.empty()) return entity_failed(who + " has no \"id\"");
    if (!has_type || type.empty()) return entity_failed(who + " has no \"type\"; it names the table");
    if (id.find('\0') != std::string::npos || type.find('\0') != std::string::npos) {
      return entity_failed(who + ": the id or type contains a NUL character");
    }
    if (!problem.empty()) return entity_failed(who + ": " + problem);
    auto table = table_for(dm_, ctx_, type, o_.f);
    if (!table) return entity_failed(who + ": " + table.err().message);

    row r;
    r.f = o_.f;
    r.table = std::move(table.value());
    r.service = ctx_.service;
    r.entity_id = id;
    if (o_.f == flow::lastdata && is_delete) {
      r.op = operation::remove;
      r.columns.push_back({kEntityId, value::text_value(id)});
      rows_.push_back(std::move(r));
      return;
    }
    r.op = o_.f == flow::historic ? operation::insert : operation::upsert;
    if (attrs.size() > static_cast<std::size_t>(o_.lim.max_attributes)) {
      return entity_failed(who + " has " + std::to_string(attrs.size()) + " attributes; the limit is " +
                           std::to_string(o_.lim.max_attributes) + " (limits.max_attributes)");
    }
    r.columns.reserve(attrs.size() + 4);
    r.columns.push_back({kEntityId, value::text_value(id)});
    r.columns.push_back({kEntityType, value::text_value(type)});
    r.columns.push_back({kServicePath, value::text_value(ctx_.servicepath)});
    r.columns.push_back({kRecvTime, value::timestamp(now_us_)});
    std::unordered_set<std::string> seen{kEntityId, kEntityType, kServicePath, kRecvTime};
    for (auto& a : attrs) {
      if (!a.problem.empty()) return entity_failed(who + ": " + a.problem);
      if (a.lower.find('\0') != std::string::npos) return entity_failed(who + ": an attribute name contains NUL");
      if (!seen.insert(a.lower).second) {
        const bool base = a.lower == kEntityId || a.lower == kEntityType || a.lower == kServicePath || a.lower == kRecvTime;
        return entity_failed(who + ": attribute '" + excerpt(a.name, 80) + "' " +
                             (base ? "collides with the column Kafnus fills itself (" + a.lower + ")"
                                   : "appears twice once lower-cased (column " + excerpt(a.lower, 80) + ")"));
      }
      auto typed = type_attribute(a.lower, a.ngsi_type, a.value);
      if (!typed) return entity_failed(who + ": " + typed.err().message);
      if (a.lower == kTimeInstant && typed.value().kind == value_kind::timestamp) {
        r.timeinstant_us = typed.value().micros;
      }
      r.columns.push_back({std::move(a.lower), std::move(typed.value())});
    }
    if (o_.f != flow::lastdata && !r.timeinstant_us) {
      const std::string message = who + " has no TimeInstant; the " + std::string(to_string(o_.f)) +
                                  " flow keys its rows by (entityid, timeinstant)";
      return entity_failed(message, std::move(r));
    }
    rows_.push_back(std::move(r));
  }

  fiware_context ctx_;
  const transform_options& o_;
  std::int64_t now_us_;
  transform_output& out_;
  datamodel dm_ = datamodel::by_entity_type_database;
  std::vector<row> rows_;
  std::vector<transform_error> errors_;
};

}  // namespace

void transform(std::string_view payload, const header_list& headers, const transform_options& options,
               std::int64_t now_us, transform_output& out) {
  try {
    transformer(headers, options, now_us, out).run(payload);
  } catch (const std::exception& e) {
    // Nothing in a record may stop the pipeline: an unexpected failure
    // (memory exhausted by a hostile record…) is still just that record's error.
    out.errors.push_back(transform_error{read_fiware_context(headers).service,
                                         std::string("the notification could not be processed: ") + e.what(),
                                         std::nullopt});
  }
}

}  // namespace kafnus::ngsi
