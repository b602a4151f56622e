#pragma once
// The daemon's effective configuration: every tunable, validated, with its
// default applied. Built only by the loader (loader.hpp) from the one list of
// keys (schema.cpp), which holds every key's default: the fields here have
// none of their own. Read-only after loading.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/enums.hpp"

namespace kafnus::ngsi {
class name_mappings;
}

namespace kafnus::config {

struct kafka_settings {
  std::string brokers;
  std::string group_id;
  std::string client_id;
  offset_reset auto_offset_reset;
  out_of_range position_out_of_range;
  std::string instance_id;  // group.instance.id; "auto" until the daemon resolves it; empty: dynamic membership
  int poll_timeout_ms;
  int position_check_interval_ms;
  // Any librdkafka property (security.protocol, sasl.*, ssl.*, ...), already
  // merged with the contents of property_files.
  std::map<std::string, std::string> properties;
};

struct flow_settings {
  std::vector<std::string> topics;  // names, or patterns starting with '^'; empty: the flow is disabled
};

struct flows_settings {
  flow_settings historic;
  flow_settings lastdata;
  flow_settings mutable_;
};

struct postgres_settings {
  std::string host;
  int port;
  std::string database;
  std::string user;
  std::string password;  // secret: from password_file, KAFNUS_POSTGRES_PASSWORD or the YAML
  std::string sslmode;
  std::string sslrootcert;
  std::string sslcert;
  std::string sslkey;
  int connect_timeout_s;
  std::string application_name;
  std::string offsets_schema;
  int statement_timeout_ms;
};

struct datamodel_settings {
  datamodel default_datamodel;
  std::map<std::string, datamodel> services;  // lower-cased service -> datamodel
};

struct mappings_settings {
  std::string file;              // a Cygnus name_mappings.json; empty: none
  std::string service_mappings;  // the inline serviceMappings, as JSON text ("[]": none)
  // Both, read and compiled at load: the inline rules first, then the
  // file's. Null when there is no rule.
  std::shared_ptr<const ngsi::name_mappings> rules;
};

struct processing_settings {
  int workers;  // resolved by the daemon: 0 means one per CPU core
};

struct batching_settings {
  int max_rows;
  std::int64_t max_bytes;
  int max_delay_ms;
  int min_interval_ms;
  int in_flight_messages;
  std::int64_t in_flight_bytes;
};

struct writer_settings {
  config::unknown_columns unknown_columns;
  int retry_initial_ms;
  int retry_max_ms;
};

struct limits_settings {
  std::int64_t max_message_bytes;
  std::int64_t max_value_bytes;
  int max_nesting_depth;
  int max_attributes;
};

struct admin_settings {
  std::string listen;  // host:port
  std::string host;
  int port;
  std::string token;       // secret: protects POST /logLevel when set
  int kafka_down_after_s;  // Kafka lost longer than this: /health and /readyz are 503
  int threads;             // civetweb workers
  int request_timeout_ms;  // a request head (and each read/write) must arrive within this
};

struct metrics_settings {
  int max_services;  // services with their own `service` label; the rest share "_other"
};

struct log_settings {
  std::string level;   // trace | debug | info | warn | error
  std::string format;  // text | json
};

struct supervisor_settings {
  int max_restarts;
  int window_s;
  int backoff_initial_ms;
  int backoff_max_ms;
};

struct shutdown_settings {
  int timeout_s;
};

struct settings {
  kafka_settings kafka;
  flows_settings flows;
  postgres_settings postgres;
  datamodel_settings datamodel;
  mappings_settings mappings;
  processing_settings processing;
  batching_settings batching;
  writer_settings writer;
  limits_settings limits;
  admin_settings admin;
  metrics_settings metrics;
  log_settings log;
  supervisor_settings supervisor;
  shutdown_settings shutdown;

  // The effective configuration as YAML, every secret masked. What
  // `kafnus check-config` prints and `/config` serves.
  std::string effective_yaml;
  // Non-fatal findings (e.g. an unknown KAFNUS_* variable), for the log.
  std::vector<std::string> warnings;
};

}  // namespace kafnus::config
