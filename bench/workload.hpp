#pragma once
// The benchmark's workload: realistic Orion notifications from a fixed seed
// (several services and servicepaths, tens of entity types, thousands of
// entities, attributes of every kind), and the tables they land in.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kafnus::bench {

struct entity_kind {
  std::string service;      // fiware-service
  std::string servicepath;  // fiware-servicepath, e.g. "/parking"
  std::string type;         // entity type
  std::string schema;       // service schema
  std::string table;        // historic table (lastdata/mutable add their suffix)
};

struct workload_options {
  std::uint64_t seed = 42;
  int services = 4;
  int servicepaths_per_service = 3;
  int types = 24;
  int entities = 4000;
};

class workload {
 public:
  explicit workload(workload_options o);

  const std::vector<entity_kind>& kinds() const { return kinds_; }

  // DDL of every target table of every flow (historic, _lastdata, _mutable),
  // dropping them first. `latency_column` adds the bench's own columns
  // (sentat, committed_at) used to measure produce -> commit latency.
  std::string ddl() const;

  // Notification `i` (deterministic for a seed): its kind index, entity id
  // and the JSON body. `sent_us` (when non-zero) is stored in the sentAt
  // attribute for latency measurement.
  struct notification {
    std::size_t kind = 0;
    std::string entity_id;
    std::string subscription_id;  // one per entity kind, as in the body
    std::string body;
  };
  notification make(std::uint64_t i, std::int64_t sent_us = 0) const;

  // The same rows as COPY text lines for the historic table of a kind, in the
  // table's column order (what the COPY limit measurement writes).
  std::string copy_line(std::uint64_t i, std::int64_t recv_us) const;
  static const char* copy_columns();

  // The TimeInstant of notification `i` as SQL timestamptz text (UTC): the
  // i-th notification is i seconds after the workload's start.
  static std::string time_instant(std::uint64_t i);

  // Every (schema.table) of a flow suffix ("", "_lastdata", "_mutable").
  std::vector<std::string> tables(const std::string& suffix) const;

 private:
  std::vector<entity_kind> kinds_;
  workload_options o_;
};

// The sweep's notification shape (bench/sweep.cpp): `types` entity types
// (one table each) in one service and servicepath, a TimeInstant, a geo:json
// Point `location` and `attributes` plain attributes a0001…, numbers and
// short texts in turn. Notification i names one of `entities` entities
// (spread by a hash; entity e is of type e % types) and is i seconds after
// the workload's start, so historic keys never repeat.
struct sweep_shape_options {
  std::uint64_t seed = 42;
  int attributes = 10;
  std::uint64_t entities = 1000;
  int types = 1;
};

class sweep_shape {
 public:
  explicit sweep_shape(sweep_shape_options o);

  static const char* service() { return "sweep"; }
  static const char* servicepath() { return "/sweep"; }
  // schema.table of each type for a flow suffix ("", "_lastdata").
  std::vector<std::string> tables(const std::string& suffix) const;
  int attributes() const { return o_.attributes; }
  std::uint64_t entities() const { return o_.entities; }

  // The schema (dropped first) and the flow's tables, without indexes: a
  // prefill is faster before them (add_indexes afterwards).
  std::string create_tables(const std::string& suffix) const;
  // The primary key of the flow ((timeinstant, entityid) for historic,
  // (entityid) for lastdata) and a GiST index on location, on every table.
  std::string add_indexes(const std::string& suffix) const;
  // INSERT … SELECT … FROM generate_series of `rows` rows dated before the
  // workload's start (they never collide with a notification's key): for
  // historic, rows of the entities in turn one second apart; for lastdata,
  // one row per entity (`rows` is then the number of entities). One type
  // only (std::logic_error otherwise).
  std::string prefill(const std::string& suffix, std::uint64_t rows) const;

  std::uint64_t entity_of(std::uint64_t i) const;
  std::string entity_id(std::uint64_t entity) const;
  // Notification `i`: entity id and JSON body.
  workload::notification make(std::uint64_t i) const;
  // TimeInstant of notification 0 as SQL timestamptz text: every row written
  // by the daemon is at or after it, every prefilled row before.
  static std::string start();

 private:
  sweep_shape_options o_;
};

}  // namespace kafnus::bench
