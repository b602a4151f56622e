#include "actors/consumer.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <librdkafka/rdkafkacpp.h>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <simdjson.h>

#include "actors/kafka_properties.hpp"
#include "actors/failure_log.hpp"
#include "actors/log.hpp"
#include "messages/atoms.hpp"
#include "messages/types.hpp"
#include "postgis/connection.hpp"
#include "postgis/offsets_store.hpp"

namespace kafnus {
namespace {

using tp_key = std::pair<std::string, std::int32_t>;
using clock = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(500);
constexpr auto kPositionRetry = std::chrono::seconds(2);
constexpr auto kStallPoll = std::chrono::milliseconds(50);  // housekeeping while no credit is left
constexpr auto kNudgeInterval = std::chrono::milliseconds(100);  // see nudge_idle_fetchers()
constexpr std::int64_t kNudgeMinBacklog = 16;
constexpr auto kLongStall = std::chrono::seconds(10);       // then partitions are paused (see poll())

std::string key_name(const tp_key& k) { return k.first + "/" + std::to_string(k.second); }

// Owns the TopicPartition pointers librdkafka's vector API wants.
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  partition_list() = default;
  partition_list(const partition_list&) = delete;
  partition_list& operator=(const partition_list&) = delete;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
  void add(const tp_key& k, std::int64_t offset = RdKafka::Topic::OFFSET_INVALID) {
    items.push_back(RdKafka::TopicPartition::create(k.first, k.second, offset));
  }
  bool empty() const { return items.empty(); }
};

class consumer_actor : public caf::event_based_actor, public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  consumer_actor(caf::actor_config& cfg, consumer_wiring w) : caf::event_based_actor(cfg), w_(std::move(w)) {
    const auto& f = w_.settings->flows;
    const std::pair<ngsi::flow, const config::flow_settings*> flows[] = {
        {ngsi::flow::historic, &f.historic}, {ngsi::flow::lastdata, &f.lastdata}, {ngsi::flow::mutable_, &f.mutable_}};
    for (const auto& [flow, fs] : flows) {
      for (const auto& t : fs->topics) topic_flow_[t] = flow;
    }
  }

  caf::behavior make_behavior() override {
    set_exception_handler(log_failure("consumer.failed", "consumer"));
    start();
    send(this, msg::poll_atom::value);
    delayed_send(this, kTick, msg::tick_atom::value);
    return {
        [this](msg::poll_atom) { poll(); },
        [this](msg::write_ack& ack) { on_ack(ack); },
        [this](msg::rewind_atom) { rewind_all("in-flight work was lost with a restarted actor"); },
        [this](msg::processor_atom, int index, caf::actor p) {
          w_.processors.at(static_cast<std::size_t>(index)) = std::move(p);
        },
        [this](msg::drain_atom) {
          drain_requester_ = caf::actor_cast<caf::actor>(current_sender());
          begin_drain();
        },
        [this](msg::tick_atom) {
          tick();
          if (consumer_) delayed_send(this, kTick, msg::tick_atom::value);
        },
    };
  }

  void on_exit() override {
    if (consumer_) {
      closing_ = true;
      consumer_->close();
      consumer_.reset();
    }
    w_.m->health().consuming = false;
    w_.m->in_flight_messages().Set(0);
    w_.m->in_flight_bytes().Set(0);
    w_.m->assigned_partitions().Set(0);
    w_.m->paused_partitions().Set(0);
  }

