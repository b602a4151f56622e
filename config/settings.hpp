#pragma once
// The daemon's effective configuration: every tunable, validated, with its
// default applied. Built only by config::load (loader.hpp); read-only after.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kafnus::config {

struct kafka_settings {
  std::string brokers;
  std::string group_id;
  std::string client_id;
  std::string auto_offset_reset;  // earliest | latest
  std::string position_out_of_range;  // earliest | latest | fail
  std::string instance_id;  // group.instance.id; "auto" until the daemon resolves it; empty: dynamic membership
  int poll_timeout_ms = 100;
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
  int port = 5432;
  std::string database;
  std::string user;
  std::string password;  // secret: from password_file, KAFNUS_POSTGRES_PASSWORD or the YAML
  std::string sslmode;
  std::string sslrootcert;
  std::string sslcert;
  std::string sslkey;
  int connect_timeout_s = 5;
  std::string application_name;
  std::string offsets_schema;
  int statement_timeout_ms = 60000;
};

struct datamodel_settings {
  std::string default_datamodel;
  std::map<std::string, std::string> services;  // lower-cased service -> datamodel
};

struct processing_settings {
  int workers = 0;  // resolved by the daemon: 0 means one per CPU core
};

struct batching_settings {
  int max_rows = 5000;
  std::int64_t max_bytes = 16 << 20;
  int max_delay_ms = 20;
  int min_interval_ms = 5;
  int in_flight_messages = 20000;
  std::int64_t in_flight_bytes = 32 << 20;
};

struct writer_settings {
  std::string unknown_columns;  // error | drop | add
  int retry_initial_ms = 100;
  int retry_max_ms = 30000;
};

struct limits_settings {
  std::int64_t max_message_bytes = 16 << 20;
  std::int64_t max_value_bytes = 4 << 20;
  int max_nesting_depth = 64;
  int max_attributes = 1595;
};

struct admin_settings {
  std::string listen;  // host:port
  std::string host;
  int port = 8000;
  std::string token;  // secret: protects POST /logLevel when set
  int kafka_down_after_s = 15;    // Kafka lost longer than this: /health and /readyz are 503
  int threads = 16;               // civetweb workers
  int request_timeout_ms = 2000;  // a request head (and each read/write) must arrive within this
};

struct metrics_settings {
  int max_services = 1000;  // services with their own `service` label; the rest share "_other"
};

struct log_settings {
  std::string level;   // trace | debug | info | warn | error
  std::string format;  // text | json
};

struct supervisor_settings {
  int max_restarts = 5;
  int window_s = 60;
  int backoff_initial_ms = 500;
  int backoff_max_ms = 30000;
};

struct shutdown_settings {
  int timeout_s = 30;
};

struct settings {
  kafka_settings kafka;
  flows_settings flows;
  postgres_settings postgres;
  datamodel_settings datamodel;
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
