// The writer and consumer actors on CAF's deterministic test coordinator, with
// the real PostgreSQL and Kafka: the writer's group commit and flush timer,
// and the consumer's poll / stall / ack cycle. Messages run one at a time
// and timers fire only when the test says so.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <pqxx/pqxx>

#include "actors/consumer.hpp"
#include "actors/writer.hpp"
#include "config/loader.hpp"
#include "postgis/offsets_store.hpp"
#include "telemetry/log.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/notifications.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
namespace msg = kafnus::msg;
using namespace kafnus;
using namespace std::chrono_literals;

namespace {

// Settings for the real services: the consumer group `group`, positions in
// `offsets`, then `extra` (more top-level sections).
std::shared_ptr<const config::settings> test_settings(const std::string& group, const std::string& offsets,
                                                      const std::string& extra) {
  const auto yaml = "kafka:\n  brokers: \"" + kt::brokers() + "\"\n  group_id: " + group +
                    "\n  properties:\n    session.timeout.ms: \"6000\"\npostgres:\n  host: \"" + kt::pg_host() +
                    "\"\n  port: " + std::to_string(kt::pg_port()) + "\n  database: \"" + kt::pg_database() +
                    "\"\n  user: \"" + kt::pg_user() + "\"\n  offsets_schema: " + offsets + "\n" + extra;
  return std::make_shared<const config::settings>(config::load_string(yaml, {}, "test.yaml"));
}

// The flows section of a consumer of `topic` alone, as historic.
std::string historic_only(const std::string& topic) {
  return "flows:\n  historic:\n    topics: [" + topic + "]\n  lastdata:\n    topics: []\n  mutable:\n    topics: []\n";
}

// Records in a list of raw or row batches.
template <class Batches>
std::int64_t records_in(const Batches& batches) {
  std::int64_t n = 0;
  for (const auto& b : batches) n += b.source.messages;
  return n;
}

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

// An actor system on the test coordinator, and settings for the real services.
class ActorTest : public ::testing::Test {
 protected:
  ActorTest() : sys(testing(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    log::init("error", "text");
  }
  ~ActorTest() override {
    stop_actors();
    sys.await_actors_before_shutdown(false);
  }

  // Kills the kept actors and runs their exits (a consumer closes its
  // librdkafka handle in it).
  void stop_actors() {
    for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
    actors.clear();
  }

  std::shared_ptr<const config::settings> settings(const std::string& extra) {
    return test_settings(group, offsets, extra);
  }

  template <class Handle>
  Handle keep(Handle h) {
    actors.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<metrics> m = std::make_shared<metrics>();
  std::string service = kt::unique_name("act");
  std::string group = kt::unique_name("group");
  std::string offsets = kt::unique_name("kafnus");
  std::vector<caf::actor> actors;
  kt::pg_client pg;
};

// Receives what the writer acknowledges.
msg::ack_receiver::behavior_type ack_collector(msg::ack_receiver::pointer,
                                               const std::shared_ptr<std::vector<msg::write_ack>>& acks) {
  return {[acks](msg::write_ack& a) { acks->push_back(a); }};
}

// Receives what the consumer hands over.
msg::processor_actor::behavior_type batch_collector(msg::processor_actor::pointer,
                                                    const std::shared_ptr<std::vector<msg::raw_batch>>& batches) {
  return {
      [batches](msg::raw_batch& b) { batches->push_back(std::move(b)); },
      [](msg::wire_atom, msg::writer_actor&) {},
  };
}

class WriterActorTest : public ActorTest {
 protected:
  WriterActorTest() {
    pg.exec("CREATE SCHEMA " + service);
    pg.exec("CREATE TABLE " + service +
            ".t (entityid text, entitytype text, fiwareservicepath text, recvtime timestamptz, "
            "timeinstant timestamptz, temperature double precision)");
  }
  ~WriterActorTest() override {
    try {
      pg.exec("DROP SCHEMA IF EXISTS " + service + " CASCADE; DROP SCHEMA IF EXISTS " + offsets + " CASCADE");
    } catch (const std::exception&) {
    }
  }

  // Timers armed on the test coordinator's clock.
  std::size_t pending_timers() { return sched.clock().schedule().size(); }

  // The rows of a poll the consumer made itself.
  static msg::polled_rows polled(std::vector<msg::row_batch> batches, bool paced) {
    msg::polled_rows p;
    p.batches = std::move(batches);
    p.paced = paced;
    return p;
  }

  // A batch of one row for partition `p`, records [from, from + 1).
  msg::row_batch batch(int p, std::int64_t from) {
    msg::row_batch b;
    b.source = msg::source_range{"t", p, 1, from == 0 ? msg::kNoPosition : from, from + 1, 1, 10, 0};
    ngsi::row r;
    r.f = ngsi::flow::historic;
    r.op = ngsi::operation::insert;
    r.set_table({service, "t"});
    r.set_service(service);
    r.columns = {{"entityid", ngsi::value::text_value("E" + std::to_string(p))},
                 {"timeinstant", ngsi::value::timestamp((1'700'000'000 + from) * 1'000'000)},
                 {"temperature", ngsi::value::number("21.5")}};
    b.bytes = static_cast<std::int64_t>(r.byte_size());
    b.rows.push_back(std::move(r));
    return b;
  }

  msg::writer_actor start(const std::string& batching) {
    auto w = keep(spawn_writer_under_test(settings(batching)));
    auto collector = keep(sys.spawn(ack_collector, acks));
    caf::anon_send(w, msg::wire_atom::value, collector);
    sched.run();
    return w;
  }

  msg::writer_actor spawn_writer_under_test(std::shared_ptr<const config::settings> s) {
    caf::scoped_actor self{sys, true};
    return spawn_writer(self.ptr(), writer_wiring{std::move(s), m, false});
  }

  long long rows() { return pg.count(service + ".t"); }

  std::shared_ptr<std::vector<msg::write_ack>> acks = std::make_shared<std::vector<msg::write_ack>>();
};

// A consumer of one topic of one partition, on the test coordinator, handing
// its batches to a collector that keeps them.
class ConsumerActorTest : public ActorTest {
 protected:
  ~ConsumerActorTest() override {
    // Closed before its topic is deleted: librdkafka 2.0 can hang for ever
    // destroying a consumer whose paused-then-resumed partition's topic was
    // deleted under it (confluentinc/librdkafka#4362). The daemon bounds that
    // by shutdown.timeout_s (daemon.stop_forced); a test process cannot.
    stop_actors();
    try {
      kt::delete_topics(kt::brokers(), {topic});
      pg.exec("DROP SCHEMA IF EXISTS " + offsets + " CASCADE");
    } catch (const std::exception&) {
    }
  }

  // `records` copies of `value` in the topic, then the consumer, with
  // `batching` (lines under `batching:`).
  msg::consumer_actor start(int records, const std::string& value, const std::string& batching) {
    kt::create_topics(kt::brokers(), {topic}, 1);
    {
      kt::kafka_producer p(kt::brokers());
      for (int i = 0; i < records; ++i) p.send(topic, value, {}, "", 0);
      p.flush();
    }
    {
      pqxx::connection c(kt::pg_connection_string());
      postgis::ensure_kafnus_tables(c, offsets);
    }
    auto s = settings(historic_only(topic) + "batching:\n" + batching);
    auto collector = keep(sys.spawn(batch_collector, batches));
    msg::consumer_actor consumer;
    {
      caf::scoped_actor self{sys, true};
      consumer = keep(spawn_consumer(self.ptr(), consumer_wiring{s, m, false}));
    }
    // No writer: every batch goes to the collector, however few its records
    // (the test coordinator runs one actor at a time, and a consumer that
    // never stalls would keep it: these tests end each phase in a stall).
    caf::anon_send(consumer, msg::wire_atom::value, std::vector<msg::processor_actor>{collector}, msg::writer_actor{});
    return consumer;
  }

  // Records in the batches the collector holds.
  std::int64_t handed() const { return records_in(*batches); }

  // Runs the actors and their timers until `until` records were handed over.
  void drive(std::int64_t until, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (handed() < until && std::chrono::steady_clock::now() < deadline) {
      if (!sched.try_run_once()) sched.trigger_timeouts();
    }
  }

  // Runs them for 200 steps more, whatever is handed over.
  void run_a_while() {
    for (int i = 0; i < 200; ++i) {
      if (!sched.try_run_once()) sched.trigger_timeouts();
    }
  }

  std::string topic = service + "_historic";
  std::shared_ptr<std::vector<msg::raw_batch>> batches = std::make_shared<std::vector<msg::raw_batch>>();
};

}  // namespace

TEST_F(WriterActorTest, BatchesWaitingInTheMailboxGoTogetherInOneTransaction) {
  auto w = start("batching:\n  min_interval_ms: 0\n");
  caf::anon_send(w, batch(0, 0));
  caf::anon_send(w, batch(1, 0));
  caf::anon_send(w, batch(2, 0));
  sched.run();
  ASSERT_EQ(acks->size(), 3u);
  for (const auto& a : *acks) EXPECT_EQ(a.status, msg::ack_status::committed);
  EXPECT_EQ(rows(), 3);
  EXPECT_EQ(m->db_transactions().Value(), 1) << "group commit: the first two waited for the third";
}

TEST_F(WriterActorTest, ABatchWithinMinIntervalOfTheLastTransactionWaitsForTheTimer) {
  auto w = start("batching:\n  min_interval_ms: 60000\n  max_delay_ms: 20\n");
  caf::anon_send(w, batch(0, 0));
  sched.run();
  ASSERT_EQ(acks->size(), 1u) << "a lone batch is written at once";
  caf::anon_send(w, batch(0, 1));
  sched.run();
  EXPECT_EQ(acks->size(), 1u) << "the next one waits: transactions that are not full start min_interval_ms apart";
  EXPECT_EQ(rows(), 1);
  EXPECT_TRUE(sched.has_pending_timeout());
  sched.trigger_timeouts();
  sched.run();
  ASSERT_EQ(acks->size(), 2u);
  EXPECT_EQ((*acks)[1].status, msg::ack_status::committed);
  EXPECT_EQ(rows(), 2);
  EXPECT_EQ(m->db_transactions().Value(), 2);
}

// Issue 15: at a low rate the consumer spaces its hand-overs itself (it
// polls no sooner than min_interval_ms after one), so the writer starts a
// transaction with them at once, without a timer of its own — whether the
// last transaction's commit was answered yet or not.
TEST_F(WriterActorTest, PacedRowsOfAPollAreWrittenAtOnceEvenWithinMinIntervalOfTheLastTransaction) {
  auto w = start("batching:\n  min_interval_ms: 60000\n");
  caf::anon_send(w, batch(0, 0));
  sched.run();
  ASSERT_EQ(acks->size(), 1u);
  const auto timers = pending_timers();  // the writer's health check
  caf::anon_send(w, polled({batch(0, 1), batch(1, 0)}, true));
  sched.run();
  ASSERT_EQ(acks->size(), 3u) << "both batches of the poll, in one transaction, at once";
  for (const auto& a : *acks) EXPECT_EQ(a.status, msg::ack_status::committed);
  EXPECT_EQ(rows(), 3);
  EXPECT_EQ(m->db_transactions().Value(), 2);
  EXPECT_EQ(pending_timers(), timers) << "no flush timer armed";

  // The next poll's rows arrive while that transaction's commit is on its
  // way (its answer is read once the mailbox is empty).
  caf::anon_send(w, polled({batch(2, 0)}, true));
  ASSERT_TRUE(sched.try_run_once());  // the transaction is sent, its commit_atom queued
  caf::anon_send(w, polled({batch(0, 2)}, true));
  sched.run();
  ASSERT_EQ(acks->size(), 5u) << "the poll's rows follow the commit on its way";
  EXPECT_EQ(acks->back().source.next_position, 3);
  EXPECT_EQ(rows(), 5);
  EXPECT_EQ(m->db_transactions().Value(), 4);
  EXPECT_EQ(pending_timers(), timers);
}

// The consumer hands unpaced rows over where it cannot space them (its
// min_interval_ms longer than a poll may block): the writer's spacing applies.
TEST_F(WriterActorTest, UnpacedRowsOfAPollWaitForMinIntervalAsAProcessorsBatchDoes) {
  auto w = start("batching:\n  min_interval_ms: 60000\n");
  caf::anon_send(w, batch(0, 0));
  sched.run();
  ASSERT_EQ(acks->size(), 1u);
  const auto timers = pending_timers();
  caf::anon_send(w, polled({batch(0, 1)}, false));
  sched.run();
  EXPECT_EQ(acks->size(), 1u) << "it waits: transactions that are not full start min_interval_ms apart";
  ASSERT_EQ(pending_timers(), timers + 1) << "for the writer's flush timer";
  sched.trigger_timeouts();
  sched.run();
  EXPECT_EQ(acks->size(), 2u);
  EXPECT_EQ(rows(), 2);
}

TEST_F(WriterActorTest, AFullBatchDoesNotWaitForTheTimer) {
  auto w = start("batching:\n  min_interval_ms: 60000\n  max_rows: 2\n");
  caf::anon_send(w, batch(0, 0));
  sched.run();
  caf::anon_send(w, batch(1, 0));
  caf::anon_send(w, batch(2, 0));
  sched.run();
  EXPECT_EQ(acks->size(), 3u) << "max_rows reached: written without waiting for min_interval_ms";
  EXPECT_EQ(rows(), 3);
}

// Issue 15: while a transaction's commit is on its way, the batches that
// arrive are taken in, and once they fill the next transaction that one is
// prepared, the commit's answer read, and the next started: every batch is
// acknowledged once, in order, after its rows are committed.
TEST_F(WriterActorTest, BatchesThatFillTheNextTransactionWhileACommitIsOnItsWayFollowIt) {
  auto w = start("batching:\n  min_interval_ms: 60000\n  max_rows: 2\n");
  for (std::int64_t from = 0; from < 7; ++from) caf::anon_send(w, batch(0, from));
  sched.run();
  EXPECT_EQ(acks->size(), 6u) << "three full transactions; the seventh batch waits for min_interval_ms";
  EXPECT_EQ(rows(), 6);
  EXPECT_EQ(m->db_transactions().Value(), 3);
  sched.trigger_timeouts();
  sched.run();
  ASSERT_EQ(acks->size(), 7u);
  for (std::size_t i = 0; i < acks->size(); ++i) {
    EXPECT_EQ((*acks)[i].status, msg::ack_status::committed);
    EXPECT_EQ((*acks)[i].source.next_position, static_cast<std::int64_t>(i) + 1) << "acknowledged in offset order";
  }
  EXPECT_EQ(rows(), 7);
  EXPECT_EQ(m->db_transactions().Value(), 4);
}

TEST_F(ConsumerActorTest, TheConsumerStallsAtTheInFlightLimitAndResumesWhenAcksReturnTheCredits) {
  const auto consumer = start(50, "{}", "  max_rows: 4\n  in_flight_messages: 10\n");
  // Poll (each poll blocks up to poll_timeout_ms for real) until the limit.
  drive(10, 30s);
  ASSERT_EQ(handed(), 10) << "the consumer takes records up to batching.in_flight_messages and stops";
  for (const auto& b : *batches) EXPECT_LE(b.source.messages, 4) << "batching.max_rows";

  // Stalled: however long it polls, nothing more is taken.
  run_a_while();
  EXPECT_EQ(handed(), 10) << "over the in-flight limit, no record is taken";
  EXPECT_EQ(m->in_flight_messages().Value(), 10);

  // The writer acknowledges: credits come back and consumption resumes.
  const auto first = batches->size();
  for (std::size_t i = 0; i < first; ++i) {
    caf::anon_send(consumer, msg::write_ack{(*batches)[i].source, msg::ack_status::committed});
  }
  drive(20, 30s);
  EXPECT_EQ(handed(), 20) << "the acks returned 10 credits, and the next 10 records came";
  EXPECT_EQ((*batches)[first].source.expected_position, (*batches)[first - 1].source.next_position)
      << "each batch expects the position the previous one moves to";
}

TEST_F(ConsumerActorTest, TheConsumerTakesNoMoreRecordsWhileEveryProcessorHasEnoughWaiting) {
  // 16 MiB in flight: each processor counts as busy from 1 MiB (a sixteenth)
  // waiting; the in-flight limits themselves are far away. The collector
  // keeps the batches, as a processor keeps those it has not processed yet.
  start(40, std::string(std::size_t{100} * 1024, 'x'), "  in_flight_messages: 1000\n  in_flight_bytes: 16MiB\n");
  drive(11, 30s);
  run_a_while();
  EXPECT_EQ(handed(), 11) << "11 records of 100 KiB are the first to reach 1 MiB waiting: then none is taken";
  EXPECT_EQ(m->in_flight_messages().Value(), 11);

  // The processor gets through its batches: records are taken again.
  batches->clear();
  drive(11, 30s);
  run_a_while();
  EXPECT_EQ(handed(), 11) << "the next 11";
  EXPECT_EQ(m->in_flight_messages().Value(), 22) << "none was acknowledged: all 22 are in flight";
}

namespace {

// What a live consumer hands over, from the actors' threads.
struct handed_over {
  std::mutex mu;
  std::vector<msg::raw_batch> to_processor;  // kept, as a processor holds a batch until it is done with it
  std::vector<msg::row_batch> to_writer;
  struct poll_handover {
    std::chrono::steady_clock::time_point at;
    bool paced = false;
  };
  std::vector<poll_handover> polled;  // each msg::polled_rows the writer was sent

  std::int64_t processor_records() {
    std::lock_guard<std::mutex> lock(mu);
    return records_in(to_processor);
  }
  std::int64_t writer_records() {
    std::lock_guard<std::mutex> lock(mu);
    return records_in(to_writer);
  }
};

msg::processor_actor::behavior_type processor_standin(msg::processor_actor::pointer,
                                                      const std::shared_ptr<handed_over>& h) {
  return {
      [h](msg::raw_batch& b) {
        std::lock_guard<std::mutex> lock(h->mu);
        h->to_processor.push_back(std::move(b));
      },
      [](msg::wire_atom, msg::writer_actor&) {},
  };
}

msg::writer_actor::behavior_type writer_standin(msg::writer_actor::pointer, const std::shared_ptr<handed_over>& h) {
  return {
      [h](msg::row_batch& b) {
        std::lock_guard<std::mutex> lock(h->mu);
        h->to_writer.push_back(std::move(b));
      },
      [h](msg::polled_rows& p) {
        std::lock_guard<std::mutex> lock(h->mu);
        h->polled.push_back({std::chrono::steady_clock::now(), p.paced});
        for (auto& b : p.batches) h->to_writer.push_back(std::move(b));
      },
      [](msg::wire_atom, msg::ack_receiver&) {},
      [](msg::flush_atom, std::uint64_t) {},
      [](msg::retry_atom) {},
      [](msg::commit_atom) {},
      [](msg::tick_atom) {},
  };
}

// The consumer on its own thread, as the daemon runs it, wired with a
// processor and a writer that keep what they are handed.
class LiveConsumerTest : public ::testing::Test {
 protected:
  LiveConsumerTest() { log::init("error", "text"); }
  ~LiveConsumerTest() override {
    for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::kill);
    sys.await_all_actors_done();  // the consumer closes its librdkafka handle before its topic goes
    try {
      kt::delete_topics(kt::brokers(), {topic});
      pg.exec("DROP SCHEMA IF EXISTS " + offsets + " CASCADE");
    } catch (const std::exception&) {
    }
  }

  // `extra`: more top-level sections of the settings (batching:).
  void start(const std::string& extra = "") {
    kt::create_topics(kt::brokers(), {topic}, 1);
    {
      pqxx::connection c(kt::pg_connection_string());
      postgis::ensure_kafnus_tables(c, offsets);
    }
    const auto s = test_settings(kt::unique_name("group"), offsets, historic_only(topic) + extra);
    auto processor = sys.spawn(processor_standin, handed);
    auto writer = sys.spawn(writer_standin, handed);
    msg::consumer_actor consumer;
    {
      caf::scoped_actor self{sys};
      consumer = spawn_consumer(self.ptr(), consumer_wiring{s, m, true});
    }
    actors = {caf::actor_cast<caf::actor>(processor), caf::actor_cast<caf::actor>(writer),
              caf::actor_cast<caf::actor>(consumer)};
    caf::anon_send(consumer, msg::wire_atom::value, std::vector<msg::processor_actor>{processor}, writer);
  }

  // `records` notifications, `every` apart (each flushed on its own) or at once.
  void publish(int records, std::chrono::milliseconds every = 0ms) {
    kt::kafka_producer p(kt::brokers());
    const auto note = kt::sensor_notification("S1", "Sensor", kt::iso_time(1), 21.5);
    for (int i = 0; i < records; ++i) {
      p.send(topic, note, {{"Fiware-Service", service}}, "", 0);
      if (every.count() > 0) {
        p.flush();
        std::this_thread::sleep_for(every);
      }
    }
    p.flush();
  }

  // Each msg::polled_rows the writer was sent.
  std::vector<handed_over::poll_handover> handovers() {
    std::lock_guard<std::mutex> lock(handed->mu);
    return handed->polled;
  }

  // Waits until `records` were handed over in all, to the processor or the
  // writer (at most 30 s), then a little longer for any more.
  void wait_for(std::int64_t records) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (handed->processor_records() + handed->writer_records() < records &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(300ms);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<metrics> m = std::make_shared<metrics>();
  std::string service = kt::unique_name("live");
  std::string offsets = kt::unique_name("kafnus");
  std::string topic = service + "_historic";
  std::shared_ptr<handed_over> handed = std::make_shared<handed_over>();
  std::vector<caf::actor> actors;
  kt::pg_client pg;
};

}  // namespace

// Issue 15: at a low rate a poll brings a few records, and handing them to a
// processor cost a thread's wake-up more than transforming them. The
// consumer transforms such a poll itself and hands the rows to the writer.
TEST_F(LiveConsumerTest, TheFewRecordsOfAPollAreTransformedByTheConsumerAndGoStraightToTheWriter) {
  start();
  publish(3);
  wait_for(3);
  EXPECT_EQ(handed->processor_records(), 0) << "no batch went to the processor";
  ASSERT_EQ(handed->writer_records(), 3);
  std::lock_guard<std::mutex> lock(handed->mu);
  std::size_t rows = 0;
  for (const auto& b : handed->to_writer) {
    rows += b.rows.size();
    EXPECT_TRUE(b.errors.empty());
    EXPECT_EQ(b.records.size(), static_cast<std::size_t>(b.source.messages)) << "a mark per record";
    for (const auto& r : b.rows) {
      EXPECT_EQ(r.service(), service);
      EXPECT_NE(r.table().table.find("sensor"), std::string::npos) << r.table().table;
    }
  }
  EXPECT_EQ(rows, 3u) << "each record's entity became a row";
  EXPECT_EQ(handed->to_writer.back().source.next_position, 3) << "the partition moves past its last record";
}

// The partition's batches must reach the writer in order: while its
// processor still holds one, the next few records go after it, to the
// processor; once it is done, the consumer transforms them.
TEST_F(LiveConsumerTest, AFewRecordsGoToTheProcessorWhileItStillHoldsABatchOfTheirPartition) {
  publish(200);  // a backlog before the consumer starts: its polls bring more than a few
  start();
  wait_for(200);
  ASSERT_EQ(handed->processor_records(), 200) << "a backlog is the processors'";
  EXPECT_EQ(handed->writer_records(), 0);

  publish(3);
  wait_for(203);
  EXPECT_EQ(handed->processor_records(), 203) << "the processor still holds the partition's batches: the few follow";
  EXPECT_EQ(handed->writer_records(), 0);

  {
    std::lock_guard<std::mutex> lock(handed->mu);
    handed->to_processor.clear();  // the processor is done with them
  }
  publish(3);
  wait_for(3);
  EXPECT_EQ(handed->processor_records(), 0);
  ASSERT_EQ(handed->writer_records(), 3) << "nothing waits for the processor any more";
  std::lock_guard<std::mutex> lock(handed->mu);
  EXPECT_EQ(handed->to_writer.front().source.expected_position, 203) << "it follows the processor's last batch";
}

// Issue 15: at a low rate the consumer hands a poll's rows to the writer and
// polls again no sooner than batching.min_interval_ms later, so that the
// records of that interval go together (woken once for them, not at every
// fetch), and tells the writer it spaced them.
TEST_F(LiveConsumerTest, AfterHandingRowsOverTheConsumerPollsNoSoonerThanMinIntervalLater) {
  start("batching:\n  min_interval_ms: 60\n");
  publish(3);
  wait_for(3);       // assigned and consuming
  publish(40, 5ms);  // ~250 ms of a record every 5 ms
  wait_for(43);
  ASSERT_EQ(handed->writer_records(), 43);
  EXPECT_EQ(handed->processor_records(), 0);
  const auto h = handovers();
  ASSERT_GE(h.size(), 2u);
  EXPECT_LE(h.size(), 10u) << "the records of each 60 ms went together";
  for (std::size_t i = 0; i < h.size(); ++i) {
    EXPECT_TRUE(h[i].paced) << i;
    if (i > 0) {
      // 60 ms after the consumer's send, less the previous message's time
      // to arrive (room for a loaded machine; unpaced they come ~5 ms apart).
      const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(h[i].at - h[i - 1].at).count();
      EXPECT_GE(gap, 40) << "hand-over " << i << " after the one before";
    }
  }
}

// A min_interval_ms longer than a poll may block (kafka.poll_timeout_ms)
// is not the consumer's to wait: it hands the rows over as they come, and
// the writer spaces the transactions.
TEST_F(LiveConsumerTest, AMinIntervalLongerThanAPollIsLeftToTheWriter) {
  start("batching:\n  min_interval_ms: 500\n");
  publish(3);
  wait_for(3);
  publish(10, 5ms);
  wait_for(13);
  ASSERT_EQ(handed->writer_records(), 13);
  const auto h = handovers();
  ASSERT_GE(h.size(), 3u) << "not held back: several polls' rows within 500 ms";
  for (const auto& x : h) EXPECT_FALSE(x.paced);
}
