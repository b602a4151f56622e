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

}  // namespace kafnus::bench
