#include "kafka/offsets_client.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/kafka_properties.hpp"

namespace kafnus::kafka {

// librdkafka's errors and logs, kept (not printed) so a failure can say why
// the brokers did not answer.
struct offsets_client::events : RdKafka::EventCb {
  void event_cb(RdKafka::Event& e) override {
    if (e.type() != RdKafka::Event::EVENT_ERROR && e.type() != RdKafka::Event::EVENT_LOG) return;
    if (e.type() == RdKafka::Event::EVENT_LOG && e.severity() > RdKafka::Event::EVENT_SEVERITY_WARNING) return;
    const std::lock_guard<std::mutex> lock(mutex);
    last = e.str();
  }
  std::string last_error() {
    const std::lock_guard<std::mutex> lock(mutex);
    return last;
  }
  std::mutex mutex;
  std::string last;
};

offsets_client::offsets_client(const config::kafka_settings& kafka, int timeout_ms)
    : events_(std::make_unique<events>()), timeout_ms_(timeout_ms) {
  auto props = consumer_properties(kafka);
  // Never a member of the daemon's group: no static id (it would fence a
  // running instance if it ever joined), no statistics.
  props.erase("group.instance.id");
  props.erase("statistics.interval.ms");
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto& [k, v] : props) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      throw std::runtime_error("kafka.properties." + k + ": " + err);
    }
  }
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), err) != RdKafka::Conf::CONF_OK) {
    throw std::runtime_error("cannot set up the Kafka client: " + err);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("cannot create the Kafka client: " + err);
}

offsets_client::~offsets_client() {
  if (consumer_) consumer_->close();
}

std::string offsets_client::failure(const std::string& what, const std::string& err) const {
  std::string s = what + ": " + err;
  const auto last = events_->last_error();
  if (!last.empty() && last != err) s += " (" + last + ")";
  return s;
}

std::vector<std::string> offsets_client::topics() {
  RdKafka::Metadata* raw = nullptr;
  const auto rc = consumer_->metadata(true, nullptr, &raw, timeout_ms_);
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (rc != RdKafka::ERR_NO_ERROR) throw std::runtime_error(failure("cannot list the topics", RdKafka::err2str(rc)));
  std::vector<std::string> out;
  for (const auto* t : *md->topics()) {
    if (!t->topic().empty() && t->topic()[0] != '_') out.push_back(t->topic());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::int32_t> offsets_client::partitions(const std::string& topic) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer_.get(), topic, nullptr, err));
  if (!handle) throw std::runtime_error("topic " + topic + ": " + err);
  RdKafka::Metadata* raw = nullptr;
  const auto rc = consumer_->metadata(false, handle.get(), &raw, timeout_ms_);
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (rc != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error(failure("cannot read the partitions of topic " + topic, RdKafka::err2str(rc)));
  }
  std::vector<std::int32_t> out;
  for (const auto* t : *md->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("topic " + topic + ": " + RdKafka::err2str(t->err()));
    }
    for (const auto* p : *t->partitions()) out.push_back(p->id());
  }
  if (out.empty()) throw std::runtime_error("topic " + topic + " does not exist");
  std::sort(out.begin(), out.end());
  return out;
}

offsets_client::range offsets_client::records(const std::string& topic, std::int32_t partition) {
  range r;
  const auto rc = consumer_->query_watermark_offsets(topic, partition, &r.low, &r.high, timeout_ms_);
  if (rc != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error(
        failure("cannot read the records of " + topic + "/" + std::to_string(partition), RdKafka::err2str(rc)));
  }
  return r;
}

std::int64_t offsets_client::offset_at(const std::string& topic, std::int32_t partition, std::int64_t epoch_ms) {
  std::vector<RdKafka::TopicPartition*> list{RdKafka::TopicPartition::create(topic, partition, epoch_ms)};
  const auto rc = consumer_->offsetsForTimes(list, timeout_ms_);
  const auto offset = list[0]->offset();
  const auto err = list[0]->err();
  RdKafka::TopicPartition::destroy(list);
  const auto where = topic + "/" + std::to_string(partition);
  if (rc != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error(failure("cannot find a time in " + where, RdKafka::err2str(rc)));
  if (err != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error(failure("cannot find a time in " + where, RdKafka::err2str(err)));
  // No record at or after that time: the end.
  return offset >= 0 ? offset : records(topic, partition).high;
}

}  // namespace kafnus::kafka
