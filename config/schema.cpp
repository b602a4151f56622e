#include "config/schema.hpp"

#include "config/enums.hpp"

#include <algorithm>
#include <cctype>

namespace kafnus::config {
namespace {

// How a field's value converts to and from its canonical text form.
template <class T>
struct codec;

template <>
struct codec<std::string> {
  static void set(std::string& f, const loaded_value& v) { f = v.scalar; }
  static loaded_value get(const std::string& f) { return {f, {}, {}}; }
};

template <>
struct codec<int> {
  static void set(int& f, const loaded_value& v) { f = static_cast<int>(std::stoll(v.scalar)); }
  static loaded_value get(int f) { return {std::to_string(f), {}, {}}; }
};

template <>
struct codec<std::int64_t> {
  static void set(std::int64_t& f, const loaded_value& v) { f = std::stoll(v.scalar); }
  static loaded_value get(std::int64_t f) { return {std::to_string(f), {}, {}}; }
};

template <>
struct codec<std::vector<std::string>> {
  static void set(std::vector<std::string>& f, const loaded_value& v) { f = v.list; }
  static loaded_value get(const std::vector<std::string>& f) { return {{}, f, {}}; }
};

template <>
struct codec<std::map<std::string, std::string>> {
  static void set(std::map<std::string, std::string>& f, const loaded_value& v) { f = v.map; }
  static loaded_value get(const std::map<std::string, std::string>& f) { return {{}, {}, f}; }
};

// Enumerations, alone or as the values of a mapping: by their names.
template <class E>
struct enum_codec {
  static void set(E& f, const loaded_value& v) { f = parse_enum<E>(v.scalar).value(); }
  static loaded_value get(E f) { return {std::string(name_of(f)), {}, {}}; }
};
template <>
struct codec<offset_reset> : enum_codec<offset_reset> {};
template <>
struct codec<out_of_range> : enum_codec<out_of_range> {};
template <>
struct codec<datamodel> : enum_codec<datamodel> {};
template <>
struct codec<unknown_columns> : enum_codec<unknown_columns> {};

template <>
struct codec<std::map<std::string, datamodel>> {
  static void set(std::map<std::string, datamodel>& f, const loaded_value& v) {
    f.clear();
    for (const auto& [k, name] : v.map) f[k] = parse_enum<datamodel>(name).value();
  }
  static loaded_value get(const std::map<std::string, datamodel>& f) {
    loaded_value v;
    for (const auto& [k, dm] : f) v.map[k] = std::string(name_of(dm));
    return v;
  }
};

// Binds a key to the field `at` returns: at(settings&) -> T&.
template <class At>
key_spec bound(key_spec k, At at) {
  using field = std::remove_reference_t<decltype(at(std::declval<settings&>()))>;
  k.assign = [at](settings& s, const loaded_value& v) { codec<field>::set(at(s), v); };
  k.read = [at](const settings& s) { return codec<field>::get(at(s)); };
  return k;
}

// The field of `settings` a key fills, e.g. KAFNUS_AT(postgres.port).
// (A member path cannot take parentheses.)
#define KAFNUS_AT(member) \
  [](auto& s) -> auto& { return s.member; }  // NOLINT(bugprone-macro-parentheses)

template <class At>
key_spec str(std::string path, std::string def, std::string help, At at) {
  return bound(
      key_spec{std::move(path), value_type::string, std::move(def), false, false, 0, 0, {}, std::move(help), {}, {}},
      at);
}
template <class At>
key_spec required_str(std::string path, std::string help, At at) {
  auto k = str(std::move(path), "", std::move(help), at);
  k.required = true;
  return k;
}
template <class At>
key_spec secret(std::string path, std::string help, At at) {
  auto k = str(std::move(path), "", std::move(help), at);
  k.secret = true;
  return k;
}
// A key the loader consumes itself (a file whose first line is another key's value).
key_spec file_of(std::string path, std::string help) {
  return key_spec{std::move(path), value_type::string, "", false, false, 0, 0, {}, std::move(help), {}, {}};
}
template <class At>
key_spec integer(std::string path, std::int64_t def, std::int64_t min, std::int64_t max, std::string help, At at) {
  return bound(key_spec{std::move(path),
                        value_type::integer,
                        std::to_string(def),
                        false,
                        false,
                        min,
                        max,
                        {},
                        std::move(help),
                        {},
                        {}},
               at);
}
// One of a few names, stored as the name (libpq's sslmode, the log's level).
template <class At>
key_spec choice(std::string path, std::string def, std::vector<std::string> allowed, std::string help, At at) {
  return bound(key_spec{std::move(path),
                        value_type::enumeration,
                        std::move(def),
                        false,
                        false,
                        0,
                        0,
                        std::move(allowed),
                        std::move(help),
                        {},
                        {}},
               at);
}
// One of an enumeration's names (config/enums.hpp), stored as its value.
template <class E, class At>
key_spec enumeration(std::string path, E def, std::string help, At at) {
  return bound(key_spec{std::move(path),
                        value_type::enumeration,
                        std::string(name_of(def)),
                        false,
                        false,
                        0,
                        0,
                        names_of<E>(),
                        std::move(help),
                        {},
                        {}},
               at);
}
template <class At>
key_spec list(std::string path, std::string def, std::string help, At at) {
  return bound(
      key_spec{
          std::move(path), value_type::string_list, std::move(def), false, false, 0, 0, {}, std::move(help), {}, {}},
      at);
}
template <class At>
key_spec map(std::string path, std::vector<std::string> allowed, std::string help, At at) {
  return bound(
      key_spec{
          std::move(path), value_type::string_map, "", false, false, 0, 0, std::move(allowed), std::move(help), {}, {}},
      at);
}
// Nested lists and mappings, in the YAML as they are in their JSON form (a
// Cygnus name_mappings.json); empty: "[]".
template <class At>
key_spec document(std::string path, std::string help, At at) {
  return bound(key_spec{std::move(path), value_type::document, "[]", false, false, 0, 0, {}, std::move(help), {}, {}},
               at);
}
key_spec map_of_files(std::string path, std::string help) {
  return key_spec{std::move(path), value_type::string_map, "", false, false, 0, 0, {}, std::move(help), {}, {}};
}

constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kGiB = std::int64_t{1} << 30;

std::vector<key_spec> build() {
  return {
      required_str("kafka.brokers", "bootstrap servers, host:port[,host:port...]", KAFNUS_AT(kafka.brokers)),
      str("kafka.group_id", "kafnus", "consumer group shared by every Kafnus instance of a deployment",
          KAFNUS_AT(kafka.group_id)),
      str("kafka.client_id", "kafnus", "client.id sent to the brokers", KAFNUS_AT(kafka.client_id)),
      enumeration("kafka.auto_offset_reset", offset_reset::earliest, "where a partition with no stored position starts",
                  KAFNUS_AT(kafka.auto_offset_reset)),
      enumeration("kafka.position_out_of_range", out_of_range::earliest,
                  "where a partition whose stored position lies outside its records (a re-created topic, records "
                  "deleted by retention) resumes; fail stops the daemon",
                  KAFNUS_AT(kafka.position_out_of_range)),
      str("kafka.instance_id", "auto",
          "static group membership (group.instance.id): a restarted instance gets its partitions back at once; "
          "auto: kafnus-<host name>-<admin port>; empty: dynamic membership",
          KAFNUS_AT(kafka.instance_id)),
      integer("kafka.poll_timeout_ms", 100, 1, 1000, "longest a single poll of the broker blocks",
              KAFNUS_AT(kafka.poll_timeout_ms)),
      integer("kafka.position_check_interval_ms", 2000, 100, 3'600'000,
              "how often stored positions are compared with the consumed ones, so a position moved by `kafnus "
              "positions set` is followed also on a partition that receives nothing",
              KAFNUS_AT(kafka.position_check_interval_ms)),
      map("kafka.properties", {}, "any librdkafka property (security.protocol, sasl.*, ssl.*, ...)",
          KAFNUS_AT(kafka.properties)),
      map_of_files("kafka.property_files", "librdkafka property -> file whose contents are its value (secrets)"),

      list("flows.historic.topics", "smc_raw_historic",
           "topics (names, or ^patterns) consumed by the historic flow (empty: disabled)",
           KAFNUS_AT(flows.historic.topics)),
      list("flows.lastdata.topics", "smc_raw_lastdata",
           "topics (names, or ^patterns) consumed by the lastdata flow (empty: disabled)",
           KAFNUS_AT(flows.lastdata.topics)),
      list("flows.mutable.topics", "smc_raw_mutable",
           "topics (names, or ^patterns) consumed by the mutable flow (empty: disabled)",
           KAFNUS_AT(flows.mutable_.topics)),

      str("postgres.host", "127.0.0.1", "PostgreSQL host name, address or socket directory", KAFNUS_AT(postgres.host)),
      integer("postgres.port", 5432, 1, 65535, "PostgreSQL port", KAFNUS_AT(postgres.port)),
      required_str("postgres.database", "database holding the tables", KAFNUS_AT(postgres.database)),
      str("postgres.user", "postgres", "role Kafnus connects as", KAFNUS_AT(postgres.user)),
      secret("postgres.password", "password (prefer password_file or KAFNUS_POSTGRES_PASSWORD)",
             KAFNUS_AT(postgres.password)),
      file_of("postgres.password_file", "file whose first line is the password"),
      choice("postgres.sslmode", "prefer", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
             "libpq sslmode", KAFNUS_AT(postgres.sslmode)),
      str("postgres.sslrootcert", "", "CA certificate file (verify-ca, verify-full)", KAFNUS_AT(postgres.sslrootcert)),
      str("postgres.sslcert", "", "client certificate file", KAFNUS_AT(postgres.sslcert)),
      str("postgres.sslkey", "", "client private key file", KAFNUS_AT(postgres.sslkey)),
      integer("postgres.connect_timeout_s", 5, 1, 300, "seconds to wait for a connection",
              KAFNUS_AT(postgres.connect_timeout_s)),
      str("postgres.application_name", "kafnus", "application_name shown in pg_stat_activity",
          KAFNUS_AT(postgres.application_name)),
      str("postgres.offsets_schema", "kafnus", "schema of the consumed-offsets table (created when missing)",
          KAFNUS_AT(postgres.offsets_schema)),
      integer("postgres.statement_timeout_ms", 60000, 0, 3600000, "statement_timeout of the writer (0: none)",
              KAFNUS_AT(postgres.statement_timeout_ms)),

      enumeration("datamodel.default", datamodel::by_entity_type_database,
                  "datamodel when the notification has no fiware-datamodel header",
                  KAFNUS_AT(datamodel.default_datamodel)),
      map("datamodel.services", names_of<datamodel>(), "per-service default datamodel (service -> datamodel)",
          KAFNUS_AT(datamodel.services)),

      str("mappings.file", "",
          "a Cygnus name_mappings.json (serviceMappings, as Cygnus's NGSINameMappingsInterceptor reads it), "
          "applied to every record before its table is named; empty: none",
          KAFNUS_AT(mappings.file)),
      document("mappings.serviceMappings",
               "name-mapping rules written here, as the serviceMappings of a name_mappings.json; they are tried "
               "before those of mappings.file (the first rule that matches wins)",
               KAFNUS_AT(mappings.service_mappings)),

      integer("processing.workers", 0, 0, 64,
              "processor actors turning notifications into rows in parallel (0: one per CPU core); a "
              "partition always goes to the same one, so its order is kept",
              KAFNUS_AT(processing.workers)),

      integer("batching.max_rows", 5000, 1, 1000000, "most rows written in one transaction",
              KAFNUS_AT(batching.max_rows)),
      integer("batching.max_bytes", 16 * kMiB, 1024, 4 * kGiB, "most bytes of rows written in one transaction",
              KAFNUS_AT(batching.max_bytes)),
      integer("batching.max_delay_ms", 20, 0, 60000, "longest a row waits for its batch to fill",
              KAFNUS_AT(batching.max_delay_ms)),
      integer("batching.min_interval_ms", 5, 0, 60000,
              "shortest time between the starts of two transactions that are not full: rows arriving meanwhile "
              "wait for it and are written together (0: write whenever the database is free)",
              KAFNUS_AT(batching.min_interval_ms)),
      integer("batching.in_flight_messages", 20000, 1, 10000000,
              "most Kafka messages consumed but not yet committed; beyond it consumption pauses",
              KAFNUS_AT(batching.in_flight_messages)),
      integer("batching.in_flight_bytes", 32 * kMiB, 1024, 16 * kGiB,
              "most bytes of Kafka messages consumed but not yet committed", KAFNUS_AT(batching.in_flight_bytes)),

      enumeration("writer.unknown_columns", unknown_columns::error,
                  "attribute without a column: error (row to the error log), drop (attribute dropped and "
                  "counted), add (column added with a type derived from the NGSI type)",
                  KAFNUS_AT(writer.unknown_columns)),
      integer("writer.retry_initial_ms", 100, 1, 60000, "first wait before retrying a transient database failure",
              KAFNUS_AT(writer.retry_initial_ms)),
      integer("writer.retry_max_ms", 30000, 1, 3600000, "longest wait between retries of a transient failure",
              KAFNUS_AT(writer.retry_max_ms)),

      integer("limits.max_message_bytes", 16 * kMiB, 1024, kGiB, "largest Kafka message accepted",
              KAFNUS_AT(limits.max_message_bytes)),
      integer("limits.max_value_bytes", 4 * kMiB, 16, kGiB, "largest single attribute value accepted",
              KAFNUS_AT(limits.max_value_bytes)),
      integer("limits.max_nesting_depth", 64, 4, 1024, "deepest JSON nesting accepted",
              KAFNUS_AT(limits.max_nesting_depth)),
      // PostgreSQL's 1,600 columns, less the 4 Kafnus fills (entityid,
      // entitytype, fiwareservicepath, recvtime) and the staging table's _seq:
      // a wider entity could never be written, and would fail its batch.
      integer("limits.max_attributes", 1595, 1, 1595,
              "most attributes of one entity (at most 1595: PostgreSQL's 1,600 columns less the 4 Kafnus fills "
              "and the staging table's sequence column)",
              KAFNUS_AT(limits.max_attributes)),

      str("admin.listen", "0.0.0.0:8000", "address of /metrics, /health, /logLevel, /config (host:port)",
          KAFNUS_AT(admin.listen)),
      secret("admin.token", "bearer token required by POST /logLevel (empty: unprotected)", KAFNUS_AT(admin.token)),
      file_of("admin.token_file", "file whose first line is admin.token"),
      integer("admin.kafka_down_after_s", 15, 0, 86400,
              "seconds without a Kafka connection (counted from the start until the first one) after which "
              "/health and /readyz answer 503; /healthz stays 200",
              KAFNUS_AT(admin.kafka_down_after_s)),
      integer("admin.threads", 16, 2, 256,
              "admin HTTP workers; each connection holds one until it is served or cut, so probes need "
              "more workers than stalled clients",
              KAFNUS_AT(admin.threads)),
      integer("admin.request_timeout_ms", 2000, 100, 60000,
              "longest a client may take to send its request head, and each later read or write",
              KAFNUS_AT(admin.request_timeout_ms)),

      integer("metrics.max_services", 1000, 1, 100000,
              "services with their own service label; later ones are counted under service=\"_other\"",
              KAFNUS_AT(metrics.max_services)),

      choice("log.level", "info", {"trace", "debug", "info", "warn", "error"}, "log level", KAFNUS_AT(log.level)),
      choice("log.format", "text", {"text", "json"}, "log line format", KAFNUS_AT(log.format)),

      integer("supervisor.max_restarts", 5, 0, 1000, "restarts of one actor tolerated within the window",
              KAFNUS_AT(supervisor.max_restarts)),
      integer("supervisor.window_s", 60, 1, 86400, "window of supervisor.max_restarts", KAFNUS_AT(supervisor.window_s)),
      integer("supervisor.backoff_initial_ms", 500, 1, 600000, "wait before the first restart of an actor",
              KAFNUS_AT(supervisor.backoff_initial_ms)),
      integer("supervisor.backoff_max_ms", 30000, 1, 3600000, "longest wait before a restart",
              KAFNUS_AT(supervisor.backoff_max_ms)),

      integer("shutdown.timeout_s", 30, 1, 3600, "longest a graceful stop may take before Kafnus exits anyway",
              KAFNUS_AT(shutdown.timeout_s)),
  };
}

}  // namespace

const std::vector<key_spec>& schema() {
  static const std::vector<key_spec> keys = build();
  return keys;
}

const key_spec* find_key(std::string_view path) {
  for (const auto& k : schema()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::string env_name(std::string_view path) {
  std::string out = "KAFNUS_";
  for (char c : path) {
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool is_secret_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"password", "secret", "token", "private", "credential"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  // ssl.key.pem and similar inline key material
  return lower == "ssl.key.pem" || lower == "ssl_key" || lower == "sasl.oauthbearer.config";
}

std::string describe_allowed(const key_spec& spec) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& a : v) s += (s.empty() ? "" : ", ") + a;
    return s;
  };
  switch (spec.type) {
    case value_type::string: return "a string";
    case value_type::integer: return "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
    case value_type::enumeration: return "one of: " + join(spec.allowed);
    case value_type::string_list: return "a list of strings";
    case value_type::string_map:
      return spec.allowed.empty() ? "a mapping of names to strings"
                                  : "a mapping of names to one of: " + join(spec.allowed);
    case value_type::document: return "a list of mappings (in the form of a Cygnus name_mappings.json)";
  }
  return "a value";
}

}  // namespace kafnus::config
