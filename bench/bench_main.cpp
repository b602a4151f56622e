// kafnus-bench: throughput, latency and memory of the daemon against the
// physical limits measured in the same run (see bench/README.md).
//   kafnus-bench [--notifications N] [--rate R] [--steady-seconds S] [--warmup-seconds W]
//                [--idle-seconds I] [--partitions P] [--linger-ms L] [--key entity|subscription]
//                [--orion-producer] [--steady-flow historic|mutable] [--out DIR]
//                [--flows historic,lastdata,mutable] [--latency-csv FILE]
//   kafnus-bench --sweep attributes|entities|tables|table-size|partitions|workers|all [--notifications N]
//                [--prefill-rows R] [--out DIR]   (bench/sweep.cpp)

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <librdkafka/rdkafkacpp.h>
#include <pqxx/pqxx>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pqxx/tablewriter>
#pragma GCC diagnostic pop

#include "bench/bare_consumer.hpp"
#include "bench/probes.hpp"
#include "bench/sweep.hpp"
#include "bench/workload.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
namespace kb = kafnus::bench;
using kb::clock_type;
using kb::fmt;
using kb::pid_of_daemon;
using kb::postgres_cpu_seconds;
using kb::postmaster_of;
using kb::rows_per_transaction;
using kb::sample;
using kb::seconds_since;
using namespace std::chrono_literals;

namespace {

struct options {
  std::uint64_t notifications = 1'000'000;
  int rate = 5000;
  int steady_seconds = 30;
  int warmup_seconds = 5;
  int idle_seconds = 10;
  int partitions = 8;
  // The steady load's producer: librdkafka's default linger.ms, each
  // notification keyed by its entity (spread over every partition).
  // --orion-producer sets what Orion's Kafka notifier sets instead
  // (src/lib/kafka/KafkaConnectionManager.cpp in telefonicaid/fiware-orion):
  // queue.buffering.max.ms 10, the subscription id as the key, so that a
  // subscription's notifications share a partition.
  int linger_ms = 5;
  bool key_by_subscription = false;
  // The steady load's flow: historic, or mutable (its staging table and
  // upsert; every notification is a new row, so latency is read as for
  // historic). Lastdata updates rows in place, which keeps no trace of when.
  std::string steady_flow = "historic";
  std::string out = "bench/results";
  std::vector<std::string> flows = {"historic", "lastdata", "mutable"};
  // When set, a line per notification of the measured steady load: when it
  // was sent, acknowledged by the broker, processed (its row's recvtime) and
  // committed, in µs since the epoch (0 where unknown).
  std::string latency_csv;
};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ------------------------------------------------------------------ phases
struct flow_result {
  std::string flow;
  double copy_rows_per_s = 0;
  double daemon_per_s = 0;
  double catchup_seconds = 0;
  double startup_seconds = 0;  // from ready to the first committed batch (group join)
  double cpu_s_per_100k = 0;
  double postgres_cpu_s_per_100k = 0;  // PostgreSQL's, over the same catch-up
  double rows_per_transaction = 0;     // the daemon's own kafnus_db_batch_rows, over the catch-up
  long peak_rss_kib = 0;
  long long rows = 0;
};

// Sends the workload's notification `i` with the headers Orion gives it;
// `sent_us` (when non-zero) goes into its sentAt attribute (kb::workload::make).
// `by_subscription`: keyed by its subscription id, as Orion does (else by
// its entity id); `tag`: kt::kafka_producer::send's.
void send_notification(kt::kafka_producer& p, const kb::workload& w, const std::string& topic, std::uint64_t i,
                       std::int64_t sent_us = 0, bool by_subscription = false, std::uint64_t tag = 0) {
  const auto note = w.make(i, sent_us);
  const auto& k = w.kinds()[note.kind];
  p.send(topic, note.body, {{"Fiware-Service", k.service}, {"Fiware-ServicePath", k.servicepath}},
         by_subscription ? note.subscription_id : note.entity_id, -1, tag);
}

void publish(kb::workload& w, const std::string& topic, std::uint64_t n) {
  kt::kafka_producer p(kt::brokers());
  for (std::uint64_t i = 0; i < n; ++i) send_notification(p, w, topic, i);
  p.flush();
}

// Messages/s of a plain consumer reading every record of the topics.
double kafka_limit(const std::vector<std::string>& topics, std::uint64_t total) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", kt::brokers(), err);
  conf->set("group.id", kt::unique_name("bench_limit"), err);
  conf->set("auto.offset.reset", "earliest", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  c->subscribe(topics);
  std::uint64_t n = 0;
  clock_type::time_point t0{};
  const auto deadline = clock_type::now() + 600s;
  while (n < total && clock_type::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c->consume(500));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    if (n == 0) t0 = clock_type::now();
    ++n;
  }
  const double s = seconds_since(t0);
  c->close();
  if (n < total) throw std::runtime_error("the Kafka limit run read only " + std::to_string(n) + " records");
  return static_cast<double>(n) / s;
}

