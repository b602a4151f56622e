#include "telemetry/metrics.hpp"

#include <algorithm>

#include "app/version.hpp"
#include "telemetry/label_value.hpp"

namespace kafnus {
namespace {

prometheus::Histogram::BucketBoundaries seconds_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

void health_state::set_kafka_connected(bool up, std::chrono::system_clock::time_point now) {
  if (up) {
    kafka_connected = true;
    kafka_down_since_ms = 0;
    return;
  }
  kafka_connected = false;
  std::int64_t none = 0;
  // 0 is never a real moment here (ms since 1970), so it can mean "connected".
  kafka_down_since_ms.compare_exchange_strong(none, std::max<std::int64_t>(epoch_ms(now), 1));
}

metrics::metrics(std::size_t max_services)
    : registry_(std::make_shared<prometheus::Registry>()), max_services_(max_services) {
  auto& processed = prometheus::BuildCounter()
                        .Name("messages_processed_total")
                        .Help("Kafka messages processed, per flow (name kept from the original Kafnus stack)")
                        .Register(*registry_);
  auto& last_time = prometheus::BuildGauge()
                        .Name("message_processing_time_seconds")
                        .Help("Processing time of the last message of the flow (name kept from the original stack)")
                        .Register(*registry_);
  auto& duration = prometheus::BuildHistogram()
                       .Name("kafnus_processing_duration_seconds")
                       .Help("Time to turn one Kafka message into rows, per flow")
                       .Register(*registry_);
  auto& entities = prometheus::BuildCounter()
                       .Name("kafnus_entities_total")
                       .Help("Entities seen in the notifications, per flow")
                       .Register(*registry_);
  auto& record_errors = prometheus::BuildCounter()
                            .Name("kafnus_record_errors_total")
                            .Help("Messages or entities that could not become rows (sent to the error log), per flow")
                            .Register(*registry_);
  auto& dropped = prometheus::BuildCounter()
                      .Name("kafnus_dropped_attributes_total")
                      .Help("Attributes dropped because their column does not exist (writer.unknown_columns: drop)")
                      .Register(*registry_);
  const prometheus::Histogram::BucketBoundaries fine = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                        0.001,   0.0025,   0.005,   0.01,   0.025,   0.1};
  for (auto f : ngsi::kAllFlows) {
    const prometheus::Labels labels{{"flow", std::string(ngsi::to_string(f))}};
    flows_[static_cast<std::size_t>(f)] = flow_metrics{
        &processed.Add(labels), &last_time.Add(labels),     &duration.Add(labels, fine),
        &entities.Add(labels),  &record_errors.Add(labels), &dropped.Add(labels),
    };
  }

  consumed_family_ = &prometheus::BuildCounter()
                          .Name("kafnus_messages_consumed_total")
                          .Help("Kafka messages consumed, per topic")
                          .Register(*registry_);
  lag_family_ = &prometheus::BuildGauge()
                     .Name("kafnus_consumer_lag_messages")
                     .Help("Messages between the consumer's position and the end of the partition")
                     .Register(*registry_);
  rows_written_family_ = &prometheus::BuildCounter()
                              .Name("kafnus_rows_written_total")
                              .Help("Rows committed to PostGIS, per flow and service")
                              .Register(*registry_);
  error_log_family_ = &prometheus::BuildCounter()
                           .Name("kafnus_error_log_rows_total")
                           .Help("Rows written to the error log, per flow and service")
                           .Register(*registry_);
  restarts_family_ = &prometheus::BuildCounter()
                          .Name("kafnus_actor_restarts_total")
                          .Help("Restarts of a failed actor by the supervisor")
                          .Register(*registry_);
  position_resets_family_ = &prometheus::BuildCounter()
                                 .Name("kafnus_position_resets_total")
                                 .Help(
                                     "Partitions whose position lay outside their records (a re-created topic, "
                                     "retention), reset per kafka.position_out_of_range")
                                 .Register(*registry_);
  records_lost_family_ = &prometheus::BuildCounter()
                              .Name("kafnus_records_lost_total")
                              .Help("Records deleted by the broker (retention) before Kafnus read them")
                              .Register(*registry_);
  unrouted_family_ = &prometheus::BuildCounter()
                          .Name("kafnus_unrouted_records_total")
                          .Help("Records of an assigned topic that no flow claims, skipped")
                          .Register(*registry_);
  admin_requests_family_ = &prometheus::BuildCounter()
                                .Name("kafnus_admin_requests_total")
                                .Help("Requests answered by the admin HTTP server, per route and status code")
                                .Register(*registry_);

