#include "actors/consumer.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <caf/all.hpp>
#include <pqxx/connection>
#include <pqxx/transaction>

#include "actors/batch_transform.hpp"
#include "actors/failure_log.hpp"
#include "config/topic_pattern.hpp"
#include "kafka/consumer_stats.hpp"
#include "kafka/kafka_properties.hpp"
#include "kafka/partition_ledger.hpp"
#include "kafka/position_reset.hpp"
#include "kafka/processing_backlog.hpp"
#include "kafka/topic_router.hpp"
#include "messages/atoms.hpp"
#include "messages/types.hpp"
#include "postgis/connection.hpp"
#include "postgis/offsets_store.hpp"
#include "telemetry/log.hpp"

namespace kafnus {
namespace {

using kafka::partition_key;
using kafka::partition_ledger;
using clock = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(500);
constexpr auto kPositionRetry = std::chrono::seconds(2);
constexpr auto kStallPoll = std::chrono::milliseconds(50);       // housekeeping while no credit is left
constexpr auto kProcessorsBusy = std::chrono::milliseconds(2);   // every processor has enough: look again then
constexpr auto kNudgeInterval = std::chrono::milliseconds(100);  // see kafka::idle_fetcher_needs_restart
constexpr auto kLongStall = std::chrono::seconds(10);            // then partitions are paused (see poll())
constexpr int kBrokerTimeoutMs = 5000;                           // watermark and committed-offset requests
constexpr int kMetadataTimeoutMs = 2000;                         // at close: does any subscribed topic exist?
// A poll of at most this many records is transformed by the consumer itself
// (dispatch()); at 5,000 notifications/s a poll brings ~25 (those of the
// batching.min_interval_ms it waited, see poll()).
constexpr int kTransformHereRecords = 64;

// Owns the TopicPartition pointers librdkafka's vector API wants.
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  partition_list() = default;
  explicit partition_list(const std::vector<partition_key>& keys) {
    for (const auto& k : keys) add(k);
  }
  partition_list(const partition_list&) = delete;
  partition_list& operator=(const partition_list&) = delete;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
  void add(const partition_key& k, std::int64_t offset = RdKafka::Topic::OFFSET_INVALID) {
    items.push_back(RdKafka::TopicPartition::create(k.first, k.second, offset));
  }
  bool empty() const { return items.empty(); }
};

std::vector<partition_key> keys_of(const std::map<partition_key, std::int64_t>& positions) {
  std::vector<partition_key> keys;
  keys.reserve(positions.size());
  for (const auto& [k, unused] : positions) keys.push_back(k);
  return keys;
}

std::string names_of(const std::vector<partition_key>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ",") + kafka::to_string(k);
  return s;
}

// The first assignment epoch of a consumer incarnation: 2^32 apart from any
// other's (the clock's nanoseconds in the high half).
std::uint64_t incarnation_epoch_base() {
  const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return (now & 0xffffffffu) << 32;
}

// A raw_batch being built from the records of one poll, and the epoch its
// partition had when its first record was taken.
struct pending_batch {
  std::uint64_t epoch = 0;
  std::size_t processor = 0;  // of the pool: the partition's (processor_of)
  msg::raw_batch batch;
};

// What one poll has taken so far: a batch per partition, their total, and
// the partition of the last record taken (consecutive records mostly come
// from one partition: their key and batch are found again without building
// the topic's name or searching the map).
struct poll_batches {
  std::map<partition_key, pending_batch> by_partition;
  kafka::work taken;
  std::vector<std::int64_t> taken_by_processor;  // bytes, by processor of the pool
  partition_key last_key{std::string(), -1};
  pending_batch* last = nullptr;
};

// A record polled through librdkafka's C API, destroyed with this object.
// (The C++ API allocates a Message per record, and its Headers::get_all
// copies every header before the record copies them again.)
class polled_record {
 public:
  explicit polled_record(rd_kafka_message_t* m) : m_(m) {}
  polled_record(const polled_record&) = delete;
  polled_record& operator=(const polled_record&) = delete;
  ~polled_record() {
    if (m_) rd_kafka_message_destroy(m_);
  }
  // Null when the poll timed out.
  const rd_kafka_message_t* get() const { return m_; }

 private:
  rd_kafka_message_t* m_;
};

const char* topic_of(const rd_kafka_message_t& m) { return m.rkt ? rd_kafka_topic_name(m.rkt) : ""; }