// Rows/s of COPY straight into the flow's tables (lastdata and mutable: COPY
// into a staging table and one INSERT … ON CONFLICT, the least SQL can do).
double copy_limit(kb::workload& w, const std::string& flow, std::uint64_t n) {
  const std::string suffix = flow == "historic" ? "" : "_" + flow;
  std::map<std::size_t, std::string> text;
  const auto recv = now_us();
  for (std::uint64_t i = 0; i < n; ++i) text[w.make(i).kind] += w.copy_line(i, recv);
  pqxx::connection conn(kt::pg_connection_string());
  pqxx::nontransaction(conn).exec("SET TimeZone = 'UTC'");
  const auto t0 = clock_type::now();
  {
    pqxx::work tx(conn);
    for (const auto& [kind, lines] : text) {
      const auto& k = w.kinds()[kind];
      const auto table = k.schema + "." + k.table + suffix;
      std::string target = table;
      if (flow != "historic") {
        tx.exec("CREATE TEMP TABLE IF NOT EXISTS bench_stage (LIKE " + table + ") ON COMMIT DROP");
        tx.exec("TRUNCATE bench_stage");
        target = "bench_stage";
      }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      std::istringstream cols(kb::workload::copy_columns());
      std::vector<std::string> columns;
      std::string col;
      while (std::getline(cols, col, ',')) columns.push_back(col.substr(col.find_first_not_of(' ')));
      pqxx::tablewriter copy(tx, target, columns.begin(), columns.end());
#pragma GCC diagnostic pop
      copy.write_raw_line(lines);
      copy.complete();
      if (flow == "lastdata") {
        tx.exec("INSERT INTO " + table +
                " SELECT DISTINCT ON (entityid) * FROM bench_stage ORDER BY entityid, "
                "timeinstant DESC ON CONFLICT (entityid) DO UPDATE SET timeinstant = EXCLUDED.timeinstant, "
                "temperature = EXCLUDED.temperature, humidity = EXCLUDED.humidity, level = EXCLUDED.level, "
                "status = EXCLUDED.status, config = EXCLUDED.config, location = EXCLUDED.location, area = "
                "EXCLUDED.area WHERE EXCLUDED.timeinstant >= " +
                table + ".timeinstant");
      } else if (flow == "mutable") {
        tx.exec("INSERT INTO " + table +
                " SELECT * FROM bench_stage ON CONFLICT (entityid, timeinstant) DO UPDATE "
                "SET temperature = EXCLUDED.temperature, humidity = EXCLUDED.humidity, level = EXCLUDED.level, "
                "status = EXCLUDED.status, config = EXCLUDED.config, location = EXCLUDED.location, area = "
                "EXCLUDED.area");
      }
    }
    tx.commit();
  }
  const double rate = static_cast<double>(n) / seconds_since(t0);
  pqxx::work tx(conn);
  for (const auto& t : w.tables(suffix)) tx.exec("TRUNCATE " + t);
  tx.commit();
  return rate;
}

long long expected_rows(kb::workload& w, const std::string& flow, std::uint64_t n) {
  if (flow != "lastdata") return static_cast<long long>(n);
  std::set<std::string> entities;
  for (std::uint64_t i = 0; i < n; ++i) entities.insert(w.make(i).entity_id);
  return static_cast<long long>(entities.size());
}

long long count_rows(kt::pg_client& pg, kb::workload& w, const std::string& suffix) {
  long long total = 0;
  for (const auto& t : w.tables(suffix)) total += pg.count(t);
  return total;
}

kt::daemon_config daemon_for(const std::string& flow, const std::string& topic) {
  kt::daemon_config c;
  (flow == "historic" ? c.historic_topics : flow == "lastdata" ? c.lastdata_topics : c.mutable_topics) = {topic};
  c.log_level = "warn";
  return c;
}

flow_result catch_up(kb::workload& w, const std::string& flow, const std::string& topic, std::uint64_t n,
                     kt::pg_client& pg) {
  flow_result r;
  r.flow = flow;
  kt::daemon_process d(daemon_for(flow, topic));
  d.start();
  if (!d.wait_ready(60s)) throw std::runtime_error("the daemon did not start:\n" + d.log());
  const auto f = kb::measure_catch_up(d, pg, n);
  r.startup_seconds = f.startup_seconds;
  r.catchup_seconds = f.catchup_seconds;
  r.peak_rss_kib = f.peak_rss_kib;
  r.cpu_s_per_100k = f.daemon_cpu_seconds / static_cast<double>(n) * 100000.0;
  r.postgres_cpu_s_per_100k = f.postgres_cpu_seconds / static_cast<double>(n) * 100000.0;
  r.daemon_per_s = static_cast<double>(n) / r.catchup_seconds;
  r.rows_per_transaction = f.rows_per_transaction;
  d.signal(SIGTERM);
  d.wait_exit(60s);
  r.rows = count_rows(pg, w, flow == "historic" ? "" : "_" + flow);
  const auto want = expected_rows(w, flow, n);
  if (r.rows != want) {
    throw std::runtime_error(flow + ": " + std::to_string(r.rows) + " rows committed, " + std::to_string(want) +
                             " expected: the run is incomplete, no figure reported");
  }
  return r;
}