  // ------------------------------------------------------ librdkafka callbacks
  // Called from within consume(), on this actor's thread.
  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      on_assign(c, partitions, cooperative);
    } else {
      if (err != RdKafka::ERR__REVOKE_PARTITIONS) {
        log::warn("kafka.rebalance_error", RdKafka::err2str(err));
      }
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
  }

  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (event.fatal()) fatal_ = "fatal Kafka error: " + event.str();
        if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) set_kafka_up(false);
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
  struct partition_state {
    std::uint64_t epoch = 0;
    std::int64_t chain = msg::kNoPosition;  // expected stored position of the next batch
    std::int64_t next_fetch = 0;           // records below this offset are duplicates
    bool awaiting_position = false;        // paused until its stored position is known
    bool paused = false;
    std::int64_t in_flight_messages = 0;
    std::int64_t in_flight_bytes = 0;
  };

  // --------------------------------------------------------------- start/poll
  void start() {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    for (const auto& [k, v] : consumer_properties(w_.settings->kafka)) {
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
    std::vector<std::string> topics;
    for (const auto& [t, f] : topic_flow_) topics.push_back(t);
    auto rc = consumer_->subscribe(topics);
    if (rc != RdKafka::ERR_NO_ERROR) throw std::runtime_error("cannot subscribe: " + RdKafka::err2str(rc));
    w_.m->health().consuming = true;
    std::string list;
    for (const auto& t : topics) list += (list.empty() ? "" : ",") + t;
    log::info("kafka.subscribed", "consuming", {{"brokers", w_.settings->kafka.brokers},
                                               {"group", w_.settings->kafka.group_id},
                                               {"topics", list}});
  }

  bool over_limit() const {
    const auto& b = w_.settings->batching;
    return in_flight_messages_ >= b.in_flight_messages || in_flight_bytes_ >= b.in_flight_bytes;
  }
  bool below_resume_mark() const {
    const auto& b = w_.settings->batching;
    return in_flight_messages_ <= b.in_flight_messages / 2 && in_flight_bytes_ <= b.in_flight_bytes / 2;
  }

  void poll() {
    if (!consumer_) return;
    if (!fatal_.empty()) throw std::runtime_error(fatal_);
    if (!draining_ && !credit_paused_ && over_limit()) {
      // Back-pressure without pause(): no record is taken, so librdkafka's
      // bounded prefetch queue fills and it stops fetching by itself.
      // (pause() purges that queue and resume() then stalls ~1 s before the
      // next fetch: pausing at every full pipeline cut throughput to a third.)
      // Not calling consume() also serves no rebalance, so a stall that
      // lasts (database down) falls back to pausing the partitions and
      // polling on, which keeps the group membership.
      const auto now = clock::now();
      if (!stalled_) {
        stalled_ = true;
        stalled_since_ = now;
      }
      if (now - stalled_since_ < kLongStall) {
        delayed_send(this, kStallPoll, msg::poll_atom::value);
        return;
      }
      pause_for_credits();
    }
    stalled_ = false;
    const int max_records = w_.settings->batching.max_rows;
    // While paused or draining there is nothing to fetch, but polling keeps
    // the group membership and rebalances served.
    const int timeout = (credit_paused_ || draining_) ? 20 : w_.settings->kafka.poll_timeout_ms;
    // A batch closes when it is full or batching.max_delay_ms after its
    // first record: under a steady trickle of records it must not wait to fill.
    const auto max_delay = std::chrono::milliseconds(w_.settings->batching.max_delay_ms);
    std::map<tp_key, msg::raw_batch> batches;
    int n = 0;
    clock::time_point first{};
    for (;;) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(n == 0 ? timeout : 0));
      const auto err = m->err();
      if (err == RdKafka::ERR__TIMED_OUT) break;
      if (err == RdKafka::ERR_NO_ERROR) {
        if (accept(*m, batches) && n++ == 0) first = clock::now();
        if (n >= max_records || over_limit_with(batches)) break;
        if (n > 0 && (n & 63) == 0 && clock::now() - first >= max_delay) break;
        continue;
      }
      if (err == RdKafka::ERR__PARTITION_EOF) continue;
      log::warn("kafka.consume_error", m->errstr(), {{"code", RdKafka::err2str(err)}});
      break;
    }
    if (!fatal_.empty()) throw std::runtime_error(fatal_);
    if (n > 0) set_kafka_up(true);
    if (n == 0 && !credit_paused_ && !draining_) nudge_idle_fetchers();
    dispatch(batches);
    send(this, msg::poll_atom::value);
  }

  // The processor of a partition: fixed, so batches of a partition are
  // processed, and reach the writer, in order.
  std::size_t processor_of(const tp_key& key) const {
    return (std::hash<std::string>{}(key.first) * 31 + static_cast<std::size_t>(key.second)) % w_.processors.size();
  }

  bool over_limit_with(const std::map<tp_key, msg::raw_batch>& pending) const {
    std::int64_t msgs = in_flight_messages_, bytes = in_flight_bytes_;
    for (const auto& [k, b] : pending) {
      msgs += b.source.messages;
      bytes += b.source.bytes;
    }
    const auto& lim = w_.settings->batching;
    return msgs >= lim.in_flight_messages || bytes >= lim.in_flight_bytes;
  }

  // Adds a record to its partition's batch; false when it must be ignored.
  bool accept(RdKafka::Message& m, std::map<tp_key, msg::raw_batch>& batches) {
    if (draining_) return false;
    tp_key key{m.topic_name(), m.partition()};
    auto it = parts_.find(key);
    if (it == parts_.end() || it->second.awaiting_position) return false;
    auto& st = it->second;
    if (m.offset() < st.next_fetch) return false;  // already handed over (a seek raced a prefetch)
    st.next_fetch = m.offset() + 1;
    auto& b = batches[key];
    if (b.records.empty()) {
      b.source.topic = key.first;
      b.source.partition = key.second;
      b.source.epoch = st.epoch;
      b.source.expected_position = st.chain;
      b.source.first_offset = m.offset();
      b.source.oldest_timestamp_ms = m.timestamp().timestamp;
      b.ack_to = caf::actor_cast<caf::actor>(this);
    }
    msg::raw_record r;
    r.offset = m.offset();
    r.timestamp_ms = m.timestamp().timestamp;
    if (m.payload()) r.value.assign(static_cast<const char*>(m.payload()), m.len());
    if (const RdKafka::Headers* h = m.headers()) {
      for (const auto& header : h->get_all()) {
        r.headers.emplace_back(header.key(), header.value() ? std::string(static_cast<const char*>(header.value()),
                                                                           header.value_size())
                                                            : std::string());
      }
    }
    b.source.next_position = m.offset() + 1;
    b.source.messages += 1;
    b.source.bytes += static_cast<std::int64_t>(m.len());
    if (r.timestamp_ms > 0 && (b.source.oldest_timestamp_ms <= 0 || r.timestamp_ms < b.source.oldest_timestamp_ms)) {
      b.source.oldest_timestamp_ms = r.timestamp_ms;
    }
    b.records.push_back(std::move(r));
    return true;
  }

  void dispatch(std::map<tp_key, msg::raw_batch>& batches) {
    for (auto& [key, b] : batches) {
      auto& st = parts_.at(key);
      const auto flow_it = topic_flow_.find(key.first);
      if (flow_it == topic_flow_.end()) continue;
      b.flow = flow_it->second;
      const auto& processor = w_.processors.at(processor_of(key));
      st.chain = b.source.next_position;
      st.in_flight_messages += b.source.messages;
      st.in_flight_bytes += b.source.bytes;
      in_flight_messages_ += b.source.messages;
      in_flight_bytes_ += b.source.bytes;
      w_.m->consumed(key.first).Increment(static_cast<double>(b.source.messages));
      send(processor, std::move(b));
    }
    publish_gauges();
  }

  // ------------------------------------------------------------- assignment
  void on_assign(RdKafka::KafkaConsumer* c, std::vector<RdKafka::TopicPartition*>& partitions, bool cooperative) {
    std::map<tp_key, std::int64_t> stored;
    const bool known = read_positions(partitions, stored);
    std::vector<RdKafka::TopicPartition*> waiting;
    std::string names;
    for (auto* p : partitions) {
      tp_key key{p->topic(), p->partition()};
      auto& st = parts_[key];
      st = partition_state{};
      st.epoch = ++next_epoch_;
      if (!known) {
        st.awaiting_position = true;
        waiting.push_back(p);
      } else if (auto s = stored.find(key); s != stored.end()) {
        p->set_offset(s->second);
        st.chain = s->second;
        st.next_fetch = s->second;
      } else {
        p->set_offset(RdKafka::Topic::OFFSET_INVALID);  // Kafka's committed offset, else auto_offset_reset
      }
      names += (names.empty() ? "" : ",") + key_name(key);
    }
    if (cooperative) {
      if (auto* e = c->incremental_assign(partitions)) {
        log::error("kafka.assign_failed", e->str());
        delete e;
      }
    } else {
      c->assign(partitions);
    }
    if (!waiting.empty()) {
      c->pause(waiting);
      for (auto* p : waiting) parts_[{p->topic(), p->partition()}].paused = true;
    }
    log::info("kafka.assigned", known ? "partitions assigned, starting at their stored positions"
                                      : "partitions assigned; PostgreSQL unreachable, they wait for their stored positions",
              {{"partitions", names}, {"protocol", cooperative ? "cooperative" : "eager"}});
    if (credit_paused_ || draining_) pause_all();
    publish_gauges();
  }

  void on_revoke(std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
    std::string names;
    for (auto* p : partitions) {
      tp_key key{p->topic(), p->partition()};
      auto it = parts_.find(key);
      if (it == parts_.end()) continue;
      forget_in_flight(it->second);
      parts_.erase(it);
      pending_commits_.erase(key);
      w_.m->forget_lag(key.first, key.second);
      names += (names.empty() ? "" : ",") + key_name(key);
    }
    log::info("kafka.revoked", lost ? "partitions lost" : "partitions revoked", {{"partitions", names}});
    maybe_finish_drain();
    publish_gauges();
  }

  // Stored positions of the partitions' topics; false when PostgreSQL cannot be read.
  bool read_positions(const std::vector<RdKafka::TopicPartition*>& partitions, std::map<tp_key, std::int64_t>& out) {
    std::set<std::string> topics;
    for (auto* p : partitions) topics.insert(p->topic());
    try {
      if (!db_ || !db_->is_open()) db_ = postgis::connect(w_.settings->postgres, "positions");
      pqxx::read_transaction tx(*db_);
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

  // Abandons a partition's in-flight work: its acks will carry an old epoch.
  void forget_in_flight(partition_state& st) {
    in_flight_messages_ -= st.in_flight_messages;
    in_flight_bytes_ -= st.in_flight_bytes;
    st.in_flight_messages = 0;
    st.in_flight_bytes = 0;
  }

  // Seek partitions back to their stored positions (after a lost in-flight
  // batch or a position conflict).
  void reposition(const std::vector<tp_key>& keys) {
    partition_list pause;
    for (const auto& k : keys) {
      auto it = parts_.find(k);
      if (it == parts_.end()) continue;
      auto& st = it->second;
      forget_in_flight(st);
      st.epoch = ++next_epoch_;
      st.awaiting_position = true;
      if (!st.paused) {
        st.paused = true;
        pause.add(k);
      }
    }
    if (!pause.empty()) consumer_->pause(pause.items);
    resolve_waiting();
  }

  void rewind_all(const char* why) {
    std::vector<tp_key> keys;
    for (const auto& [k, st] : parts_) keys.push_back(k);
    log::warn("kafka.rewind", std::string("seeking every partition back to its stored position: ") + why);
    reposition(keys);
  }

  // Partitions waiting for their stored positions: read them, seek, resume.
  void resolve_waiting() {
    if (!consumer_) return;
    partition_list waiting;
    for (const auto& [k, st] : parts_) {
      if (st.awaiting_position) waiting.add(k);
    }
    if (waiting.empty()) return;
    std::map<tp_key, std::int64_t> stored;
    if (!read_positions(waiting.items, stored)) {
      last_position_attempt_ = clock::now();
      return;
    }
    // Partitions without a stored position restart where Kafka says.
    partition_list committed;
    for (auto* p : waiting.items) {
      tp_key k{p->topic(), p->partition()};
      if (!stored.count(k)) committed.add(k);
    }
    if (!committed.empty()) consumer_->committed(committed.items, 10000);
    partition_list resume;
    for (auto* p : waiting.items) {
      tp_key k{p->topic(), p->partition()};
      auto& st = parts_.at(k);
      std::int64_t target;
      if (auto s = stored.find(k); s != stored.end()) {
        target = s->second;
        st.chain = s->second;
      } else {
        target = w_.settings->kafka.auto_offset_reset == "latest" ? RdKafka::Topic::OFFSET_END
                                                                  : RdKafka::Topic::OFFSET_BEGINNING;
        for (auto* c : committed.items) {
          if (c->topic() == k.first && c->partition() == k.second && c->offset() >= 0) target = c->offset();
        }
        st.chain = msg::kNoPosition;
      }
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(k.first, k.second, target));
      auto rc = consumer_->seek(*tp, 10000);
      if (rc != RdKafka::ERR_NO_ERROR) {
        log::warn("kafka.seek_failed", RdKafka::err2str(rc), {{"partition", key_name(k)}});
        continue;  // stays waiting; retried on the next tick
      }
      st.next_fetch = target >= 0 ? target : 0;
      st.awaiting_position = false;
      if (!credit_paused_ && !draining_) {
        st.paused = false;
        resume.add(k);
      }
      log::info("kafka.positioned", "partition positioned at its stored position",
                {{"partition", key_name(k)}, {"offset", std::to_string(target)}});
    }
    if (!resume.empty()) consumer_->resume(resume.items);
    publish_gauges();
  }

  // -------------------------------------------------------------- acks
  void on_ack(const msg::write_ack& ack) {
    tp_key key{ack.source.topic, ack.source.partition};
    auto it = parts_.find(key);
    if (it == parts_.end() || it->second.epoch != ack.source.epoch) return;  // revoked or abandoned work
    auto& st = it->second;
    st.in_flight_messages -= ack.source.messages;
    st.in_flight_bytes -= ack.source.bytes;
    in_flight_messages_ -= ack.source.messages;
    in_flight_bytes_ -= ack.source.bytes;
    if (ack.status == msg::ack_status::committed) {
      auto& c = pending_commits_[key];
      c = std::max(c, ack.source.next_position);
    } else {
      w_.m->position_conflicts().Increment();
      log::warn("kafka.position_conflict",
                "another consumer moved this partition's stored position; seeking back to it",
                {{"partition", key_name(key)}, {"expected", std::to_string(ack.source.expected_position)}});
      reposition({key});
    }
    if (credit_paused_ && below_resume_mark()) resume_after_credits();
    if (stalled_ && !over_limit()) {
      stalled_ = false;  // the pending delayed poll finds nothing to wait for
      send(this, msg::poll_atom::value);
    }
    publish_gauges();
    maybe_finish_drain();
  }

  // ----------------------------------------------------------- pause/resume
  // librdkafka 2.0 re-checks a full prefetch queue only once a second (fixed
  // in 2.1): after back-pressure stopped consumption, a partition with
  // records waiting could stay idle for a second — a third of the catch-up
  // throughput. When a poll returns nothing although the broker has records
  // beyond a partition's position (watermarks from the last fetch, no
  // request), a seek to that position restarts its fetcher at once; the few
  // prefetched records it drops are fetched again.
  void nudge_idle_fetchers() {
    const auto now = clock::now();
    if (now - last_nudge_ < kNudgeInterval) return;
    last_nudge_ = now;
    for (const auto& [k, st] : parts_) {
      if (st.paused || st.awaiting_position || st.next_fetch <= 0) continue;
      std::int64_t low = 0, high = 0;
      if (consumer_->get_watermark_offsets(k.first, k.second, &low, &high) != RdKafka::ERR_NO_ERROR) continue;
      // A few offsets short of the watermark is no backlog: transaction
      // markers end a partition that way, and must not cause a seek every
      // 100 ms forever.
      if (high - st.next_fetch <= kNudgeMinBacklog) continue;
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(k.first, k.second, st.next_fetch));
      consumer_->seek(*tp, 0);
    }
  }

  void pause_all() {
    partition_list list;
    for (auto& [k, st] : parts_) {
      if (!st.paused) {
        st.paused = true;
        list.add(k);
      }
    }
    if (!list.empty()) consumer_->pause(list.items);
  }

  void pause_for_credits() {
    credit_paused_ = true;
    pause_all();
    log::debug("kafka.paused", "too much work in flight; partitions paused",
               {{"in_flight_messages", std::to_string(in_flight_messages_)},
                {"in_flight_bytes", std::to_string(in_flight_bytes_)}});
    publish_gauges();
  }

  void resume_after_credits() {
    credit_paused_ = false;
    if (draining_) return;
    partition_list list;
    for (auto& [k, st] : parts_) {
      if (st.paused && !st.awaiting_position) {
        st.paused = false;
        list.add(k);
      }
    }
    if (!list.empty()) consumer_->resume(list.items);
    log::debug("kafka.resumed", "in-flight work drained; partitions resumed");
  }

  // ----------------------------------------------------------------- drain
  void begin_drain() {
    if (!consumer_) {
      if (drain_requester_) send(drain_requester_, msg::drained_atom::value);
      return;
    }
    draining_ = true;
    w_.m->health().draining = true;
    pause_all();
    log::info("kafka.draining", "stopped fetching; waiting for in-flight batches to commit",
              {{"in_flight_messages", std::to_string(in_flight_messages_)}});
    maybe_finish_drain();
  }

  void maybe_finish_drain() {
    if (!draining_ || !consumer_ || closing_ || in_flight_messages_ > 0) return;
    closing_ = true;
    commit_to_kafka(true);
    consumer_->close();  // leaves the group
    consumer_.reset();
    w_.m->health().consuming = false;
    log::info("kafka.closed", "every in-flight batch committed; left the consumer group");
    if (drain_requester_) send(drain_requester_, msg::drained_atom::value);
  }

  // ------------------------------------------------------------ periodic
  void tick() {
    if (!consumer_) return;
    commit_to_kafka(false);
    bool waiting = false;
    for (const auto& [k, st] : parts_) waiting = waiting || st.awaiting_position;
    if (waiting && clock::now() - last_position_attempt_ >= kPositionRetry) resolve_waiting();
  }

  // Mirrors committed positions to Kafka so lag tools see them; the stored
  // positions in PostgreSQL stay the source of truth.
  void commit_to_kafka(bool sync) {
    if (pending_commits_.empty() || !consumer_) return;
    partition_list list;
    for (const auto& [k, next] : pending_commits_) list.add(k, next);
    pending_commits_.clear();
    auto rc = sync ? consumer_->commitSync(list.items) : consumer_->commitAsync(list.items);
    if (rc != RdKafka::ERR_NO_ERROR && rc != RdKafka::ERR__NO_OFFSET) {
      log::debug("kafka.commit_failed", RdKafka::err2str(rc));
    }
  }

  void publish_gauges() {
    int paused = 0;
    for (const auto& [k, st] : parts_) paused += st.paused ? 1 : 0;
    w_.m->paused_partitions().Set(paused);
    w_.m->assigned_partitions().Set(static_cast<double>(parts_.size()));
    w_.m->in_flight_messages().Set(static_cast<double>(in_flight_messages_));
    w_.m->in_flight_bytes().Set(static_cast<double>(in_flight_bytes_));
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
    w_.m->health().kafka_connected = up;
  }

  void log_kafka_error(RdKafka::Event& event) {
    // The same error repeats while a broker is away: log it once a minute.
    auto now = clock::now();
    auto& last = last_error_log_[event.err()];
    if (now - last < std::chrono::minutes(1)) return;
    last = now;
    log::warn("kafka.error", event.str(), {{"code", RdKafka::err2str(event.err())}});
  }

  // Statistics: broker states for kafka_up, consumer_lag per partition.
  void on_stats(const std::string& json) {
    simdjson::dom::element doc;
    if (stats_parser_.parse(json).get(doc)) return;
    simdjson::dom::object brokers;
    if (!doc["brokers"].get(brokers)) {
      bool up = false;
      for (auto b : brokers) {
        int64_t nodeid = -1;
        std::string_view state;
        if (!b.value["nodeid"].get(nodeid) && nodeid >= 0 && !b.value["state"].get(state) && state == "UP") up = true;
      }
      set_kafka_up(up);
    }
    simdjson::dom::object topics;
    if (doc["topics"].get(topics)) return;
    for (auto t : topics) {
      simdjson::dom::object partitions;
      if (t.value["partitions"].get(partitions)) continue;
      for (auto p : partitions) {
        int64_t lag = -1;
        const std::string pid(p.key);
        if (pid == "-1" || p.value["consumer_lag"].get(lag) || lag < 0) continue;
        tp_key key{std::string(t.key), static_cast<std::int32_t>(std::stol(pid))};
        if (parts_.count(key)) w_.m->lag(key.first, key.second).Set(static_cast<double>(lag));
      }
    }
  }

  consumer_wiring w_;
  std::map<std::string, ngsi::flow> topic_flow_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<pqxx::connection> db_;  // reads stored positions
  std::map<tp_key, partition_state> parts_;
  std::map<tp_key, std::int64_t> pending_commits_;
  std::int64_t in_flight_messages_ = 0;
  std::int64_t in_flight_bytes_ = 0;
  std::uint64_t next_epoch_ = 0;
  bool credit_paused_ = false;
  bool stalled_ = false;  // out of credits, not consuming (not paused yet)
  clock::time_point last_nudge_{};
  clock::time_point stalled_since_{};
  bool draining_ = false;
  bool closing_ = false;  // close() runs the revoke callback: no re-entry
  bool kafka_up_ = false;
  caf::actor drain_requester_;
  std::string fatal_;
  clock::time_point last_position_attempt_{};
  std::map<RdKafka::ErrorCode, clock::time_point> last_error_log_;
  simdjson::dom::parser stats_parser_;
};

}  // namespace

caf::actor spawn_consumer(caf::local_actor* parent, consumer_wiring wiring) {
  return parent->spawn<consumer_actor, caf::detached>(std::move(wiring));
}

}  // namespace kafnus
