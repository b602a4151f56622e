#pragma once
// Every metric Kafnus exports, and the live state /health reports.
//
// The metrics actor owns this object (it serves it); the other actors get a
// shared reference and update the metrics directly — prometheus-cpp metrics
// are thread-safe atomics, so no message per increment is needed. References
// to labelled children are cached here so no hot path looks labels up.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "ngsi/flow.hpp"
#include "telemetry/recent_counts.hpp"

namespace kafnus {

// Live state behind /health, written by the actors that know it.
struct health_state {
  std::atomic<bool> kafka_connected{false};   // consumer has a working broker connection
  std::atomic<bool> db_connected{false};      // writer has a working database connection
  std::atomic<bool> consuming{false};         // subscribed and assigned (or waiting for an assignment)
  std::atomic<bool> draining{false};          // graceful stop in progress
  std::atomic<std::int64_t> last_poll_ms{0};  // the consumer's last poll (wall clock): its loop is alive
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  // Since when the consumer has had no working broker connection, in ms
  // since the epoch; 0 while connected. It starts at the daemon's start: a
  // daemon that never reached Kafka has been without it since then (the
  // first connection gets the same grace, admin.kafka_down_after_s, as a
  // reconnection).
  std::atomic<std::int64_t> kafka_down_since_ms{
      std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count()};
  struct flow_state {
    std::atomic<std::int64_t> messages{0};
    std::atomic<std::int64_t> errors{0};             // records or rows that went to the error log
    std::atomic<std::int64_t> last_processed_ms{0};  // wall clock, ms since epoch; 0 = never
    std::atomic<double> last_duration_s{0.0};
  };
  std::array<flow_state, 3> flows;              // indexed by ngsi::flow
  std::atomic<std::int64_t> last_commit_ms{0};  // the writer's last committed transaction; 0 = none yet
  recent_counts error_log_last_hour;            // error-log rows written, per service

  // The consumer reports its broker connection here, as often as it likes:
  // `true` clears the outage, `false` starts one unless one is already
  // running (so repeated reports keep the first moment). Thread-safe.
  void set_kafka_connected(bool up, std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
};

class metrics {
 public:
  static constexpr std::size_t kDefaultMaxServices = 1000;  // metrics.max_services

  explicit metrics(std::size_t max_services = kDefaultMaxServices);

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  health_state& health() { return health_; }

  struct flow_metrics {
    prometheus::Counter* messages_processed;     // messages_processed_total{flow} (original stack's name)
    prometheus::Gauge* last_processing_seconds;  // message_processing_time_seconds{flow}
    prometheus::Histogram* processing_seconds;   // kafnus_processing_duration_seconds{flow}
    prometheus::Counter* entities;               // kafnus_entities_total{flow}
    prometheus::Counter* record_errors;          // kafnus_record_errors_total{flow}
    prometheus::Counter* dropped_attributes;     // kafnus_dropped_attributes_total{flow}
  };
  flow_metrics& flow(ngsi::flow f) { return flows_[static_cast<std::size_t>(f)]; }

  // Per topic / partition / service children, created on first use. Topic
  // and service names come from outside (the broker, message headers), so
  // they pass through label_value() (label_value.hpp): a label is always
  // valid UTF-8, printable and at most kMaxLabelBytes long.
  prometheus::Counter& consumed(const std::string& topic);
  prometheus::Gauge& lag(const std::string& topic, std::int32_t partition);
  void forget_lag(const std::string& topic, std::int32_t partition);
  prometheus::Counter& rows_written(ngsi::flow f, const std::string& service);
  prometheus::Counter& error_log_rows(ngsi::flow f, const std::string& service);
  prometheus::Counter& actor_restarts(const std::string& actor);
  // Partitions whose position lay outside their records, reset per
  // kafka.position_out_of_range; records deleted before they were read.
  prometheus::Counter& position_resets(const std::string& topic);
  prometheus::Counter& records_lost(const std::string& topic);
  // Records of an assigned topic that no flow claims (skipped).
  prometheus::Counter& unrouted_records(const std::string& topic);
  // Admin HTTP requests answered. `route` must come from a fixed set (the
  // admin server maps unknown paths to "other") so the label stays bounded.
  prometheus::Counter& admin_requests(const std::string& route, int code);

