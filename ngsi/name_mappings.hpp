#pragma once
// Cygnus name mappings: the `name_mappings.json` of Cygnus's
// NGSINameMappingsInterceptor, read as it is, renaming the service, the
// servicepath, entity ids and types, attribute names and types of a record
// before its table is named.
//
// The rules, as Cygnus applies them (NGSINameMappingsInterceptor.doMap and
// NameMappings of telefonicaid/fiware-cygnus master, and the interceptor's
// documentation, doc/cygnus-ngsi/flume_extensions_catalogue/
// ngsi_name_mappings_interceptor.md):
//   - serviceMappings → servicePathMappings → entityMappings →
//     attributeMappings; each level is searched in order, the first rule
//     that matches wins, and the levels below are searched only inside it.
//   - Every original… field is a regular expression that must match the
//     whole name (Java's Matcher.matches()); an absent one is "^(.*)".
//   - The service rule is the first whose originalService matches the
//     service; without one nothing of the record is renamed.
//   - The servicepath rule is the first whose originalServicePath matches
//     the servicepath AND that holds an entity rule whose originalEntityType
//     matches the entity's type (so a servicepath rule without entity rules
//     never applies, and the servicepath is renamed per entity).
//   - The entity rule is the first of that servicepath rule whose
//     originalEntityType and originalEntityId both match.
//   - The attribute rule of an attribute is the first of that entity rule
//     whose originalAttributeType and originalAttributeName both match.
//   - newService, newServicePath and newEntityId are replacements, applied as
//     Java's String.replaceAll(original pattern, new value): every match is
//     replaced, $n names a group, \ escapes. newEntityType, newAttributeName
//     and newAttributeType are used as written. An absent new… field keeps
//     the original.
//
// Regular expressions run on std::regex (ECMAScript), on the code points of
// the name (std::wregex) unless both name and pattern are ASCII. The Java
// constructs ECMAScript lacks or reads differently are refused when the
// rules are read (see README.md, "Name mappings"), never silently changed.
// Names longer than kMaxRegexInput bytes (Orion allows 256) never match a
// regular expression: std::regex recurses once per character.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kafnus::ngsi {

inline constexpr std::size_t kMaxRegexInput = 1024;

struct service_rule;  // one of serviceMappings
struct entity_rule;   // one of entityMappings

// What the rules make of one entity: each field is set only when a rule
// renamed it (the servicepath and the id as replaced, not yet normalised).
struct entity_names {
  std::optional<std::string> servicepath;
  std::optional<std::string> id;
  std::optional<std::string> type;
  const entity_rule* rule = nullptr;  // the entity rule that matched: its attribute rules
};

class name_mappings {
 public:
  name_mappings();
  ~name_mappings();
  name_mappings(name_mappings&&) noexcept;
  name_mappings& operator=(name_mappings&&) noexcept;
  name_mappings(const name_mappings&) = delete;
  name_mappings& operator=(const name_mappings&) = delete;

  // Reads one document in the form of Cygnus's file, {"serviceMappings":
  // [...]}, as JSON text; its rules go after those already held. Returns
  // every problem found, each naming the rule and the field
  // ("serviceMappings[0].servicePathMappings[1].originalServicePath: invalid
  // regular expression ..."); when there is any, nothing is added.
  std::vector<std::string> add_json(std::string_view json);

  // Rules that are valid but can never apply, as Cygnus reads them.
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

  bool empty() const noexcept;

  // The first service rule whose originalService matches `service` (the
  // fiware-service as sent), or nullptr: then nothing of the record is renamed.
  const service_rule* match_service(std::string_view service) const;

 private:
  std::vector<service_rule> services_;
  std::vector<std::string> warnings_;
};

// The rule's newService applied to `service`, or nullopt when it has none.
std::optional<std::string> mapped_service(const service_rule& rule, std::string_view service);

// The names of an entity of `type` and `id` in `servicepath` (as sent),
// under the service rule its record matched.
entity_names map_entity(const service_rule& rule, std::string_view servicepath, std::string_view id,
                        std::string_view type);

// Whether an attribute rule of `rule` matches the attribute `name` of NGSI
// type `type` (empty when it has none); when one does, `name` and `type` are
// replaced by its new names where it has them (views of the rule).
bool map_attribute(const entity_rule& rule, std::string_view& name, std::string_view& type);

}  // namespace kafnus::ngsi