class consumer_impl : public msg::consumer_actor::base, public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  consumer_impl(caf::actor_config& cfg, consumer_wiring w)
      : msg::consumer_actor::base(cfg),
        w_(std::move(w)),
        router_(w_.settings->flows),
        // Epochs unique across consumer incarnations: the writer outlives a
        // restarted consumer and acknowledges the old one's batches to it.
        ledger_({w_.settings->batching.in_flight_messages, w_.settings->batching.in_flight_bytes},
                incarnation_epoch_base()),
        out_of_range_(w_.settings->kafka.position_out_of_range) {}

  behavior_type make_behavior() override {
    set_exception_handler(log_failure("consumer.failed", "consumer"));
    start();
    delayed_send(this, kTick, msg::tick_atom::value);
    return {
        [this](msg::poll_atom, std::uint64_t generation) {
          if (generation == poll_generation_) poll();  // else superseded: one poll loop at any time
        },
        [this](msg::write_ack& ack) { on_ack(ack); },
        [this](msg::rewind_atom) { rewind_all("in-flight work was lost with a restarted actor"); },
        [this](msg::wire_atom, std::vector<msg::processor_actor>& pool, msg::writer_actor& writer) {
          const bool first = processors_.empty();
          processors_ = std::move(pool);
          writer_ = std::move(writer);
          if (backlog_.size() != processors_.size()) backlog_.resize(processors_.size());
          if (first && !processors_.empty()) schedule_poll();  // records have somewhere to go now
        },
        [this](msg::drain_atom) -> caf::typed_response_promise<msg::drained_atom> {
          drained_ = make_response_promise<msg::drained_atom>();
          begin_drain();
          return drained_;
        },
        [this](msg::tick_atom) {
          tick();
          if (consumer_) delayed_send(this, kTick, msg::tick_atom::value);
        },
    };
  }

  void on_exit() override {
    processors_.clear();  // handles between actors form a cycle; a finished actor lets go of its own
    writer_ = nullptr;
    if (consumer_) close_consumer();
    w_.m->health().consuming = false;
    w_.m->in_flight_messages().Set(0);
    w_.m->in_flight_bytes().Set(0);
    w_.m->assigned_partitions().Set(0);
    w_.m->paused_partitions().Set(0);
  }

  // ------------------------------------------------------ librdkafka callbacks
  // Called from within consume() or close(), on this actor's thread.
  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
    joined_ = true;
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      on_assign(c, partitions, cooperative);
      return;
    }
    if (err != RdKafka::ERR__REVOKE_PARTITIONS) log::warn("kafka.rebalance_error", RdKafka::err2str(err));
    on_revoke(partitions, c->assignment_lost());
    if (cooperative) {
      if (auto* e = c->incremental_unassign(partitions)) {
        log::error("kafka.unassign_failed", e->str());
        delete e;
      }
    } else {
      c->unassign();
    }
  }

  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (event.fatal()) fatal_ = fatal_message(event);
        if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) set_kafka_up(false);
        // A subscribed topic that does not exist yet is reported per topic
        // by the consume path (missing_topic); here it would repeat.
        if (event.err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART || event.err() == RdKafka::ERR__UNKNOWN_TOPIC) break;
        log_kafka_error(event);
        break;
      case RdKafka::Event::EVENT_STATS: on_stats(event.str()); break;
      case RdKafka::Event::EVENT_LOG:
        if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
          log::debug("kafka.log", event.str(), {{"facility", event.fac()}});
        }
        break;
      default: break;
    }
  }

 private:
  // --------------------------------------------------------------- start/poll
  void start() {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    for (const auto& [k, v] : kafka::consumer_properties(w_.settings->kafka)) {
      if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
        throw std::runtime_error("kafka.properties." + k + ": " + err);
      }
    }
    if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err) != RdKafka::Conf::CONF_OK ||
        conf->set("event_cb", static_cast<RdKafka::EventCb*>(this), err) != RdKafka::Conf::CONF_OK) {
      throw std::runtime_error("cannot install Kafka callbacks: " + err);
    }
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) throw std::runtime_error("cannot create the Kafka consumer: " + err);
    const auto& topics = router_.subscription();
    auto rc = consumer_->subscribe(topics);
    if (rc != RdKafka::ERR_NO_ERROR) throw std::runtime_error("cannot subscribe: " + RdKafka::err2str(rc));
    w_.m->health().consuming = true;
    std::string list;
    for (const auto& t : topics) list += (list.empty() ? "" : ",") + t;
    const auto& id = w_.settings->kafka.instance_id;
    log::info("kafka.subscribed", "consuming",
              {{"brokers", w_.settings->kafka.brokers},
               {"group", w_.settings->kafka.group_id},
               {"instance_id", id.empty() ? "(dynamic membership)" : id},
               {"topics", list}});
  }

  // Exactly one poll is scheduled at any time: scheduling another one
  // supersedes the pending one (its generation no longer matches).
  void schedule_poll(std::optional<clock::duration> delay = std::nullopt) {
    ++poll_generation_;
    waiting_for_credits_ = delay.has_value();
    if (delay) {
      delayed_send(this, *delay, msg::poll_atom::value, poll_generation_);
    } else {
      send(this, msg::poll_atom::value, poll_generation_);
    }
  }

  void poll() {
    if (!consumer_) return;
    if (!fatal_.empty()) throw std::runtime_error(fatal_);
    w_.m->health().last_poll_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    switch (ledger_.decide(clock::now(), kLongStall)) {
      case partition_ledger::poll_action::wait:
        // Back-pressure without pause(): no record is taken, so librdkafka's
        // bounded prefetch queue fills and it stops fetching by itself.
        // (pause() purges that queue and resume() then stalls ~1 s before the
        // next fetch: pausing at every full pipeline cut throughput to a
        // third.) An ack that brings credits back polls at once.
        return schedule_poll(kStallPoll);
      case partition_ledger::poll_action::pause:
        // Not calling consume() serves no rebalance either, so a stall that
        // lasts (database down) pauses the partitions and polls on, which
        // keeps the group membership.
        apply_pause(ledger_.pause_for_credits());
        log::debug("kafka.paused", "too much work in flight; partitions paused",
                   {{"in_flight_messages", std::to_string(ledger_.in_flight().messages)},
                    {"in_flight_bytes", std::to_string(ledger_.in_flight().bytes)}});
        break;
      case partition_ledger::poll_action::consume: break;
    }
    const bool fetching = !ledger_.credit_paused() && !ledger_.draining();
    // Records taken while every processor has enough waiting would only wait
    // in their mailboxes: they stay in librdkafka's bounded prefetch queue.
    if (fetching && backlog_.all_busy()) return schedule_poll(kProcessorsBusy);
    if (paced_until_) {
      // The last poll's rows went to the writer from here, which starts a
      // transaction with them: the next are polled no sooner than
      // batching.min_interval_ms later, so that those of the interval go
      // together (at 5,000/s ~25 a transaction), woken once for them rather
      // than at every fetch (librdkafka's ~1,000 a second at that rate),
      // and the writer needs no timer. They wait in librdkafka's queue
      // instead of the writer's (the median latency is the same; for the
      // p99 see bench/README.md, 2026-12-05).
      const auto now = clock::now();
      if (fetching && now < *paced_until_) std::this_thread::sleep_for(*paced_until_ - now);
      paced_until_.reset();
    }
    const int max_records = w_.settings->batching.max_rows;
    // While paused or draining there is nothing to fetch, but polling keeps
    // the group membership and rebalances served.
    const int timeout = fetching ? w_.settings->kafka.poll_timeout_ms : 20;
    // A batch closes when it is full or batching.max_delay_ms after its
    // first record: under a steady trickle of records it must not wait to fill.
    const auto max_delay = std::chrono::milliseconds(w_.settings->batching.max_delay_ms);
    poll_batches batches;
    batches.taken_by_processor.assign(processors_.size(), 0);
    rd_kafka_t* const rk = consumer_->c_ptr();
    int n = 0;
    clock::time_point first{};
    for (;;) {
      // The same call as KafkaConsumer::consume (callbacks are served in it).
      const polled_record polled(rd_kafka_consumer_poll(rk, n == 0 ? timeout : 0));
      if (!polled.get()) break;  // timed out
      const rd_kafka_message_t& m = *polled.get();
      if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (accept(m, batches) && n++ == 0) first = clock::now();
        if (n >= max_records || ledger_.over_limit_with(batches.taken)) break;
        if (backlog_.all_busy(batches.taken_by_processor)) break;
        if (n > 0 && (n & 63) == 0 && clock::now() - first >= max_delay) break;
        continue;
      }
      if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (m.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        missing_topic(topic_of(m), rd_kafka_message_errstr(&m));
        continue;
      }
      log_consume_error(m);
      break;
    }
    if (!fatal_.empty()) throw std::runtime_error(fatal_);
    if (n > 0) set_kafka_up(true);
    if (n == 0 && fetching) nudge_idle_fetchers();
    dispatch(batches.by_partition, n);
    schedule_poll();
  }

  // The processor of a partition: fixed, so batches of a partition are
  // processed, and reach the writer, in order.
  std::size_t processor_of(const partition_key& key) const {
    return (std::hash<std::string>{}(key.first) * 31 + static_cast<std::size_t>(key.second)) % processors_.size();
  }

  // Adds a record to its partition's batch; false when it is not taken.
  bool accept(const rd_kafka_message_t& m, poll_batches& batches) {
    const char* topic = topic_of(m);
    if (batches.last_key.second != m.partition || batches.last_key.first != topic) {
      batches.last_key = partition_key{topic, m.partition};
      batches.last = nullptr;
    }
    const partition_key& key = batches.last_key;
    const auto* p = ledger_.find(key);
    if (p && !p->awaiting_position && p->next_fetch > 0 && m.offset != p->next_fetch &&
        !continue_after_jump(key, p->next_fetch, m.offset)) {
      return false;
    }
    if (ledger_.accept(key, m.offset) != partition_ledger::take::yes) return false;
    if (!batches.last) batches.last = &batches.by_partition[key];  // map nodes stay put
    auto& pb = *batches.last;
    auto& b = pb.batch;
    const std::int64_t timestamp_ms = rd_kafka_message_timestamp(&m, nullptr);
    if (b.records.empty()) {
      pb.epoch = ledger_.find(key)->epoch;
      pb.processor = processor_of(key);
      b.source.topic = key.first;
      b.source.partition = key.second;
      b.source.oldest_timestamp_ms = timestamp_ms;
    }
    msg::raw_record r;
    r.offset = m.offset;
    r.timestamp_ms = timestamp_ms;
    if (m.payload) r.value.assign(static_cast<const char*>(m.payload), m.len);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
      r.headers.reserve(rd_kafka_header_cnt(headers));
      const char* name = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        r.headers.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
      }
    }
    b.source.next_position = m.offset + 1;
    b.source.messages += 1;
    b.source.bytes += static_cast<std::int64_t>(m.len);
    batches.taken += kafka::work{1, static_cast<std::int64_t>(m.len)};
    batches.taken_by_processor[pb.processor] += static_cast<std::int64_t>(m.len);
    if (r.timestamp_ms > 0 && (b.source.oldest_timestamp_ms <= 0 || r.timestamp_ms < b.source.oldest_timestamp_ms)) {
      b.source.oldest_timestamp_ms = r.timestamp_ms;
    }
    b.records.push_back(std::move(r));
    return true;
  }

  // `records`: how many the poll brought. A poll of a few, at a low rate,
  // is transformed here and handed to the writer in one message
  // (msg::polled_rows), for each partition whose processor has nothing
  // waiting (so the partition's batches still reach the writer in order):
  // handing a few records to a processor costs more — a thread woken, then
  // another for the writer — than transforming them (bench/README.md,
  // 2026-12-05).
  void dispatch(std::map<partition_key, pending_batch>& batches, int records) {
    const bool transform_here = writer_ && records <= kTransformHereRecords;
    msg::polled_rows here;
    for (auto& [key, pb] : batches) {
      auto& b = pb.batch;
      const auto& flows = flows_of(key.first);
      if (flows.empty()) {
        skip_unrouted(key, b);
        continue;
      }
      // A rebalance inside this poll may have revoked the partition, or a
      // conflict repositioned it: its records are consumed again from the
      // stored position by whoever owns it now.
      const auto claim =
          ledger_.dispatch(key, pb.epoch, b.source.next_position, kafka::work{b.source.messages, b.source.bytes});
      if (!claim) continue;
      b.flows = flows;
      b.source.epoch = claim->epoch;
      b.source.expected_position = claim->expected;
      w_.m->consumed(key.first).Increment(static_cast<double>(b.source.messages));
      if (transform_here && backlog_.idle(pb.processor)) {
        here.batches.push_back(transform_(b));
        continue;
      }
      b.queued = backlog_.ticket(pb.processor, b.source.bytes);
      send(processors_.at(pb.processor), std::move(b));
    }
    if (!here.batches.empty()) {
      // The consumer spaces its hand-overs only where that keeps the
      // mailbox and librdkafka's callbacks waiting no longer than a poll
      // does (else the writer spaces the transactions with its timer).
      const auto interval = std::chrono::milliseconds(w_.settings->batching.min_interval_ms);
      here.paced = interval.count() > 0 && interval.count() <= w_.settings->kafka.poll_timeout_ms;
      if (here.paced) paced_until_ = clock::now() + interval;
      send(writer_, std::move(here));
    }
    publish_gauges();
  }

  // The flows of a topic (cached: patterns are matched once per topic).
  const std::vector<ngsi::flow>& flows_of(const std::string& topic) {
    auto it = routes_.find(topic);
    if (it != routes_.end()) return it->second;
    const auto r = router_.resolve(topic);
    if (!r.flows.empty() && !r.also_matched.empty()) {
      log::warn(
          "kafka.topic_ambiguous", "topic matches the patterns of several flows; it feeds the first one's",
          {{"topic", topic}, {"flows", ngsi::flow_names(r.flows)}, {"also_matched", ngsi::flow_names(r.also_matched)}});
    }
    return routes_.emplace(topic, r.flows).first->second;
  }

  // Records of an assigned topic that no flow claims (librdkafka's pattern
  // matching and Kafnus's differ): never dropped without a trace.
  void skip_unrouted(const partition_key& key, const msg::raw_batch& b) {
    w_.m->unrouted_records(key.first).Increment(static_cast<double>(b.source.messages));
    if (unrouted_logged_.insert(key.first).second) {
      log::error("kafka.topic_unrouted",
                 "records of an assigned topic that no flow claims are skipped and counted "
                 "(kafnus_unrouted_records_total); check the patterns in flows.*.topics",
                 {{"topic", key.first}, {"first_offset", std::to_string(b.records.front().offset)}});
    }
  }

  // ------------------------------------------------------------- assignment
  void on_assign(RdKafka::KafkaConsumer* c, std::vector<RdKafka::TopicPartition*>& partitions, bool cooperative) {
    std::map<partition_key, std::int64_t> stored;
    const bool known = read_positions(partitions, stored);
    std::vector<partition_key> unstored;  // never committed by Kafnus
    if (known) {
      for (auto* p : partitions) {
        partition_key key{p->topic(), p->partition()};
        if (!stored.count(key)) unstored.push_back(std::move(key));
      }
    }
    const auto ranges = known ? record_ranges(keys_of(stored)) : std::map<partition_key, range>{};
    const auto fresh_starts = first_offsets(unstored);
    std::vector<partition_key> keys;
    for (auto* p : partitions) {
      partition_key key{p->topic(), p->partition()};
      keys.push_back(key);
      missing_topics_.erase(key.first);
      ledger_.assign(key);
      if (!known) continue;  // waits for its stored position (resolve_waiting)
      if (auto s = stored.find(key); s != stored.end()) {
        const auto start = start_offset(key, s->second, ranges);
        p->set_offset(start);
        ledger_.position(key, s->second, start);
      } else {
        // Never committed by Kafnus: Kafka's committed offset, else
        // kafka.auto_offset_reset — resolved here when the broker answered,
        // else by librdkafka (OFFSET_INVALID).
        const auto f = fresh_starts.find(key);
        const auto start = f != fresh_starts.end() ? f->second : RdKafka::Topic::OFFSET_INVALID;
        p->set_offset(start);
        ledger_.position(key, kafka::kNoStoredPosition, start);
      }
    }
    if (cooperative) {
      if (auto* e = c->incremental_assign(partitions)) {
        log::error("kafka.assign_failed", e->str());
        delete e;
      }
    } else {
      c->assign(partitions);
    }
    sync_pause_state(keys);
    log::info("kafka.assigned",
              known ? "partitions assigned, starting at their stored positions"
                    : "partitions assigned; PostgreSQL unreachable, they wait for their stored positions",
              {{"partitions", names_of(keys)}, {"protocol", cooperative ? "cooperative" : "eager"}});
    publish_gauges();
  }

  void on_revoke(std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
    std::vector<partition_key> keys;
    for (auto* p : partitions) {
      partition_key key{p->topic(), p->partition()};
      if (!ledger_.find(key)) continue;
      ledger_.revoke(key);
      w_.m->forget_lag(key.first, key.second);
      keys.push_back(key);
    }
    log::info("kafka.revoked", lost ? "partitions lost" : "partitions revoked", {{"partitions", names_of(keys)}});
    apply_resume(ledger_.resume_if_credited());
    maybe_finish_drain();
    publish_gauges();
  }

  // librdkafka's pause flag of newly assigned partitions, set to the
  // ledger's: a partition paused before it was revoked must not come back
  // paused, one that waits for its position must not fetch.
  void sync_pause_state(const std::vector<partition_key>& keys) {
    std::vector<partition_key> pause, resume;
    for (const auto& k : keys) {
      const auto* p = ledger_.find(k);
      if (p) (p->paused ? pause : resume).push_back(k);
    }
    apply_pause(pause);
    apply_resume(resume);
  }

  // Stored positions of the partitions' topics; false when PostgreSQL cannot be read.
  // The connection stored positions are read on, opened when needed (a
  // failure resets it, so the next read opens a new one).
  postgis::session& positions_db() {
    if (!db_ || !db_->is_open()) db_ = postgis::connect(w_.settings->postgres, "positions");
    return *db_;
  }

  bool read_positions(const std::vector<RdKafka::TopicPartition*>& partitions,
                      std::map<partition_key, std::int64_t>& out) {
    std::set<std::string> topics;
    for (auto* p : partitions) topics.insert(p->topic());
    try {
      pqxx::read_transaction tx(positions_db());
      // A first start on an empty database: until the writer creates the
      // table, no partition has a stored position (not a failure to read).
      if (!postgis::offsets_table_exists(tx, w_.settings->postgres.offsets_schema)) return true;
      for (const auto& t : topics) {
        for (const auto& [partition, next] :
             postgis::read_positions(tx, w_.settings->postgres.offsets_schema, w_.settings->kafka.group_id, t)) {
          out[{t, partition}] = next;
        }
      }
      return true;
    } catch (const std::exception& e) {
      db_.reset();
      log::warn("positions.unavailable", "cannot read stored positions from PostgreSQL; will retry",
                {{"error", e.what()}});
      return false;
    }
  }

  // Seek partitions back to their stored positions (a position conflict).
  void reposition(const partition_key& k) {
    if (ledger_.reposition(k)) apply_pause({k});
    resolve_waiting();
  }

  void rewind_all(const char* why) {
    log::warn("kafka.rewind", std::string("seeking every partition back to its stored position: ") + why);
    // The restarted actor's work is gone and never acknowledged.
    apply_pause(ledger_.rewind_all(true));
    resolve_waiting();
  }

  // Partitions waiting for their stored positions: read them, seek, resume.
  void resolve_waiting() {
    if (!consumer_) return;
    const auto waiting_keys = ledger_.awaiting();
    if (waiting_keys.empty()) return;
    partition_list waiting(waiting_keys);
    std::map<partition_key, std::int64_t> stored;
    if (!read_positions(waiting.items, stored)) {
      last_position_attempt_ = clock::now();
      return;
    }
    // Partitions without a stored position start as on_assign starts them.
    std::vector<partition_key> unstored;
    for (const auto& k : waiting_keys) {
      if (!stored.count(k)) unstored.push_back(k);
    }
    const auto fresh_starts = first_offsets(unstored);
    const auto ranges = record_ranges(keys_of(stored));
    std::vector<partition_key> resume;
    for (const auto& k : waiting_keys) {
      std::int64_t target;
      std::int64_t chain = kafka::kNoStoredPosition;
      const auto s = stored.find(k);
      const bool was_stored = s != stored.end();
      if (was_stored) {
        chain = s->second;
        target = start_offset(k, s->second, ranges);
      } else if (auto f = fresh_starts.find(k); f != fresh_starts.end()) {
        target = f->second;
      } else {  // the broker did not answer: librdkafka resolves the logical offset
        target = w_.settings->kafka.auto_offset_reset == config::offset_reset::latest
                     ? RdKafka::Topic::OFFSET_END
                     : RdKafka::Topic::OFFSET_BEGINNING;
      }
      if (!seek(k, target)) continue;  // stays waiting; retried on the next tick
      if (ledger_.position(k, chain, target)) resume.push_back(k);
      log::info("kafka.positioned",
                was_stored ? "partition positioned at its stored position"
                           : "partition without a stored position positioned where Kafka says (the group's "
                             "committed offset, else kafka.auto_offset_reset)",
                {{"partition", kafka::to_string(k)}, {"offset", std::to_string(target)}});
    }
    apply_resume(resume);
    publish_gauges();
  }

  bool seek(const partition_key& k, std::int64_t offset) {
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(k.first, k.second, offset));
    auto rc = consumer_->seek(*tp, kBrokerTimeoutMs);
    if (rc == RdKafka::ERR_NO_ERROR) return true;
    log::warn("kafka.seek_failed", RdKafka::err2str(rc), {{"partition", kafka::to_string(k)}});
    return false;
  }

  // ------------------------------------------------- positions out of range
  // A stored position the partition no longer holds: the topic was deleted
  // and re-created (the position is beyond the new end), or retention
  // deleted records nobody read (it is below the oldest record). Checked at
  // assignment against the partition's range, and on the way when the
  // records jump away from the next expected offset (librdkafka reset the
  // fetch by auto.offset.reset); kafka.position_out_of_range decides.
  struct range {
    std::int64_t low = 0;
    std::int64_t high = 0;
  };

  // The record ranges of the partitions, from the broker (two requests for
  // all of them); partitions the broker did not answer for are left out.
  std::map<partition_key, range> record_ranges(const std::vector<partition_key>& partitions) {
    std::map<partition_key, range> out;
    if (partitions.empty() || !consumer_) return out;
    partition_list lows, highs;
    for (const auto& k : partitions) {
      lows.add(k, RdKafka::Topic::OFFSET_BEGINNING);  // as a ListOffsets timestamp: the oldest record
      highs.add(k, RdKafka::Topic::OFFSET_END);       // the end
    }
    if (consumer_->offsetsForTimes(lows.items, kBrokerTimeoutMs) != RdKafka::ERR_NO_ERROR ||
        consumer_->offsetsForTimes(highs.items, kBrokerTimeoutMs) != RdKafka::ERR_NO_ERROR) {
      return out;  // checked on the way instead
    }
    for (std::size_t i = 0; i < lows.items.size(); ++i) {
      const auto* lo = lows.items[i];
      const auto* hi = highs.items[i];
      if (lo->err() != RdKafka::ERR_NO_ERROR || hi->err() != RdKafka::ERR_NO_ERROR || lo->offset() < 0 ||
          hi->offset() < 0) {
        continue;
      }
      out[{lo->topic(), lo->partition()}] = range{lo->offset(), hi->offset()};
    }
    return out;
  }

  // Where partitions Kafnus never committed start (at assignment, or once
  // PostgreSQL answers for partitions assigned while it was unreachable): the
  // group's committed offset in Kafka (a consumer group Kafnus takes over),
  // else the first or the next record by kafka.auto_offset_reset, as
  // offsets. librdkafka would resolve OFFSET_INVALID to the same, but a
  // partition it has just been assigned has no broker yet and its offset
  // query waits 100 ms for one: the first records of a fresh daemon waited
  // that long. Partitions the
  // broker did not answer for are left out (their start stays logical, for
  // librdkafka to resolve).
  std::map<partition_key, std::int64_t> first_offsets(const std::vector<partition_key>& partitions) {
    std::map<partition_key, std::int64_t> out;
    if (partitions.empty() || !consumer_) return out;
    partition_list committed(partitions);
    if (consumer_->committed(committed.items, kBrokerTimeoutMs) != RdKafka::ERR_NO_ERROR) return out;
    std::vector<partition_key> without;
    for (const auto* c : committed.items) {
      partition_key k{c->topic(), c->partition()};
      if (c->err() != RdKafka::ERR_NO_ERROR) continue;
      if (c->offset() >= 0) {
        out[k] = c->offset();
      } else {
        without.push_back(std::move(k));
      }
    }
    const bool latest = w_.settings->kafka.auto_offset_reset == config::offset_reset::latest;
    for (const auto& [k, r] : record_ranges(without)) out[k] = latest ? r.high : r.low;
    return out;
  }

  // Where a partition whose stored position is `stored` starts fetching.
  std::int64_t start_offset(const partition_key& k, std::int64_t stored, const std::map<partition_key, range>& ranges) {
    auto it = ranges.find(k);
    if (it == ranges.end()) return stored;
    return reset_target(k, stored, it->second).value_or(stored);
  }

  // kafka.position_out_of_range applied to a position of k: where to fetch;
  // nullopt when the policy is fail (the consumer then stops the daemon).
  std::optional<std::int64_t> reset_target(const partition_key& k, std::int64_t position, const range& r) {
    const auto reset = kafka::decide_position_reset(position, r.low, r.high, out_of_range_);
    if (reset && reset->in_range) return position;
    w_.m->position_resets(k.first).Increment();
    if (!reset) {
      fatal_ = "the position " + std::to_string(position) + " of " + kafka::to_string(k) +
               " lies outside the partition's records [" + std::to_string(r.low) + ", " + std::to_string(r.high) +
               ") and kafka.position_out_of_range is fail: set it to earliest or latest, or move the stored "
               "position in " +
               w_.settings->postgres.offsets_schema + ".offsets";
      return std::nullopt;
    }
    if (reset->lost > 0) w_.m->records_lost(k.first).Increment(static_cast<double>(reset->lost));
    log::warn("kafka.position_reset",
              reset->beyond_end ? "the position is beyond the partition's end (the topic was deleted and re-created?); "
                                  "resuming per kafka.position_out_of_range"
                                : "records were deleted (retention) before they were read; resuming per "
                                  "kafka.position_out_of_range",
              {{"partition", kafka::to_string(k)},
               {"position", std::to_string(position)},
               {"low_watermark", std::to_string(r.low)},
               {"high_watermark", std::to_string(r.high)},
               {"resume_at", std::to_string(reset->target)},
               {"records_lost", std::to_string(reset->lost)},
               {"records_skipped", std::to_string(reset->skipped)},
               {"policy", std::string(config::name_of(out_of_range_))}});
    return reset->target;
  }

  // A record at `got` where `expected` was next. Below it: a prefetch that
  // raced a seek (dropped), unless the partition no longer holds `expected`
  // (librdkafka reset the fetch). Above it: transaction markers or
  // compaction, unless retention deleted records before they were read.
  // True when the record may be taken.
  bool continue_after_jump(const partition_key& k, std::int64_t expected, std::int64_t got) {
    range r;
    if (consumer_->get_watermark_offsets(k.first, k.second, &r.low, &r.high) != RdKafka::ERR_NO_ERROR || r.low < 0 ||
        r.high < 0) {
      if (consumer_->query_watermark_offsets(k.first, k.second, &r.low, &r.high, kBrokerTimeoutMs) !=
          RdKafka::ERR_NO_ERROR) {
        return got > expected;  // cannot tell: keep the old rule (below is a duplicate)
      }
    }
    if (expected >= r.low && expected <= r.high) return got > expected;
    const auto target = reset_target(k, expected, r);
    if (!target) return false;
    if (*target == got) {
      ledger_.refetch(k, got);
      return true;
    }
    // librdkafka's reset went elsewhere than the policy: fetch from there.
    if (seek(k, *target)) ledger_.refetch(k, *target);
    return false;
  }

  // A subscribed topic that does not exist (yet): one line per topic.
  void missing_topic(const std::string& topic, const std::string& why) {
    if (topic.empty() || !missing_topics_.insert(topic).second) return;
    if (config::is_topic_pattern(topic)) {
      log::info("kafka.topic_missing", "no topic matches this pattern yet; matching topics are consumed once created",
                {{"pattern", topic}});
      return;
    }
    log::warn("kafka.topic_missing", "subscribed topic does not exist yet; it is consumed as soon as it is created",
              {{"topic", topic}, {"error", why}});
  }

  // -------------------------------------------------------------- acks
  void on_ack(const msg::write_ack& ack) {
    const partition_key key{ack.source.topic, ack.source.partition};
    const auto outcome =
        ledger_.ack(key, ack.source.epoch, ack.source.next_position, kafka::work{ack.source.messages, ack.source.bytes},
                    ack.status == msg::ack_status::committed);
    if (outcome == partition_ledger::ack_outcome::conflict) {
      w_.m->position_conflicts().Increment();
      const auto m = last_recorded_mover(key);
      log::warn("kafka.position_conflict",
                "another consumer or an operator moved this partition's stored position; seeking back to it",
                {{"partition", kafka::to_string(key)},
                 {"expected", std::to_string(ack.source.expected_position)},
                 {"last_recorded_move_by", m.moved_by},
                 {"last_recorded_move_at", m.moved_at}});
      reposition(key);
    }
    // Credits are back whatever the ack's epoch: a pause of the old
    // assignment must not outlive it.
    apply_resume(ledger_.resume_if_credited());
    if (waiting_for_credits_ && !ledger_.over_limit()) schedule_poll();  // supersedes the delayed poll
    publish_gauges();
    maybe_finish_drain();
  }

  // ----------------------------------------------------------- pause/resume
  // See kafka::idle_fetcher_needs_restart.
  void nudge_idle_fetchers() {
    const auto now = clock::now();
    if (now - last_nudge_ < kNudgeInterval) return;
    last_nudge_ = now;
    for (const auto& [k, p] : ledger_.partitions()) {
      if (p.paused || p.awaiting_position) continue;
      std::int64_t low = 0, high = 0;
      if (consumer_->get_watermark_offsets(k.first, k.second, &low, &high) != RdKafka::ERR_NO_ERROR) continue;
      if (!kafka::idle_fetcher_needs_restart(p.next_fetch, high)) continue;
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(k.first, k.second, p.next_fetch));
      consumer_->seek(*tp, 0);
    }
  }

  void apply_pause(const std::vector<partition_key>& keys) {
    if (keys.empty() || !consumer_) return;
    partition_list list(keys);
    consumer_->pause(list.items);
  }

  void apply_resume(const std::vector<partition_key>& keys) {
    if (keys.empty() || !consumer_) return;
    partition_list list(keys);
    consumer_->resume(list.items);
    log::debug("kafka.resumed", "partitions resumed", {{"partitions", names_of(keys)}});
  }

  // ----------------------------------------------------------------- drain
  void begin_drain() {
    if (!consumer_) {
      if (drained_.pending()) drained_.deliver(msg::drained_atom::value);
      return;
    }
    w_.m->health().draining = true;
    apply_pause(ledger_.drain());
    log::info("kafka.draining", "stopped fetching; waiting for in-flight batches to commit",
              {{"in_flight_messages", std::to_string(ledger_.in_flight().messages)}});
    maybe_finish_drain();
  }

  void maybe_finish_drain() {
    if (!ledger_.draining() || !consumer_ || closing_ || ledger_.in_flight().messages > 0) return;
    commit_to_kafka(true);
    close_consumer();
    log::info("kafka.closed", "every in-flight batch committed; closed the consumer");
    if (drained_.pending()) drained_.deliver(msg::drained_atom::value);
  }

  // Leaves (or, with static membership, keeps) the group. librdkafka 2.0
  // asserts when a consumer is closed in the middle of its first group join
  // (rdkafka_sticky_assignor.c: 'assignor_state'), so while no rebalance
  // callback has run yet, the join is given time to settle first, serving
  // its callbacks; bounded well inside shutdown.timeout_s.
  // librdkafka starts no join while none of the subscribed topics exists, so
  // then there is nothing to settle (a stop before Orion created its topics
  // is immediate).
  void close_consumer() {
    closing_ = true;
    const auto settle_until =
        clock::now() +
        std::min<clock::duration>(std::chrono::seconds(w_.settings->shutdown.timeout_s) / 3, std::chrono::seconds(10));
    const bool may_be_joining = !joined_ && any_subscribed_topic_may_exist();
    while (may_be_joining && !joined_ && clock::now() < settle_until && fatal_.empty()) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(50));
      (void)m;  // records taken now are not handed over: their positions were never committed
    }
    consumer_->close();  // serves the final revoke callback
    consumer_.reset();
    w_.m->health().consuming = false;
  }

  // False only when the broker's metadata says no existing topic is
  // subscribed (by name or pattern); true when it cannot tell.
  bool any_subscribed_topic_may_exist() {
    RdKafka::Metadata* raw = nullptr;
    if (consumer_->metadata(true, nullptr, &raw, kMetadataTimeoutMs) != RdKafka::ERR_NO_ERROR || raw == nullptr) {
      return true;
    }
    const std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const auto* t : *metadata->topics()) {
      if (t->err() == RdKafka::ERR_NO_ERROR && !router_.resolve(t->topic()).flows.empty()) return true;
    }
    return false;
  }

  // ------------------------------------------------------------ periodic
  void tick() {
    if (!consumer_) return;
    commit_to_kafka(false);
    if (ledger_.any_awaiting() && clock::now() - last_position_attempt_ >= kPositionRetry) resolve_waiting();
    if (clock::now() - last_move_check_ >= std::chrono::milliseconds(w_.settings->kafka.position_check_interval_ms)) {
      follow_moved_positions();
    }
  }

  // Stored positions moved by someone else (`kafnus positions set`, another
  // owner of the partition) while this instance had nothing in flight for
  // them: no compare-and-set would tell until the partition receives a
  // record, so they are read every kafka.position_check_interval_ms and
  // followed. One small query; a database that does not answer is the
  // writer's to report, so this only retries.
  void follow_moved_positions() {
    last_move_check_ = clock::now();
    // While the writer has no database, neither would this check: it waits
    // rather than block the poll loop in connection attempts.
    if (ledger_.settled().empty() || !w_.m->health().db_connected) return;
    struct move {
      partition_key k;
      std::int64_t to;
      postgis::position_move by;
    };
    std::vector<move> moves;
    try {
      pqxx::read_transaction tx(positions_db());
      std::map<partition_key, std::int64_t> stored;
      for (const auto& [k, p] :
           postgis::read_group_positions(tx, w_.settings->postgres.offsets_schema, w_.settings->kafka.group_id)) {
        stored[k] = p.next;
      }
      for (const auto& k : ledger_.moved(stored)) moves.push_back({k, stored.at(k), mover(tx, k, stored.at(k))});
    } catch (const std::exception& e) {
      db_.reset();
      log::debug("positions.check_failed", "cannot compare stored positions; will retry", {{"error", e.what()}});
      return;
    }
    for (const auto& m : moves) {
      log::warn("kafka.position_moved", "the stored position was moved outside this instance; consuming from there",
                {{"partition", kafka::to_string(m.k)},
                 {"from", std::to_string(ledger_.find(m.k)->chain)},
                 {"to", std::to_string(m.to)},
                 {"moved_by", m.by.moved_by},
                 {"moved_at", m.by.moved_at},
                 {"reason", m.by.reason}});
      if (ledger_.reposition(m.k)) apply_pause({m.k});
    }
    resolve_waiting();  // reads the stored positions again and seeks there
  }

  // The last move of k that `kafnus positions set` recorded (a conflict does
  // not say where the position went; the log shows when that move was).
  postgis::position_move last_recorded_mover(const partition_key& k) {
    try {
      pqxx::read_transaction tx(positions_db());
      return mover(tx, k, -1);
    } catch (const std::exception& e) {
      db_.reset();
      postgis::position_move unknown;
      unknown.moved_by = std::string("unknown: ") + e.what();
      return unknown;
    }
  }

  // Who moved k's position to `to`, as `kafnus positions set` recorded it
  // (the last recorded move of k when `to` is negative).
  postgis::position_move mover(pqxx::transaction_base& tx, const partition_key& k, std::int64_t to) {
    const auto& schema = w_.settings->postgres.offsets_schema;
    auto m = postgis::last_position_move(tx, schema, w_.settings->kafka.group_id, k.first, k.second, to);
    if (m) return *m;
    postgis::position_move unknown;
    unknown.moved_by = "unknown: no move recorded in " + schema +
                       ".position_moves (another consumer of the group, or the table edited by hand)";
    return unknown;
  }

  // Mirrors committed positions to Kafka so lag tools see them; the stored
  // positions in PostgreSQL stay the source of truth.
  void commit_to_kafka(bool sync) {
    auto commits = ledger_.take_commits();
    if (commits.empty() || !consumer_) return;
    partition_list list;
    for (const auto& [k, next] : commits) list.add(k, next);
    auto rc = sync ? consumer_->commitSync(list.items) : consumer_->commitAsync(list.items);
    if (rc != RdKafka::ERR_NO_ERROR && rc != RdKafka::ERR__NO_OFFSET) {
      log::debug("kafka.commit_failed", RdKafka::err2str(rc));
    }
  }

  void publish_gauges() {
    w_.m->paused_partitions().Set(ledger_.paused_count());
    w_.m->assigned_partitions().Set(static_cast<double>(ledger_.partitions().size()));
    w_.m->in_flight_messages().Set(static_cast<double>(ledger_.in_flight().messages));
    w_.m->in_flight_bytes().Set(static_cast<double>(ledger_.in_flight().bytes));
  }

  void set_kafka_up(bool up) {
    if (kafka_up_ != up) {
      if (up) {
        log::info("kafka.connected", "connected to the Kafka cluster");
      } else {
        log::error("kafka.disconnected", "every Kafka broker is down; retrying");
      }
    }
    kafka_up_ = up;
    w_.m->kafka_up().Set(up ? 1 : 0);
    w_.m->health().set_kafka_connected(up);
  }

  std::string fatal_message(RdKafka::Event& event) {
    std::string reason;
    const auto code = consumer_ ? consumer_->fatal_error(reason) : RdKafka::ERR_NO_ERROR;
    if (code == RdKafka::ERR_FENCED_INSTANCE_ID) {
      return "fatal Kafka error: another consumer joined the group with this instance's kafka.instance_id '" +
             w_.settings->kafka.instance_id + "'; give every instance its own kafka.instance_id (" + reason + ")";
    }
    return "fatal Kafka error: " + (reason.empty() ? event.str() : reason);
  }

  void log_kafka_error(RdKafka::Event& event) {
    // The same error repeats while a broker is away: log it once a minute.
    auto now = clock::now();
    auto& last = last_error_log_[event.err()];
    if (last != clock::time_point{} && now - last < std::chrono::minutes(1)) return;
    last = now;
    log::warn("kafka.error", event.str(), {{"code", RdKafka::err2str(event.err())}});
  }

  void log_consume_error(const rd_kafka_message_t& m) {
    const auto err = static_cast<RdKafka::ErrorCode>(m.err);
    auto now = clock::now();
    auto& last = last_error_log_[err];
    if (last != clock::time_point{} && now - last < std::chrono::minutes(1)) return;
    last = now;
    log::warn("kafka.consume_error", rd_kafka_message_errstr(&m),
              {{"code", RdKafka::err2str(err)}, {"topic", topic_of(m)}});
  }

  // Statistics: broker states for kafka_up, consumer_lag per partition.
  void on_stats(const std::string& json) {
    const auto stats = kafka::parse_consumer_stats(json);
    if (!stats) return;
    if (stats->broker_up) set_kafka_up(*stats->broker_up);
    for (const auto& l : stats->lags) {
      if (ledger_.find({l.topic, l.partition})) w_.m->lag(l.topic, l.partition).Set(static_cast<double>(l.lag));
    }
  }

  consumer_wiring w_;
  kafka::topic_router router_;
  partition_ledger ledger_;
  config::out_of_range out_of_range_;
  std::map<std::string, std::vector<ngsi::flow>> routes_;  // topic -> its flows, resolved once
  std::set<std::string> unrouted_logged_;
  std::set<std::string> missing_topics_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<postgis::session> db_;  // reads stored positions
  // Bytes handed to each processor and not processed yet (see poll()).
  kafka::processing_backlog backlog_{0, std::max<std::int64_t>(w_.settings->batching.in_flight_bytes / 16, 1 << 20)};
  std::uint64_t poll_generation_ = 0;
  bool waiting_for_credits_ = false;  // the pending poll is the delayed one of a stall
  clock::time_point last_nudge_{};
  bool joined_ = false;   // a rebalance callback has run: the first group join is over
  bool closing_ = false;  // close() runs the revoke callback: no re-entry
  bool kafka_up_ = false;
  std::vector<msg::processor_actor> processors_;            // the pool (wired by the supervisor)
  caf::typed_response_promise<msg::drained_atom> drained_;  // the supervisor's drain request
  std::optional<clock::time_point> paced_until_;  // no poll before (set when rows went to the writer from here)
  msg::writer_actor writer_;                      // wired too: for the batches transformed here (dispatch())
  batch_transform transform_{*w_.settings, w_.m};
  std::string fatal_;
  clock::time_point last_position_attempt_{};
  clock::time_point last_move_check_{};
  std::map<RdKafka::ErrorCode, clock::time_point> last_error_log_;
};

}  // namespace

msg::consumer_actor spawn_consumer(caf::local_actor* parent, consumer_wiring wiring) {
  if (!wiring.detached) return parent->spawn<consumer_impl>(std::move(wiring));
  return parent->spawn<consumer_impl, caf::detached>(std::move(wiring));
}

}  // namespace kafnus
