#include "ngsi/table_name.hpp"

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
namespace {

// PostgreSQL's NAMEDATALEN - 1: a longer identifier is silently truncated,
// which would send rows of different entity types to one table.
constexpr std::size_t kMaxIdentifierBytes = 63;

constexpr bool is_identifier_byte(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string allowed_datamodels() {
  return std::string(to_string(datamodel::by_entity_type_database)) + ", " +
         std::string(to_string(datamodel::by_entity_type_database_schema)) + ", " +
         std::string(to_string(datamodel::by_fixed_entity_type_database_schema));
}

error too_long(const char* what, const std::string& name, const char* fix) {
  return make_error(std::string(what) + " " + quoted(name, kNameExcerpt) + " is " + std::to_string(name.size()) +
                    " bytes; PostgreSQL identifiers hold at most 63 bytes and a longer one would be silently "
                    "truncated (" +
                    fix + ")");
}

}  // namespace

std::string sanitize(std::string_view text) {
  if (!text.empty() && text.front() == '/') text.remove_prefix(1);
  if (!text.empty() && text.back() == '/') text.remove_suffix(1);
  std::string out(text);
  for (auto& c : out) {
    c = ascii_lower(c);
    if (!is_identifier_byte(c)) c = '_';
  }
  return out;
}

result<datamodel> choose_datamodel(const fiware_context& ctx, const datamodel_rules& rules) {
  if (!ctx.datamodel.empty()) {
    if (auto dm = parse_datamodel(ctx.datamodel)) return *dm;
    return make_error("Unsupported datamodel " + quoted(ctx.datamodel) +
                      " in header fiware-datamodel; allowed values: " + allowed_datamodels());
  }
  if (auto it = rules.per_service.find(ctx.service); it != rules.per_service.end()) return it->second;
  return rules.fallback;
}

result<table_ref> table_for(datamodel dm, const fiware_context& ctx, std::string_view entity_type, flow f) {
  if (entity_type.empty()) return make_error("the entity type is empty; every datamodel names the table after it");
  const std::string type = sanitize(entity_type);
  table_ref ref;
  if (dm == datamodel::by_entity_type_database) {
    ref.schema = sanitize(ctx.service);
    if (ref.schema.empty()) {
      return make_error("fiware-service " + quoted(ctx.service) + " gives an empty schema name (datamodel " +
                        std::string(to_string(dm)) + " names the schema after the service)");
    }
    // The root servicepath sanitizes to "" and gives "_<type>", as the
    // HeaderRouter of today's stack does.
    ref.table = sanitize(ctx.servicepath);
    ref.table += '_';
    ref.table += type;
  } else {
    const std::string path = sanitize(ctx.servicepath);
    if (path.empty()) {
      return make_error("Required header missing or empty: fiware-servicepath (datamodel " +
                        std::string(to_string(dm)) + " names the schema after the servicepath, and the record has " +
                        (ctx.servicepath == "/" ? std::string("the root servicepath '/'")
                                                : "servicepath " + quoted(ctx.servicepath)) +
                        ")");
    }
    ref.schema = path;
    if (dm == datamodel::by_entity_type_database_schema) {
      ref.table = path;
      ref.table += '_';
      ref.table += type;
    } else {
      ref.table = type;
    }
  }
  ref.table += table_suffix(f);
  if (ref.schema.size() > kMaxIdentifierBytes) {
    return too_long(
        "schema name", ref.schema,
        dm == datamodel::by_entity_type_database ? "shorten the fiware-service" : "shorten the fiware-servicepath");
  }
  if (ref.table.size() > kMaxIdentifierBytes) {
    return too_long("table name", ref.table,
                    dm == datamodel::by_fixed_entity_type_database_schema
                        ? "shorten the entity type"
                        : "shorten the fiware-servicepath or the entity type");
  }
  return ref;
}

table_ref error_log_table(std::string_view service) {
  constexpr std::string_view kSuffix = "_error_log";
  std::string s = sanitize(service);
  if (s.empty()) s = "default";
  // This function cannot fail, so an over-long service is cut to fit, the
  // same cut PostgreSQL would make, but keeping the "_error_log" suffix.
  table_ref ref;
  ref.schema = s.substr(0, kMaxIdentifierBytes);
  ref.table = s.substr(0, kMaxIdentifierBytes - kSuffix.size());
  ref.table += kSuffix;
  return ref;
}

}  // namespace kafnus::ngsi