  db_write_seconds_ = &prometheus::BuildHistogram()
                           .Name("kafnus_db_write_duration_seconds")
                           .Help("Duration of one writer transaction, from BEGIN to COMMIT")
                           .Register(*registry_)
                           .Add({}, seconds_buckets());
  db_batch_rows_ =
      &prometheus::BuildHistogram()
           .Name("kafnus_db_batch_rows")
           .Help("Rows per writer transaction")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000});
  db_retries_ = &prometheus::BuildCounter()
                     .Name("kafnus_db_transaction_retries_total")
                     .Help("Writer transactions retried after a transient database failure")
                     .Register(*registry_)
                     .Add({});
  db_transactions_ = &prometheus::BuildCounter()
                          .Name("kafnus_db_transactions_total")
                          .Help("Writer transactions committed")
                          .Register(*registry_)
                          .Add({});
  end_to_end_seconds_ = &prometheus::BuildHistogram()
                             .Name("kafnus_end_to_end_latency_seconds")
                             .Help("From the Kafka record timestamp to the commit of its rows")
                             .Register(*registry_)
                             .Add({}, seconds_buckets());
  in_flight_messages_ = &prometheus::BuildGauge()
                             .Name("kafnus_in_flight_messages")
                             .Help("Kafka messages consumed but not yet committed to PostGIS")
                             .Register(*registry_)
                             .Add({});
  in_flight_bytes_ = &prometheus::BuildGauge()
                          .Name("kafnus_in_flight_bytes")
                          .Help("Bytes of Kafka messages consumed but not yet committed to PostGIS")
                          .Register(*registry_)
                          .Add({});
  paused_partitions_ = &prometheus::BuildGauge()
                            .Name("kafnus_paused_partitions")
                            .Help("Assigned partitions paused because too much work is in flight")
                            .Register(*registry_)
                            .Add({});
  assigned_partitions_ = &prometheus::BuildGauge()
                              .Name("kafnus_assigned_partitions")
                              .Help("Partitions assigned to this instance")
                              .Register(*registry_)
                              .Add({});
  kafka_up_ = &prometheus::BuildGauge()
                   .Name("kafnus_kafka_up")
                   .Help("1 when the consumer is connected to the Kafka cluster")
                   .Register(*registry_)
                   .Add({});
  postgres_up_ = &prometheus::BuildGauge()
                      .Name("kafnus_postgres_up")
                      .Help("1 when the writer is connected to PostgreSQL")
                      .Register(*registry_)
                      .Add({});
  position_conflicts_ = &prometheus::BuildCounter()
                             .Name("kafnus_position_conflicts_total")
                             .Help("Batches not written because another consumer had moved the partition's position")
                             .Register(*registry_)
                             .Add({});
  service_overflow_ = &prometheus::BuildCounter()
                           .Name("kafnus_service_label_overflow_total")
                           .Help(
                               "Updates of per-service series for services beyond metrics.max_services, counted "
                               "under service=\"_other\"")
                           .Register(*registry_)
                           .Add({});
  service_labels_ = &prometheus::BuildGauge()
                         .Name("kafnus_service_labels")
                         .Help("Services with a service label of their own (at most metrics.max_services)")
                         .Register(*registry_)
                         .Add({});
  error_log_lost_ = &prometheus::BuildCounter()
                         .Name("kafnus_error_log_lost_total")
                         .Help("Error-log entries no error log could take (logged as db.error_log_lost)")
                         .Register(*registry_)
                         .Add({});
  prometheus::BuildGauge()
      .Name("kafnus_build_info")
      .Help("Version and revision of the running Kafnus")
      .Register(*registry_)
      .Add({{"version", kVersion}, {"revision", kGitRevision}})
      .Set(1);
}

prometheus::Counter& metrics::consumed(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& c = consumed_[topic];
  if (!c) c = &consumed_family_->Add({{"topic", label_value(topic)}});
  return *c;
}

prometheus::Gauge& metrics::lag(const std::string& topic, std::int32_t partition) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& g = lag_[{topic, partition}];
  if (!g) g = &lag_family_->Add({{"topic", label_value(topic)}, {"partition", std::to_string(partition)}});
  return *g;
}

void metrics::forget_lag(const std::string& topic, std::int32_t partition) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = lag_.find({topic, partition});
  if (it == lag_.end()) return;
  lag_family_->Remove(it->second);
  lag_.erase(it);
}

void metrics::set_max_services(std::size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  max_services_ = n;
}

std::size_t metrics::max_services() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_services_;
}

std::string metrics::service_label(const std::string& service) {
  std::lock_guard<std::mutex> lock(mutex_);
  return service_label_locked(service);
}

std::string metrics::service_label_locked(const std::string& service) {
  // A clean name is its own label: one lookup on the hot path.
  if (services_.count(service)) return service;
  auto label = label_value(service);
  if (services_.count(label)) return label;
  if (services_.size() < max_services_) {
    services_.insert(label);
    service_labels_->Set(static_cast<double>(services_.size()));
    return label;
  }
  service_overflow_->Increment();
  return kOtherService;
}

prometheus::Counter& metrics::rows_written(ngsi::flow f, const std::string& service) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto label = service_label_locked(service);
  auto& c = rows_written_[{static_cast<int>(f), label}];
  if (!c) c = &rows_written_family_->Add({{"flow", std::string(ngsi::to_string(f))}, {"service", label}});
  return *c;
}

prometheus::Counter& metrics::error_log_rows(ngsi::flow f, const std::string& service) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto label = service_label_locked(service);
  auto& c = error_log_rows_[{static_cast<int>(f), label}];
  if (!c) c = &error_log_family_->Add({{"flow", std::string(ngsi::to_string(f))}, {"service", label}});
  return *c;
}

prometheus::Counter& metrics::actor_restarts(const std::string& actor) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& c = restarts_[actor];
  if (!c) c = &restarts_family_->Add({{"actor", actor}});
  return *c;
}

namespace {

prometheus::Counter& topic_counter(std::map<std::string, prometheus::Counter*>& children,
                                   prometheus::Family<prometheus::Counter>& family, const std::string& topic) {
  auto& c = children[topic];
  if (!c) c = &family.Add({{"topic", topic}});
  return *c;
}

}  // namespace

prometheus::Counter& metrics::position_resets(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mutex_);
  return topic_counter(position_resets_, *position_resets_family_, topic);
}

prometheus::Counter& metrics::records_lost(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mutex_);
  return topic_counter(records_lost_, *records_lost_family_, topic);
}

prometheus::Counter& metrics::unrouted_records(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mutex_);
  return topic_counter(unrouted_, *unrouted_family_, topic);
}

prometheus::Counter& metrics::admin_requests(const std::string& route, int code) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& c = admin_requests_[{route, code}];
  if (!c) c = &admin_requests_family_->Add({{"route", route}, {"code", std::to_string(code)}});
  return *c;
}

}  // namespace kafnus
