#include "test/support/kafka_client.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "test/support/test_env.hpp"

namespace kafnus::test {
namespace {

class delivery_report : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      failed++;
      last_error = m.errstr();
    } else if (m.msg_opaque() != nullptr && delivered) {
      delivered(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m.msg_opaque())));
    }
  }
  std::atomic<int> failed{0};
  std::string last_error;
  std::function<void(std::uint64_t)> delivered;
};

// Runs one admin operation on a throwaway C client and waits for its result.
template <class Start, class Check>
void admin(const std::string& brokers, rd_kafka_event_type_t expected, Start start, Check check) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(std::string("rd_kafka_new: ") + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  start(rk, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  std::string problem;
  if (!ev) {
    problem = "admin request timed out";
  } else if (rd_kafka_event_type(ev) != expected) {
    problem = "unexpected admin event";
  } else if (rd_kafka_event_error(ev)) {
    problem = rd_kafka_event_error_string(ev);
  } else {
    problem = check(ev);
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  if (!problem.empty()) throw std::runtime_error(problem);
}

}  // namespace

struct kafka_producer::impl {
  delivery_report dr;
  std::unique_ptr<RdKafka::Producer> producer;
};

kafka_producer::kafka_producer(const std::string& brokers, int linger_ms) : impl_(std::make_unique<impl>()) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("linger.ms", std::to_string(linger_ms), err);
  conf->set("message.max.bytes", "33554432", err);
  conf->set("dr_cb", &impl_->dr, err);
  impl_->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl_->producer) throw std::runtime_error("cannot create producer: " + err);
}

kafka_producer::~kafka_producer() {
  if (impl_ && impl_->producer) impl_->producer->flush(10000);
}

void kafka_producer::send(const std::string& topic, const std::string& value, const headers& h, const std::string& key,
                          int partition, std::uint64_t tag) {
  RdKafka::Headers* hdrs = RdKafka::Headers::create();
  for (const auto& [k, v] : h) hdrs->add(k, v.data(), v.size());
  // librdkafka hands a record's opaque back untouched in its delivery report:
  // the tag travels as that pointer's value, never dereferenced.
  void* const opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(tag));  // NOLINT(performance-no-int-to-ptr)
  for (int attempt = 0;; ++attempt) {
    auto rc = impl_->producer->produce(topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
                                       RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(),
                                       key.empty() ? nullptr : key.data(), key.size(), 0, hdrs, opaque);
    if (rc == RdKafka::ERR_NO_ERROR) return;  // headers now owned by librdkafka
    if (rc == RdKafka::ERR__QUEUE_FULL && attempt < 1000) {
      impl_->producer->poll(10);
      continue;
    }
    delete hdrs;
    throw std::runtime_error("produce to " + topic + " failed: " + RdKafka::err2str(rc));
  }
}

void kafka_producer::on_delivery(std::function<void(std::uint64_t tag)> f) { impl_->dr.delivered = std::move(f); }

void kafka_producer::poll() { impl_->producer->poll(0); }

void kafka_producer::flush() {
  auto rc = impl_->producer->flush(60000);
  if (rc != RdKafka::ERR_NO_ERROR) throw std::runtime_error("flush failed: " + RdKafka::err2str(rc));
  if (impl_->dr.failed > 0) throw std::runtime_error("delivery failed: " + impl_->dr.last_error);
}

void kafka_producer::prepare(const std::string& topic, int timeout_ms) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(impl_->producer.get(), topic, nullptr, err));
  if (!t) throw std::runtime_error("cannot create topic handle " + topic + ": " + err);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    RdKafka::Metadata* raw = nullptr;
    const auto rc = impl_->producer->metadata(false, t.get(), &raw, 1000);
    const std::unique_ptr<RdKafka::Metadata> md(raw);
    bool ready = rc == RdKafka::ERR_NO_ERROR && md && md->topics()->size() == 1 &&
                 md->topics()->front()->err() == RdKafka::ERR_NO_ERROR && !md->topics()->front()->partitions()->empty();
    if (ready) {
      for (const auto* part : *md->topics()->front()->partitions()) ready = ready && part->leader() >= 0;
    }
    if (ready) return;
    if (std::chrono::steady_clock::now() >= until) {
      throw std::runtime_error("the leaders of topic " + topic + " are not known after " + std::to_string(timeout_ms) +
                               " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void create_topics(const std::string& brokers, const std::vector<std::string>& topics, int partitions) {
  admin(
      brokers, RD_KAFKA_EVENT_CREATETOPICS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_queue_t* q) {
        std::vector<rd_kafka_NewTopic_t*> nts;
        nts.reserve(topics.size());
        char err[512];
        for (const auto& t : topics) nts.push_back(rd_kafka_NewTopic_new(t.c_str(), partitions, 1, err, sizeof err));
        rd_kafka_CreateTopics(rk, nts.data(), nts.size(), nullptr, q);
        rd_kafka_NewTopic_destroy_array(nts.data(), nts.size());
      },
      [](rd_kafka_event_t* ev) -> std::string {
        size_t n = 0;
        const auto* res = rd_kafka_event_CreateTopics_result(ev);
        const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
        for (size_t i = 0; i < n; ++i) {
          auto e = rd_kafka_topic_result_error(results[i]);
          if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            return std::string("create topic ") + rd_kafka_topic_result_name(results[i]) + ": " +
                   rd_kafka_topic_result_error_string(results[i]);
          }
        }
        return {};
      });
  // Metadata reaches every part of the broker shortly after creation.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

