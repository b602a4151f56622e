#pragma once
// The consumed positions, stored in PostgreSQL next to the rows they
// produced. This table, not Kafka's committed offsets, is the source of
// truth: a position moves only in the transaction that writes the rows, and
// only from the value its writer expected (compare-and-set), so a crash, a
// restart or two owners of one partition can never lose or repeat a row.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

namespace kafnus::postgis {

// Creates <schema> and <schema>.offsets (and <schema>.error_log, the error
// log of last resort) when missing; creates nothing (needs no CREATE
// privilege) when both tables exist. Safe to run concurrently.
void ensure_kafnus_tables(pqxx::connection& conn, const std::string& schema);

// Stored next position of each partition of `topic` that has one.
std::map<std::int32_t, std::int64_t> read_positions(pqxx::transaction_base& tx, const std::string& schema,
                                                    const std::string& group, const std::string& topic);

struct position_update {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t expected = -1;  // stored position the writer saw (-1: none)
  std::int64_t next = 0;       // position after the written records
};

enum class position_outcome {
  advanced,           // moved from expected to next
  already_committed,  // already at next: an earlier attempt of this very
                      // transaction committed before its outcome was lost
  conflict,           // at another position: someone else owns the partition
};

position_outcome advance_position(pqxx::transaction_base& tx, const std::string& schema, const std::string& group,
                                  const position_update& u);

// The same for every update of a transaction, in one statement when they
// name distinct partitions (one round trip, not one per partition; the rare
// positions that do not advance are then looked at one by one). Outcomes are
// in the order of `updates`.
std::vector<position_outcome> advance_positions(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& group, const std::vector<position_update>& updates);

}  // namespace kafnus::postgis
