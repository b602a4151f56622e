#include "config/schema.hpp"

#include <algorithm>
#include <cctype>

namespace kafnus::config {
namespace {

const std::vector<std::string> kDatamodels = {
    "dm-by-entity-type-database",
    "dm-by-entity-type-database-schema",
    "dm-by-fixed-entity-type-database-schema",
};

key_spec str(std::string path, std::string def, std::string help) {
  return key_spec{std::move(path), value_type::string, std::move(def), false, false, 0, 0, {}, std::move(help)};
}
key_spec required_str(std::string path, std::string help) {
  auto k = str(std::move(path), "", std::move(help));
  k.required = true;
  return k;
}
key_spec secret(std::string path, std::string help) {
  auto k = str(std::move(path), "", std::move(help));
  k.secret = true;
  return k;
}
key_spec integer(std::string path, std::int64_t def, std::int64_t min, std::int64_t max, std::string help) {
  return key_spec{std::move(path), value_type::integer, std::to_string(def), false, false, min, max, {}, std::move(help)};
}
key_spec enumeration(std::string path, std::string def, std::vector<std::string> allowed, std::string help) {
  return key_spec{std::move(path), value_type::enumeration, std::move(def), false, false, 0, 0, std::move(allowed),
                  std::move(help)};
}
key_spec list(std::string path, std::string def, std::string help) {
  return key_spec{std::move(path), value_type::string_list, std::move(def), false, false, 0, 0, {}, std::move(help)};
}
key_spec map(std::string path, std::vector<std::string> allowed, std::string help) {
  return key_spec{std::move(path), value_type::string_map, "", false, false, 0, 0, std::move(allowed), std::move(help)};
}

constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kGiB = std::int64_t{1} << 30;

std::vector<key_spec> build() {
  return {
      required_str("kafka.brokers", "bootstrap servers, host:port[,host:port...]"),
      str("kafka.group_id", "kafnus", "consumer group shared by every Kafnus instance of a deployment"),
      str("kafka.client_id", "kafnus", "client.id sent to the brokers"),
      enumeration("kafka.auto_offset_reset", "earliest", {"earliest", "latest"},
                  "where a partition with no stored position starts"),
      enumeration("kafka.position_out_of_range", "earliest", {"earliest", "latest", "fail"},
                  "where a partition whose stored position lies outside its records (a re-created topic, records "
                  "deleted by retention) resumes; fail stops the daemon"),
      str("kafka.instance_id", "auto",
          "static group membership (group.instance.id): a restarted instance gets its partitions back at once; "
          "auto: kafnus-<host name>-<admin port>; empty: dynamic membership"),
      integer("kafka.poll_timeout_ms", 100, 1, 1000, "longest a single poll of the broker blocks"),
      map("kafka.properties", {}, "any librdkafka property (security.protocol, sasl.*, ssl.*, ...)"),
      map("kafka.property_files", {}, "librdkafka property -> file whose contents are its value (secrets)"),

      list("flows.historic.topics", "smc_raw_historic", "topics (names, or ^patterns) consumed by the historic flow (empty: disabled)"),
      list("flows.lastdata.topics", "smc_raw_lastdata", "topics (names, or ^patterns) consumed by the lastdata flow (empty: disabled)"),
      list("flows.mutable.topics", "smc_raw_mutable", "topics (names, or ^patterns) consumed by the mutable flow (empty: disabled)"),

      str("postgres.host", "127.0.0.1", "PostgreSQL host name, address or socket directory"),
      integer("postgres.port", 5432, 1, 65535, "PostgreSQL port"),
      required_str("postgres.database", "database holding the tables"),
      str("postgres.user", "postgres", "role Kafnus connects as"),
      secret("postgres.password", "password (prefer password_file or KAFNUS_POSTGRES_PASSWORD)"),
      str("postgres.password_file", "", "file whose first line is the password"),
      enumeration("postgres.sslmode", "prefer", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
                  "libpq sslmode"),
      str("postgres.sslrootcert", "", "CA certificate file (verify-ca, verify-full)"),
      str("postgres.sslcert", "", "client certificate file"),
      str("postgres.sslkey", "", "client private key file"),
      integer("postgres.connect_timeout_s", 5, 1, 300, "seconds to wait for a connection"),
      str("postgres.application_name", "kafnus", "application_name shown in pg_stat_activity"),
      str("postgres.offsets_schema", "kafnus", "schema of the consumed-offsets table (created when missing)"),
      integer("postgres.statement_timeout_ms", 60000, 0, 3600000, "statement_timeout of the writer (0: none)"),

      enumeration("datamodel.default", "dm-by-entity-type-database", kDatamodels,
                  "datamodel when the notification has no fiware-datamodel header"),
      map("datamodel.services", kDatamodels, "per-service default datamodel (service -> datamodel)"),

      integer("processing.workers", 0, 0, 64,
              "processor actors turning notifications into rows in parallel (0: one per CPU core); a "
              "partition always goes to the same one, so its order is kept"),

      integer("batching.max_rows", 5000, 1, 1000000, "most rows written in one transaction"),
      integer("batching.max_bytes", 16 * kMiB, 1024, 4 * kGiB, "most bytes of rows written in one transaction"),
      integer("batching.max_delay_ms", 20, 0, 60000, "longest a row waits for its batch to fill"),
      integer("batching.min_interval_ms", 5, 0, 60000,
              "shortest time between the starts of two transactions that are not full: rows arriving meanwhile "
              "wait for it and are written together (0: write whenever the database is free)"),
      integer("batching.in_flight_messages", 20000, 1, 10000000,
              "most Kafka messages consumed but not yet committed; beyond it consumption pauses"),
      integer("batching.in_flight_bytes", 32 * kMiB, 1024, 16 * kGiB,
              "most bytes of Kafka messages consumed but not yet committed"),

      enumeration("writer.unknown_columns", "error", {"error", "drop", "add"},
                  "attribute without a column: error (row to the error log), drop (attribute dropped and "
                  "counted), add (column added with a type derived from the NGSI type)"),
      integer("writer.retry_initial_ms", 100, 1, 60000, "first wait before retrying a transient database failure"),
      integer("writer.retry_max_ms", 30000, 1, 3600000, "longest wait between retries of a transient failure"),

      integer("limits.max_message_bytes", 16 * kMiB, 1024, kGiB, "largest Kafka message accepted"),
      integer("limits.max_value_bytes", 4 * kMiB, 16, kGiB, "largest single attribute value accepted"),
      integer("limits.max_nesting_depth", 64, 4, 1024, "deepest JSON nesting accepted"),
      // PostgreSQL's 1,600 columns, less the 4 Kafnus fills (entityid,
      // entitytype, fiwareservicepath, recvtime) and the staging table's _seq:
      // a wider entity could never be written, and would fail its batch.
      integer("limits.max_attributes", 1595, 1, 1595,
              "most attributes of one entity (at most 1595: PostgreSQL's 1,600 columns less the 4 Kafnus fills "
              "and the staging table's sequence column)"),

      str("admin.listen", "0.0.0.0:8000", "address of /metrics, /health, /logLevel, /config (host:port)"),
      secret("admin.token", "bearer token required by POST /logLevel (empty: unprotected)"),
      str("admin.token_file", "", "file whose first line is admin.token"),
      integer("admin.kafka_down_after_s", 15, 0, 86400,
              "seconds without a Kafka connection (counted from the start until the first one) after which "
              "/health and /readyz answer 503; /healthz stays 200"),
      integer("admin.threads", 16, 2, 256,
              "admin HTTP workers; each connection holds one until it is served or cut, so probes need "
              "more workers than stalled clients"),
      integer("admin.request_timeout_ms", 2000, 100, 60000,
              "longest a client may take to send its request head, and each later read or write"),

      integer("metrics.max_services", 1000, 1, 100000,
              "services with their own service label; later ones are counted under service=\"_other\""),

      enumeration("log.level", "info", {"trace", "debug", "info", "warn", "error"}, "log level"),
      enumeration("log.format", "text", {"text", "json"}, "log line format"),

      integer("supervisor.max_restarts", 5, 0, 1000, "restarts of one actor tolerated within the window"),
      integer("supervisor.window_s", 60, 1, 86400, "window of supervisor.max_restarts"),
      integer("supervisor.backoff_initial_ms", 500, 1, 600000, "wait before the first restart of an actor"),
      integer("supervisor.backoff_max_ms", 30000, 1, 3600000, "longest wait before a restart"),

      integer("shutdown.timeout_s", 30, 1, 3600, "longest a graceful stop may take before Kafnus exits anyway"),
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
    case value_type::integer:
      return "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
    case value_type::enumeration: return "one of: " + join(spec.allowed);
    case value_type::string_list: return "a list of strings";
    case value_type::string_map:
      return spec.allowed.empty() ? "a mapping of names to strings"
                                  : "a mapping of names to one of: " + join(spec.allowed);
  }
  return "a value";
}

}  // namespace kafnus::config