void delete_topics(const std::string& brokers, const std::vector<std::string>& topics) {
  admin(
      brokers, RD_KAFKA_EVENT_DELETETOPICS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_queue_t* q) {
        std::vector<rd_kafka_DeleteTopic_t*> dts;
        dts.reserve(topics.size());
        for (const auto& t : topics) dts.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
        rd_kafka_DeleteTopics(rk, dts.data(), dts.size(), nullptr, q);
        rd_kafka_DeleteTopic_destroy_array(dts.data(), dts.size());
      },
      [](rd_kafka_event_t*) -> std::string { return {}; });
}

void delete_records_before(const std::string& brokers, const std::string& topic, int partition, long long offset) {
  admin(
      brokers, RD_KAFKA_EVENT_DELETERECORDS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_queue_t* q) {
        rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(offsets, topic.c_str(), partition)->offset = offset;
        rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(offsets);
        rd_kafka_DeleteRecords(rk, &del, 1, nullptr, q);
        rd_kafka_DeleteRecords_destroy(del);
        rd_kafka_topic_partition_list_destroy(offsets);
      },
      [](rd_kafka_event_t* ev) -> std::string {
        const auto* res = rd_kafka_event_DeleteRecords_result(ev);
        const auto* parts = rd_kafka_DeleteRecords_result_offsets(res);
        for (int i = 0; parts && i < parts->cnt; ++i) {
          if (parts->elems[i].err) return std::string("delete records: ") + rd_kafka_err2str(parts->elems[i].err);
        }
        return {};
      });
}

void commit_group_offset(const std::string& brokers, const std::string& group, const std::string& topic, int partition,
                         long long offset) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", group, err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) throw std::runtime_error("commit_group_offset: " + err);
  std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create(topic, partition, offset)};
  const auto rc = c->commitSync(offsets);
  RdKafka::TopicPartition::destroy(offsets);
  c->close();
  if (rc != RdKafka::ERR_NO_ERROR) throw std::runtime_error("commit_group_offset: " + RdKafka::err2str(rc));
}

std::vector<group_member> group_members(const std::string& brokers, const std::string& group) {
  std::vector<group_member> out;
  admin(
      brokers, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_queue_t* q) {
        const char* groups[] = {group.c_str()};
        rd_kafka_DescribeConsumerGroups(rk, groups, 1, nullptr, q);
      },
      [&](rd_kafka_event_t* ev) -> std::string {
        size_t n = 0;
        const auto* res = rd_kafka_event_DescribeConsumerGroups_result(ev);
        const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(res, &n);
        for (size_t g = 0; g < n; ++g) {
          if (const auto* e = rd_kafka_ConsumerGroupDescription_error(groups[g])) {
            if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) continue;
            return std::string("describe group: ") + rd_kafka_error_string(e);
          }
          const auto members = rd_kafka_ConsumerGroupDescription_member_count(groups[g]);
          for (size_t i = 0; i < members; ++i) {
            const auto* m = rd_kafka_ConsumerGroupDescription_member(groups[g], i);
            auto text = [](const char* s) { return s ? std::string(s) : std::string(); };
            out.push_back(group_member{
                text(rd_kafka_MemberDescription_consumer_id(m)), text(rd_kafka_MemberDescription_group_instance_id(m)),
                text(rd_kafka_MemberDescription_client_id(m)), text(rd_kafka_MemberDescription_host(m))});
          }
        }
        return {};
      });
  return out;
}

std::vector<consumed_record> read_records(const std::string& brokers, const std::string& topic, std::size_t max,
                                          int timeout_ms) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", unique_name("reader"), err);
  conf->set("auto.offset.reset", "earliest", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) throw std::runtime_error("cannot create consumer: " + err);
  c->subscribe({topic});
  std::vector<consumed_record> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < max && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c->consume(200));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    consumed_record r;
    r.topic = m->topic_name();
    r.partition = m->partition();
    r.offset = m->offset();
    if (m->payload()) r.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (const auto* h = m->headers()) {
      for (const auto& x : h->get_all()) {
        r.hdrs.emplace_back(x.key(), std::string(static_cast<const char*>(x.value()), x.value_size()));
      }
    }
    out.push_back(std::move(r));
  }
  c->close();
  return out;
}

}  // namespace kafnus::test
