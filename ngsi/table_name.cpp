#include "ngsi/table_name.hpp"

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
namespace {

// PostgreSQL silently truncates longer identifiers: two different entity
// types could then share a table, so a longer name is an error instead.
constexpr std::size_t kMaxIdentifier = 63;

const char* kAllowed =
    "dm-by-entity-type-database, dm-by-entity-type-database-schema, dm-by-fixed-entity-type-database-schema";

}  // namespace

std::string sanitize(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '/') s.remove_prefix(1);
  if (!s.empty() && s.back() == '/') s.remove_suffix(1);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      out += c;
    } else {
      out += '_';
    }
  }
  return out;
}

result<datamodel> choose_datamodel(const fiware_context& ctx, const datamodel_rules& rules) {
  if (!ctx.datamodel.empty()) {
    if (auto dm = parse_datamodel(ctx.datamodel)) return *dm;
    return make_error("unknown datamodel '" + excerpt(ctx.datamodel) + "' in the fiware-datamodel header; allowed: " +
                      kAllowed);
  }
  auto it = rules.per_service.find(ctx.service);
  if (it != rules.per_service.end()) return it->second;
  return rules.fallback;
}

result<table_ref> table_for(datamodel dm, const fiware_context& ctx, std::string_view entity_type, flow f) {
  const std::string type = sanitize(entity_type);
  if (type.empty()) return make_error("the entity type is empty; it names the table");
  const std::string path = sanitize(ctx.servicepath);
  table_ref t;
  switch (dm) {
    case datamodel::by_entity_type_database:
      t.schema = sanitize(ctx.service);
      t.table = path + "_" + type;
      break;
    case datamodel::by_entity_type_database_schema:
    case datamodel::by_fixed_entity_type_database_schema:
      if (path.empty()) {
        return make_error(std::string("Required header missing or empty: fiware-servicepath (datamodel ") +
                          std::string(to_string(dm)) + " names the schema after the servicepath)");
      }
      t.schema = path;
      t.table = dm == datamodel::by_entity_type_database_schema ? path + "_" + type : type;
      break;
  }
  t.table += table_suffix(f);
  if (t.schema.empty()) return make_error("the fiware-service header gives an empty schema name");
  if (t.schema.size() > kMaxIdentifier || t.table.size() > kMaxIdentifier) {
    return make_error("table name " + excerpt(t.schema, 80) + "." + excerpt(t.table, 80) +
                      " is longer than PostgreSQL's 63-byte identifiers; shorten the service, servicepath or entity "
                      "type");
  }
  return t;
}

table_ref error_log_table(std::string_view service) {
  auto s = sanitize(service);
  if (s.empty()) s = "default";
  if (s.size() > kMaxIdentifier - 10) s.resize(kMaxIdentifier - 10);  // room for "_error_log"
  return table_ref{s, s + "_error_log"};
}

}  // namespace kafnus::ngsi