struct latency {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  // The two halves, split at the row's recvtime (when its processor made
  // it): produce -> processed (the producer's linger, the broker, the fetch,
  // the consumer and the processor) and processed -> stored (the writer's
  // batching and its transaction).
  double to_daemon_p50_ms = 0, to_daemon_p99_ms = 0, writer_p50_ms = 0, writer_p99_ms = 0;
  // From the broker's acknowledgement of the record to the producer (its
  // delivery report, served within ~0.2 ms) to the committed row: without
  // the producer's linger, what the fetch, the daemon and PostgreSQL's
  // commit take.
  double acked_p50_ms = 0, acked_p99_ms = 0;
  // From the send to that acknowledgement: the producer's linger, its
  // request and the broker's append, before any consumer can have the record.
  double produce_acked_p50_ms = 0, produce_acked_p99_ms = 0;
  // The notifications at or above the p99 from produce to committed: the
  // mean of their time before and after the broker's acknowledgement (which
  // side the tail is on).
  double tail_before_ack_ms = 0, tail_after_ack_ms = 0;
  // In how many of the window's 100 ms slices (by send time) those fall,
  // of how many: a few means stalls (the broker's collections, the disk),
  // many the steady path.
  long tail_windows = 0, windows = 0;
  double max_at_s = 0;  // when the slowest notification was sent, seconds after the window's first
};

struct steady_result {
  latency measured;  // the steady load after the warm-up
  latency warmup;    // the first seconds of a fresh daemon (connections, caches, first fetches)
  long rss_kib = 0;
  double rows_per_transaction = 0;
  long long rows = 0;
  double cpu_us_per_notification = 0;           // the daemon's, over the measured load until its last row
  double postgres_cpu_us_per_notification = 0;  // PostgreSQL's (all its processes), while the load is produced
  double idle_cpu_percent = 0;                  // of one core, with nothing to consume afterwards
  double broker_seasoning_s = 0;                // load into the topic until the broker served it promptly
  double bare_consumer_cpu_us = 0;              // librdkafka alone under the same load (bench/bare_consumer.hpp)
};

// The UNION ALL of `select` (columns of a row) over the flow's tables, for
// the rows whose TimeInstant is in [from, to) (the notifications [from, to)).
std::string rows_of_window(kb::workload& w, const std::string& suffix, std::uint64_t from, std::uint64_t to,
                           const std::string& select) {
  std::string unions;
  for (const auto& t : w.tables(suffix)) {
    unions += (unions.empty() ? "" : " UNION ALL ") +
              ("SELECT " + select + " FROM " + t + " WHERE timeinstant >= '" + kb::workload::time_instant(from) +
               "' AND timeinstant < '" + kb::workload::time_instant(to) + "'");
  }
  return unions;
}

// p50 and p99 of `ms`, interpolated as percentile_cont does; sorts `ms`.
std::pair<double, double> p50_p99(std::vector<double>& ms) {
  if (ms.empty()) return {0, 0};
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    const double x = q * static_cast<double>(ms.size() - 1);
    const auto i = static_cast<std::size_t>(x);
    return i + 1 < ms.size() ? ms[i] + (x - static_cast<double>(i)) * (ms[i + 1] - ms[i]) : ms[i];
  };
  return {at(0.5), at(0.99)};
}

// The latency of the notifications [from, to) split at the broker's
// acknowledgement (latency::acked_*, produce_acked_*, tail_*): `acked_us`
// maps a notification's sentAt (when it was sent, µs) to when the broker's
// acknowledgement reached the producer. With `csv` set, every
// notification's instants go there (options::latency_csv).
void split_at_acknowledgement(kt::pg_client& pg, kb::workload& w, const std::string& suffix, std::uint64_t from,
                              std::uint64_t to, const std::unordered_map<std::int64_t, std::int64_t>& acked_us,
                              latency& l, const std::string& csv) {
  struct sample {
    std::int64_t sent;
    double total, before, after;
  };
  std::vector<sample> samples;
  std::ofstream out;
  if (!csv.empty()) {
    out.open(csv);
    if (!out) throw std::runtime_error("--latency-csv " + csv + ": cannot write there");
    out << "sent_us,acked_us,processed_us,committed_us\n";
  }
  for (const auto& row : pg.query(rows_of_window(w, suffix, from, to,
                                                 "sentat, (extract(epoch FROM committed_at) * 1e6)::bigint, "
                                                 "(extract(epoch FROM recvtime) * 1e6)::bigint"))) {
    if (!row[0] || !row[1]) continue;
    const auto sent = std::stoll(*row[0]);
    const auto it = acked_us.find(sent);
    if (out.is_open()) {
      out << sent << ',' << (it == acked_us.end() ? 0 : it->second) << ',' << (row[2] ? *row[2] : "0") << ',' << *row[1]
          << '\n';
    }
    if (it == acked_us.end()) continue;
    const auto committed = std::stoll(*row[1]);
    samples.push_back({sent, static_cast<double>(committed - sent) / 1000.0,
                       static_cast<double>(it->second - sent) / 1000.0,
                       static_cast<double>(committed - it->second) / 1000.0});
  }
  if (samples.empty()) return;
  std::vector<double> total, before, after;
  for (const auto& s : samples) {
    total.push_back(s.total);
    before.push_back(s.before);
    after.push_back(s.after);
  }
  std::tie(l.produce_acked_p50_ms, l.produce_acked_p99_ms) = p50_p99(before);
  std::tie(l.acked_p50_ms, l.acked_p99_ms) = p50_p99(after);
  const double p99 = p50_p99(total).second;
  double sum_before = 0, sum_after = 0;
  int n = 0;
  std::set<std::int64_t> all_windows, tail_windows;
  for (const auto& s : samples) {
    all_windows.insert(s.sent / 100000);
    if (s.total < p99) continue;
    sum_before += s.before;
    sum_after += s.after;
    tail_windows.insert(s.sent / 100000);
    ++n;
  }
  l.tail_windows = static_cast<long>(tail_windows.size());
  l.windows = static_cast<long>(all_windows.size());
  if (n > 0) {
    l.tail_before_ack_ms = sum_before / n;
    l.tail_after_ack_ms = sum_after / n;
  }
}

