#pragma once
// The consumed positions, stored in PostgreSQL next to the rows they
// produced. This table, not Kafka's committed offsets, is the source of
// truth: a position moves only in the transaction that writes the rows, and
// only from the value its writer expected (compare-and-set), so a crash, a
// restart or two owners of one partition can never lose or repeat a row.

#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

namespace kafnus::postgis {

// Creates <schema> and <schema>.offsets (and <schema>.error_log, the error
// log of last resort) when missing; creates nothing (needs no CREATE
// privilege) when both tables exist. Safe to run concurrently.
void ensure_kafnus_tables(pqxx::connection_base& conn, const std::string& schema);

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
// in the order of `updates`. `before` is a statement sent first, in the
// same round trip when there is one statement (e.g. the BEGIN of the
// transaction). `prepared` names the statement prepared on this
// connection from prepared_positions_statement(schema, group): then one
// EXECUTE, which PostgreSQL neither parses nor plans again, for any number
// of distinct partitions (a single one included).
std::vector<position_outcome> advance_positions(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& group, const std::vector<position_update>& updates,
                                                const std::string& before = {}, const std::string& prepared = {});
// The statement to PREPARE for advance_positions, taking arrays of the
// updates' index, topic, partition, expected and next positions.
std::string prepared_positions_statement(const std::string& schema, const std::string& group);

// For a transaction that assumes its positions are where it expects them
// and sends its compare-and-set with its rows and its commit, in one round
// trip: the same statement (same parameters), which returns no row when
// every update moved and otherwise fails, with SQLSTATE 22012
// (positions_moved_elsewhere), leaving the transaction failed — none of
// what follows it is written. The transaction is then tried again the
// careful way (advance_positions first, then only the rows of the sources
// that advanced).
std::string prepared_strict_positions_statement(const std::string& schema, const std::string& group);
// Whether a failure of a query that held the strict statement may be the
// strict statement's (a statement after it failing with the same SQLSTATE
// is taken for it too: the careful retry then meets it again).
bool positions_moved_elsewhere(const std::exception& e);
// Whether one statement can advance all `updates`: at least one, each of
// another partition.
bool positions_fit_one_statement(const std::vector<position_update>& updates);
// "EXECUTE <prepared>(…)" of either prepared statement with `updates`.
std::string execute_positions(const std::string& prepared, const std::vector<position_update>& updates);

// Whether <schema>.offsets exists (a daemon of that schema has started).
bool offsets_table_exists(pqxx::transaction_base& tx, const std::string& schema);

// Every stored position of `group`, by (topic, partition), with when it
// last moved (as PostgreSQL prints a timestamptz).
struct stored_position {
  std::int64_t next = 0;
  std::string updated_at;
};
std::map<std::pair<std::string, std::int32_t>, stored_position> read_group_positions(pqxx::transaction_base& tx,
                                                                                     const std::string& schema,
                                                                                     const std::string& group);

// A stored position moved by an operator (`kafnus positions set`), as
// recorded in <schema>.position_moves beside the move itself.
struct position_move {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t from = -1;  // stored position before the move (-1: none)
  std::int64_t to = 0;
  std::string moved_by;  // who: "<os user>@<host> (database role <role>)"
  std::string reason;    // what the operator said, or why the target was chosen
  std::string moved_at;  // when, as PostgreSQL prints a timestamptz (filled when read)
};

// Moves the stored positions of `group` in one transaction, each row locked
// before it is moved (a daemon committing the same partition waits, then
// finds the new position by its compare-and-set), and records each move in
// <schema>.position_moves (created when missing; when the role may not
// create it the moves are made all the same and `audit_error` says why
// they are not recorded). Fills each move's `from`.
void move_positions(pqxx::connection_base& conn, const std::string& schema, const std::string& group,
                    std::vector<position_move>& moves, std::string& audit_error);

// The last recorded move of a partition of `group` to position `to` (any
// position when `to` is negative); nullopt when there is none or no
// position_moves table.
std::optional<position_move> last_position_move(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& group, const std::string& topic,
                                                std::int32_t partition, std::int64_t to = -1);

}  // namespace kafnus::postgis