  // Plain references for the hot paths.
  prometheus::Histogram& db_write_seconds() { return *db_write_seconds_; }
  prometheus::Histogram& db_batch_rows() { return *db_batch_rows_; }
  prometheus::Counter& db_retries() { return *db_retries_; }
  prometheus::Counter& db_transactions() { return *db_transactions_; }
  prometheus::Histogram& end_to_end_seconds() { return *end_to_end_seconds_; }
  prometheus::Gauge& in_flight_messages() { return *in_flight_messages_; }
  prometheus::Gauge& in_flight_bytes() { return *in_flight_bytes_; }
  prometheus::Gauge& paused_partitions() { return *paused_partitions_; }
  prometheus::Gauge& assigned_partitions() { return *assigned_partitions_; }
  prometheus::Gauge& kafka_up() { return *kafka_up_; }
  prometheus::Gauge& postgres_up() { return *postgres_up_; }
  prometheus::Counter& position_conflicts() { return *position_conflicts_; }
  prometheus::Counter& error_log_lost() { return *error_log_lost_; }

  // The `service` label of a service name: its label_value(), for the first
  // max_services() distinct ones seen; every later one shares the value
  // "_other" and counts in kafnus_service_label_overflow_total, so a flood of
  // made-up service names cannot grow the registry (or the page) without bound.
  static constexpr const char* kOtherService = "_other";
  std::string service_label(const std::string& service);
  // metrics.max_services; set before the first per-service update (the
  // metrics actor does, when it starts). Lowering it keeps existing labels.
  void set_max_services(std::size_t n);
  std::size_t max_services() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  health_state health_;
  std::array<flow_metrics, 3> flows_{};

  prometheus::Family<prometheus::Counter>* consumed_family_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  prometheus::Family<prometheus::Counter>* rows_written_family_;
  prometheus::Family<prometheus::Counter>* error_log_family_;
  prometheus::Family<prometheus::Counter>* restarts_family_;
  prometheus::Family<prometheus::Counter>* position_resets_family_;
  prometheus::Family<prometheus::Counter>* records_lost_family_;
  prometheus::Family<prometheus::Counter>* unrouted_family_;
  prometheus::Family<prometheus::Counter>* admin_requests_family_;

  prometheus::Histogram* db_write_seconds_;
  prometheus::Histogram* db_batch_rows_;
  prometheus::Counter* db_retries_;
  prometheus::Counter* db_transactions_;
  prometheus::Histogram* end_to_end_seconds_;
  prometheus::Gauge* in_flight_messages_;
  prometheus::Gauge* in_flight_bytes_;
  prometheus::Gauge* paused_partitions_;
  prometheus::Gauge* assigned_partitions_;
  prometheus::Gauge* kafka_up_;
  prometheus::Gauge* postgres_up_;
  prometheus::Counter* position_conflicts_;
  prometheus::Counter* service_overflow_;
  prometheus::Gauge* service_labels_;
  prometheus::Counter* error_log_lost_;

  std::string service_label_locked(const std::string& service);

  mutable std::mutex mutex_;  // guards the maps below (not the metrics themselves)
  std::map<std::string, prometheus::Counter*> consumed_;
  std::map<std::pair<std::string, std::int32_t>, prometheus::Gauge*> lag_;
  std::map<std::pair<int, std::string>, prometheus::Counter*> rows_written_;
  std::map<std::pair<int, std::string>, prometheus::Counter*> error_log_rows_;
  std::map<std::string, prometheus::Counter*> restarts_;
  std::map<std::string, prometheus::Counter*> position_resets_;
  std::map<std::string, prometheus::Counter*> records_lost_;
  std::map<std::string, prometheus::Counter*> unrouted_;
  std::map<std::pair<std::string, int>, prometheus::Counter*> admin_requests_;
  std::unordered_set<std::string> services_;  // labels given so far, at most max_services_
  std::size_t max_services_;
};

}  // namespace kafnus