// Produce -> committed latency of the rows whose TimeInstant is in [from, to).
latency latency_of(kt::pg_client& pg, kb::workload& w, const std::string& suffix, std::uint64_t from,
                   std::uint64_t to) {
  const auto unions = rows_of_window(w, suffix, from, to,
                                     "sentat, extract(epoch FROM committed_at) * 1000 - sentat / 1000.0 AS ms, "
                                     "extract(epoch FROM recvtime) * 1000 - sentat / 1000.0 AS to_daemon, "
                                     "extract(epoch FROM committed_at - recvtime) * 1000 AS writer");
  auto row = pg.query(
      "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP "
      "(ORDER BY ms), max(ms), "
      "percentile_cont(0.5) WITHIN GROUP (ORDER BY to_daemon), percentile_cont(0.99) WITHIN GROUP "
      "(ORDER BY to_daemon), "
      "percentile_cont(0.5) WITHIN GROUP (ORDER BY writer), percentile_cont(0.99) WITHIN GROUP "
      "(ORDER BY writer), ((array_agg(sentat ORDER BY ms DESC))[1] - min(sentat)) / 1e6 FROM (" +
      unions + ") l");
  if (!row[0][0])
    throw std::runtime_error("no latency sample between notifications " + std::to_string(from) + " and " +
                             std::to_string(to));
  auto at = [&](int i) { return std::stod(*row[0][i]); };
  return latency{at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)};
}

// Loads `topic` at `per_s` until the broker serves it promptly: a consumer
// of the bench's own reads it back, and the load stops once ten 0.1 s slices
// in a row arrived within 20 ms of their production (at most 60 s). Its
// records are then deleted, so a daemon started afterwards (a new group,
// earliest) begins after them. Returns the seconds of load it took.
double season_topic(kt::kafka_producer& p, kb::workload& w, const std::string& topic, int partitions,
                    std::uint64_t per_s, bool by_subscription) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", kt::brokers(), err);
  conf->set("group.id", kt::unique_name("bench_season"), err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) throw std::runtime_error("cannot create the seasoning consumer: " + err);
  std::vector<RdKafka::TopicPartition*> parts;
  parts.reserve(static_cast<std::size_t>(partitions));
  for (int i = 0; i < partitions; ++i) {
    parts.push_back(RdKafka::TopicPartition::create(topic, i, RdKafka::Topic::OFFSET_BEGINNING));
  }
  c->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  const auto s0 = clock_type::now();
  {
    std::atomic<bool> stop{false};
    std::atomic<long long> slice_max_ms{-1};  // the slowest record read in this slice; -1: none
    std::thread reader([&] {
      while (!stop) {
        const std::unique_ptr<RdKafka::Message> m(c->consume(50));
        if (m->err() != RdKafka::ERR_NO_ERROR) continue;
        const long long ms = now_us() / 1000 - m->timestamp().timestamp;
        long long seen = slice_max_ms.load();
        while (ms > seen && !slice_max_ms.compare_exchange_weak(seen, ms)) {
        }
      }
    });
    struct stop_reader {  // at the end of the block, also when the load throws
      std::atomic<bool>& stop;
      std::thread& reader;
      ~stop_reader() {
        stop = true;
        reader.join();
      }
    } stopper{stop, reader};
    const std::uint64_t slice = std::max<std::uint64_t>(per_s / 10, 1);
    int settled = 0;
    std::uint64_t n = 0;
    while (settled < 10 && clock_type::now() - s0 < 60s) {
      const auto slice_start = clock_type::now();
      for (std::uint64_t i = 0; i < slice; ++i, ++n) {
        std::this_thread::sleep_until(slice_start + std::chrono::microseconds(i * 1000000 / per_s));
        send_notification(p, w, topic, n, now_us(), by_subscription);
      }
      const long long slowest = slice_max_ms.exchange(-1);
      settled = slowest >= 0 && slowest <= 20 ? settled + 1 : 0;
    }
    p.flush();
  }
  const double seconds = seconds_since(s0);
  c->close();
  for (int part = 0; part < partitions; ++part) {
    kt::delete_records_before(kt::brokers(), topic, part, kt::kHighWatermark);
  }
  return seconds;
}

// A fresh daemon under a fixed rate: `warmup_seconds` first (reported apart:
// a restart pays for new connections, cold caches and the first fetches
// once), then `seconds` of measured steady load.
steady_result steady(kb::workload& w, const options& o, kt::pg_client& pg) {
  const int rate = o.rate, warmup_seconds = o.warmup_seconds, seconds = o.steady_seconds, idle_seconds = o.idle_seconds,
            partitions = o.partitions;
  const std::string suffix = o.steady_flow == "historic" ? "" : "_" + o.steady_flow;
  const auto topic = kt::unique_name("bench_steady");
  kt::create_topics(kt::brokers(), {topic}, partitions);
  for (const auto& t : w.tables(suffix)) pg.exec("TRUNCATE " + t);
  const auto per_s = static_cast<std::uint64_t>(rate);
  kt::kafka_producer p(kt::brokers(), o.linger_ms);
  // The warm-up measures a fresh daemon, not a fresh producer (whose first
  // records wait while it learns the partitions' leaders), nor a fresh topic
  // or broker: the broker acknowledges the first produce requests of a topic
  // created moments ago in 40-85 ms, and a broker whose JVM has just started
  // serves a load slowly for seconds while it compiles (bench/README), where
  // a daemon meets long-written topics on a long-running broker.
  p.prepare(topic);
  const double broker_seasoning_s = season_topic(p, w, topic, partitions, per_s, o.key_by_subscription);
  kt::daemon_process d(daemon_for(o.steady_flow, topic));
  d.start();
  if (!d.wait_ready(60s)) throw std::runtime_error("the daemon did not start:\n" + d.log());
  const pid_t pid = pid_of_daemon(d);
  // Ready means subscribed; the load starts once the partitions are assigned
  // too, or the group join would count as latency.
  for (int i = 0; i < 300; ++i) {
    const auto m = d.http("GET", "/metrics").body;
    const std::string name = "\nkafnus_assigned_partitions ";
    const auto at = m.find(name);
    if (at != std::string::npos && std::stod(m.substr(at + name.size())) >= partitions) break;
    std::this_thread::sleep_for(100ms);
  }
  // Notifications [0, warm) are the warm-up, [warm, total) the measured load:
  // their TimeInstants (i seconds after the workload's start) tell them apart.
  const std::uint64_t warm = per_s * static_cast<std::uint64_t>(warmup_seconds);
  const std::uint64_t total = warm + per_s * static_cast<std::uint64_t>(seconds);
  // When the broker's acknowledgement of each notification reached the
  // producer (served after every send, so at most ~0.2 ms late at 5,000/s).
  std::vector<std::int64_t> sent_us(total, 0), acked_us(total, 0);
  p.on_delivery([&](std::uint64_t tag) {
    if (tag >= 1 && tag <= total) acked_us[tag - 1] = now_us();
  });
  const auto t0 = clock_type::now();
  std::vector<long> rss;
  const pid_t postmaster = postmaster_of(pg);
  double cpu_at_warm = sample(pid).cpu_seconds;
  double pg_cpu_at_warm = postgres_cpu_seconds(postmaster);
  for (std::uint64_t i = 0; i < total; ++i) {
    const auto due = t0 + std::chrono::microseconds(i * 1000000 / per_s);
    std::this_thread::sleep_until(due);
    if (i == warm) {
      cpu_at_warm = sample(pid).cpu_seconds;
      pg_cpu_at_warm = postgres_cpu_seconds(postmaster);
    }
    sent_us[i] = now_us();
    send_notification(p, w, topic, i, sent_us[i], o.key_by_subscription, i + 1);
    p.poll();
    if (i > warm && i % per_s == 0) rss.push_back(sample(pid).rss_kib);
  }
  p.flush();
  p.on_delivery(nullptr);
  steady_result r;
  r.broker_seasoning_s = broker_seasoning_s;
  // (Until the last notification is sent: the row counting below is the
  // bench's own load on PostgreSQL.)
  r.postgres_cpu_us_per_notification =
      (postgres_cpu_seconds(postmaster) - pg_cpu_at_warm) / static_cast<double>(total - warm) * 1e6;
  const auto deadline = clock_type::now() + 60s;
  while (clock_type::now() < deadline && count_rows(pg, w, suffix) < static_cast<long long>(total)) {
    std::this_thread::sleep_for(100ms);
  }
  r.rows = count_rows(pg, w, suffix);
  if (r.rows != static_cast<long long>(total)) {
    throw std::runtime_error("steady load: " + std::to_string(r.rows) + " of " + std::to_string(total) +
                             " rows committed: the run is incomplete");
  }
  r.cpu_us_per_notification = (sample(pid).cpu_seconds - cpu_at_warm) / static_cast<double>(total - warm) * 1e6;
  // At rest: the partitions assigned, nothing to consume.
  std::this_thread::sleep_for(2s);
  const auto idle0 = sample(pid).cpu_seconds;
  const auto idle_t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
  r.idle_cpu_percent = (sample(pid).cpu_seconds - idle0) / seconds_since(idle_t0) * 100.0;
  r.rows_per_transaction = rows_per_transaction(d);
  r.measured = latency_of(pg, w, suffix, warm, total);
  {
    std::unordered_map<std::int64_t, std::int64_t> acked;
    acked.reserve(total - warm);
    for (std::uint64_t i = warm; i < total; ++i) {
      if (acked_us[i] > 0) acked.emplace(sent_us[i], acked_us[i]);
    }
    split_at_acknowledgement(pg, w, suffix, warm, total, acked, r.measured, o.latency_csv);
  }
  if (warm > 0) r.warmup = latency_of(pg, w, suffix, 0, warm);
  std::sort(rss.begin(), rss.end());
  r.rss_kib = rss.empty() ? sample(pid).rss_kib : rss[rss.size() / 2];
  d.signal(SIGTERM);
  d.wait_exit(60s);
  // The floor under the daemon's figure: a bare consumer with its Kafka
  // settings under the same rate, the daemon stopped (at most 10 s of load).
  const std::uint64_t bare = per_s * static_cast<std::uint64_t>(std::clamp(seconds, 1, 10));
  r.bare_consumer_cpu_us = kb::bare_consumer_cpu_us(topic, partitions, bare, [&] {
    const auto b0 = clock_type::now();
    for (std::uint64_t i = 0; i < bare; ++i) {
      std::this_thread::sleep_until(b0 + std::chrono::microseconds(i * 1000000 / per_s));
      send_notification(p, w, topic, total + i, now_us(), o.key_by_subscription);
    }
    p.flush();
  });
  kt::delete_topics(kt::brokers(), {topic});
  return r;
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--bare-consumer") return kb::bare_consumer_main(argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--sweep") return kb::sweep_main(argc, argv);
  }
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--notifications")
      o.notifications = std::stoull(next());
    else if (a == "--rate")
      o.rate = std::stoi(next());
    else if (a == "--steady-seconds")
      o.steady_seconds = std::stoi(next());
    else if (a == "--warmup-seconds")
      o.warmup_seconds = std::stoi(next());
    else if (a == "--idle-seconds")
      o.idle_seconds = std::stoi(next());
    else if (a == "--partitions")
      o.partitions = std::stoi(next());
    else if (a == "--linger-ms")
      o.linger_ms = std::stoi(next());
    else if (a == "--key") {
      const auto k = next();
      if (k != "entity" && k != "subscription") {
        std::cerr << "kafnus-bench: --key " << k << ": entity or subscription\n";
        return 2;
      }
      o.key_by_subscription = k == "subscription";
    } else if (a == "--orion-producer") {
      o.linger_ms = 10;
      o.key_by_subscription = true;
    } else if (a == "--steady-flow")
      o.steady_flow = next();
    else if (a == "--out")
      o.out = next();
    else if (a == "--latency-csv")
      o.latency_csv = next();
    else if (a == "--flows") {
      o.flows.clear();
      std::istringstream list(next());
      std::string f;
      while (std::getline(list, f, ',')) o.flows.push_back(f);
    } else {
      std::cerr
          << "usage: kafnus-bench [--notifications N] [--rate R] [--steady-seconds S] [--warmup-seconds W] "
             "[--idle-seconds I] [--partitions P] [--linger-ms L] [--key entity|subscription] "
             "[--orion-producer] [--steady-flow historic|mutable] [--out DIR] [--flows historic,lastdata,mutable] "
             "[--latency-csv FILE]\n"
             "       kafnus-bench --sweep DIMENSION ... (bench/README.md)\n";
      return 2;
    }
  }
  if (o.steady_flow != "historic" && o.steady_flow != "mutable") {
    std::cerr << "kafnus-bench: --steady-flow " << o.steady_flow
              << ": historic or mutable (lastdata rows are updated in place and keep no trace of when)\n";
    return 2;
  }
  try {
    kb::workload w(kb::workload_options{});
    kt::pg_client pg;
    std::cout << "workload: " << o.notifications << " notifications per flow, " << w.kinds().size()
              << " entity types\n";
    pg.exec(w.ddl());

    std::map<std::string, std::string> topics;
    std::vector<std::string> all;
    for (const auto& f : o.flows) {
      topics[f] = kt::unique_name("bench_" + f);
      all.push_back(topics[f]);
    }
    kt::create_topics(kt::brokers(), all, o.partitions);
    auto t0 = clock_type::now();
    for (const auto& f : o.flows) publish(w, topics[f], o.notifications);
    std::cout << "published " << o.notifications * o.flows.size() << " records in " << fmt(seconds_since(t0), 1)
              << " s\n";

    const double kafka = kafka_limit(all, o.notifications * o.flows.size());
    std::cout << "Kafka limit: " << fmt(kafka) << " records/s\n";

    // Every phase starts from the same state: no dirty buffers of the phase
    // before (CHECKPOINT), no rows left for autovacuum to visit meanwhile
    // (each flow's tables are emptied once its rows are counted).
    std::vector<flow_result> results;
    for (const auto& f : o.flows) {
      pg.exec("CHECKPOINT");
      const double copy = copy_limit(w, f, o.notifications);
      std::cout << f << ": COPY limit " << fmt(copy) << " rows/s; daemon catching up…\n" << std::flush;
      pg.exec("CHECKPOINT");
      auto r = catch_up(w, f, topics[f], o.notifications, pg);
      r.copy_rows_per_s = copy;
      std::cout << f << ": daemon " << fmt(r.daemon_per_s) << " notifications/s\n";
      results.push_back(r);
      for (const auto& t : w.tables(f == "historic" ? "" : "_" + f)) pg.exec("TRUNCATE " + t);
    }
    kt::delete_topics(kt::brokers(), all);
    // The bench's own DDL (schemas dropped and created, tables emptied)
    // leaves autovacuum work in the catalogs and tables; done now, it does
    // not land in the steady load's first seconds (bench/README).
    pg.exec("VACUUM ANALYZE");
    pg.exec("CHECKPOINT");
    std::cout << "steady load: " << o.rate << " notifications/s of " << o.steady_flow << " for " << o.steady_seconds
              << " s…\n"
              << std::flush;
    auto s = steady(w, o, pg);

    std::ostringstream table;
    table << "\n| flow | COPY limit rows/s | daemon notifications/s | daemon / COPY | daemon / Kafka | catch-up s | "
             "group join s | CPU s per 100k | PostgreSQL CPU s per 100k | rows per transaction | peak RSS MiB |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
      table << "| " << r.flow << " | " << fmt(r.copy_rows_per_s) << " | " << fmt(r.daemon_per_s) << " | "
            << fmt(r.daemon_per_s / r.copy_rows_per_s, 2) << " | " << fmt(r.daemon_per_s / kafka, 2) << " | "
            << fmt(r.catchup_seconds, 1) << " | " << fmt(r.startup_seconds, 1) << " | " << fmt(r.cpu_s_per_100k, 2)
            << " | " << fmt(r.postgres_cpu_s_per_100k, 2) << " | " << fmt(r.rows_per_transaction) << " | "
            << fmt(static_cast<double>(r.peak_rss_kib) / 1024.0, 1) << " |\n";
    }
    table << "\nKafka limit: " << fmt(kafka) << " records/s\n"
          << "steady " << o.rate << "/s of " << o.steady_flow << " for " << o.steady_seconds
          << " s (producer linger.ms " << o.linger_ms << ", keyed by "
          << (o.key_by_subscription ? "subscription" : "entity") << "): latency p50 " << fmt(s.measured.p50_ms, 1)
          << " ms, p99 " << fmt(s.measured.p99_ms, 1) << " ms, max " << fmt(s.measured.max_ms, 1)
          << " ms (produce -> processed p50 " << fmt(s.measured.to_daemon_p50_ms, 1) << ", p99 "
          << fmt(s.measured.to_daemon_p99_ms, 1) << " ms; processed -> stored p50 " << fmt(s.measured.writer_p50_ms, 1)
          << ", p99 " << fmt(s.measured.writer_p99_ms, 1) << " ms; acknowledged by the broker -> stored p50 "
          << fmt(s.measured.acked_p50_ms, 1) << ", p99 " << fmt(s.measured.acked_p99_ms, 1)
          << " ms; produce -> acknowledged p50 " << fmt(s.measured.produce_acked_p50_ms, 1) << ", p99 "
          << fmt(s.measured.produce_acked_p99_ms, 1) << " ms; the slowest 1 % took on average "
          << fmt(s.measured.tail_before_ack_ms, 1) << " ms before the acknowledgement and "
          << fmt(s.measured.tail_after_ack_ms, 1) << " after, in " << s.measured.tail_windows << " of the "
          << s.measured.windows << " 100 ms slices); steady RSS " << fmt(static_cast<double>(s.rss_kib) / 1024.0, 1)
          << " MiB; " << fmt(s.rows_per_transaction, 1) << " rows per transaction; daemon CPU "
          << fmt(s.cpu_us_per_notification, 1) << " µs per notification, PostgreSQL "
          << fmt(s.postgres_cpu_us_per_notification, 1) << " µs\n"
          << "bare consumer (librdkafka alone with the daemon's Kafka settings, one thread polling, at " << o.rate
          << "/s): " << fmt(s.bare_consumer_cpu_us, 1) << " µs per notification\n"
          << "at rest (" << o.idle_seconds << " s after the load, partitions assigned): daemon CPU "
          << fmt(s.idle_cpu_percent, 2) << " % of a core\n"
          << "warm-up (first " << o.warmup_seconds << " s of a fresh daemon): latency p50 " << fmt(s.warmup.p50_ms, 1)
          << " ms, p99 " << fmt(s.warmup.p99_ms, 1) << " ms, max " << fmt(s.warmup.max_ms, 1) << " ms sent "
          << fmt(s.warmup.max_at_s, 2) << " s in (produce -> processed p99 " << fmt(s.warmup.to_daemon_p99_ms, 1)
          << " ms; processed -> stored p99 " << fmt(s.warmup.writer_p99_ms, 1) << " ms; before it, the broker took "
          << fmt(s.broker_seasoning_s, 1) << " s of load to serve it within 20 ms; those records were deleted)\n";
    std::cout << table.str();

    std::filesystem::create_directories(o.out);
    std::time_t t = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    const auto path = o.out + "/bench-" + stamp + ".json";
    std::ofstream json(path);
    json << "{\n  \"notifications_per_flow\": " << o.notifications << ",\n  \"partitions\": " << o.partitions
         << ",\n  \"kafka_limit_records_per_s\": " << fmt(kafka) << ",\n  \"flows\": [";
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      json << (i ? "," : "") << "\n    {\"flow\": \"" << r.flow
           << "\", \"copy_limit_rows_per_s\": " << fmt(r.copy_rows_per_s)
           << ", \"daemon_notifications_per_s\": " << fmt(r.daemon_per_s)
           << ", \"ratio_copy\": " << fmt(r.daemon_per_s / r.copy_rows_per_s, 3)
           << ", \"ratio_kafka\": " << fmt(r.daemon_per_s / kafka, 3)
           << ", \"catchup_seconds\": " << fmt(r.catchup_seconds, 2)
           << ", \"startup_seconds\": " << fmt(r.startup_seconds, 2)
           << ", \"cpu_seconds_per_100k\": " << fmt(r.cpu_s_per_100k, 3)
           << ", \"postgres_cpu_seconds_per_100k\": " << fmt(r.postgres_cpu_s_per_100k, 3)
           << ", \"rows_per_transaction\": " << fmt(r.rows_per_transaction, 1)
           << ", \"peak_rss_kib\": " << r.peak_rss_kib << ", \"rows\": " << r.rows << "}";
    }
    json << "\n  ],\n  \"steady\": {\"flow\": \"" << o.steady_flow << "\", \"rate\": " << o.rate
         << ", \"seconds\": " << o.steady_seconds << ", \"producer_linger_ms\": " << o.linger_ms
         << ", \"producer_key\": \"" << (o.key_by_subscription ? "subscription" : "entity") << "\""
         << ", \"p50_ms\": " << fmt(s.measured.p50_ms, 2) << ", \"p99_ms\": " << fmt(s.measured.p99_ms, 2)
         << ", \"max_ms\": " << fmt(s.measured.max_ms, 2)
         << ", \"to_daemon_p50_ms\": " << fmt(s.measured.to_daemon_p50_ms, 2)
         << ", \"to_daemon_p99_ms\": " << fmt(s.measured.to_daemon_p99_ms, 2)
         << ", \"writer_p50_ms\": " << fmt(s.measured.writer_p50_ms, 2)
         << ", \"writer_p99_ms\": " << fmt(s.measured.writer_p99_ms, 2)
         << ", \"acked_to_stored_p50_ms\": " << fmt(s.measured.acked_p50_ms, 2)
         << ", \"acked_to_stored_p99_ms\": " << fmt(s.measured.acked_p99_ms, 2)
         << ", \"produce_to_acked_p50_ms\": " << fmt(s.measured.produce_acked_p50_ms, 2)
         << ", \"produce_to_acked_p99_ms\": " << fmt(s.measured.produce_acked_p99_ms, 2)
         << ", \"tail_before_ack_ms\": " << fmt(s.measured.tail_before_ack_ms, 2)
         << ", \"tail_after_ack_ms\": " << fmt(s.measured.tail_after_ack_ms, 2)
         << ", \"tail_windows_100ms\": " << s.measured.tail_windows << ", \"windows_100ms\": " << s.measured.windows
         << ", \"warmup_seconds\": " << o.warmup_seconds << ", \"warmup_p50_ms\": " << fmt(s.warmup.p50_ms, 2)
         << ", \"warmup_p99_ms\": " << fmt(s.warmup.p99_ms, 2) << ", \"warmup_max_ms\": " << fmt(s.warmup.max_ms, 2)
         << ", \"warmup_max_at_s\": " << fmt(s.warmup.max_at_s, 2)
         << ", \"warmup_to_daemon_p99_ms\": " << fmt(s.warmup.to_daemon_p99_ms, 2)
         << ", \"warmup_writer_p99_ms\": " << fmt(s.warmup.writer_p99_ms, 2)
         << ", \"broker_seasoning_s\": " << fmt(s.broker_seasoning_s, 2) << ", \"rss_kib\": " << s.rss_kib
         << ", \"rows_per_transaction\": " << fmt(s.rows_per_transaction, 1) << ", \"rows\": " << s.rows
         << ", \"cpu_us_per_notification\": " << fmt(s.cpu_us_per_notification, 2)
         << ", \"postgres_cpu_us_per_notification\": " << fmt(s.postgres_cpu_us_per_notification, 2)
         << ", \"bare_consumer_cpu_us_per_notification\": " << fmt(s.bare_consumer_cpu_us, 2)
         << ", \"idle_seconds\": " << o.idle_seconds << ", \"idle_cpu_percent\": " << fmt(s.idle_cpu_percent, 3)
         << "}\n}\n";
    std::cout << "results: " << path << "\n";
  } catch (const std::exception& e) {
    std::cerr << "kafnus-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

// The daemons' configs and logs in a directory of the run's own: removed
// after a run that worked, kept (and named) after one that failed.
int main(int argc, char** argv) {
  kafnus::test::private_temp_dir files("kafnus-bench");
  const int rc = run(argc, argv);
  if (rc != 0) files.keep();
  return rc;
}
