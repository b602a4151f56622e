#pragma once
// The consumer's bookkeeping, without librdkafka: the partitions it owns
// (each with an assignment epoch), where each one's next batch starts (the
// stored position it expects, the offset fetched next), the work in flight,
// and whether consumption must wait or pause. The consumer actor turns its
// answers into librdkafka calls (pause, resume, seek); this class only
// decides, so every rule here is unit-tested without a broker.
//
// The rules it keeps:
//  - Pause state belongs to the assignment: a revoked or lost partition
//    takes its pause and its accounting with it; a new assignment starts
//    unpaused unless the in-flight limits say otherwise.
//  - Work handed over and not yet acknowledged counts against the limits
//    until its acknowledgement arrives, even when its partition was revoked
//    or repositioned meanwhile (the writer may still be retrying it): only
//    the loss of the actors that held it (rewind with work_lost) forgets it.
//  - A batch whose partition was revoked or repositioned while it was being
//    built is dropped (its records are consumed again from the stored
//    position by whoever owns the partition).
//  - Acknowledgements of an older epoch only release their credits.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kafnus::kafka {

using partition_key = std::pair<std::string, std::int32_t>;

// "topic/partition", for logs.
std::string to_string(const partition_key& k);

// A stored position that does not exist yet (the partition was never committed).
inline constexpr std::int64_t kNoStoredPosition = -1;

struct work {
  std::int64_t messages = 0;
  std::int64_t bytes = 0;
  work& operator+=(const work& o) {
    messages += o.messages;
    bytes += o.bytes;
    return *this;
  }
  work& operator-=(const work& o) {
    messages -= o.messages;
    bytes -= o.bytes;
    return *this;
  }
};

struct flight_limits {
  std::int64_t messages = 0;
  std::int64_t bytes = 0;
};

class partition_ledger {
 public:
  using clock = std::chrono::steady_clock;

  struct partition {
    std::uint64_t epoch = 0;
    std::int64_t chain = kNoStoredPosition;  // stored position the next batch expects
    std::int64_t next_fetch = 0;             // records below it were handed over already
    bool stored_known = false;               // its stored position was read (or it had none)
    bool awaiting_position = true;           // not fetching until its position is known
    bool paused = false;                     // paused in librdkafka by the consumer
    work in_flight;
  };

  // Epochs start after `first_epoch`; a consumer that is restarted gives its
  // new ledger a base no acknowledgement of the old one can carry.
  explicit partition_ledger(flight_limits limits, std::uint64_t first_epoch = 0)
      : limits_(limits), next_epoch_(first_epoch) {}

  // ------------------------------------------------------------ assignment
  // A newly assigned partition, waiting for its stored position.
  void assign(const partition_key& k);
  // Its start is known: `stored` (kNoStoredPosition when never committed)
  // and the offset fetching starts at (negative: librdkafka's logical
  // offsets, no record filtered). True when it may fetch now; false when it
  // must stay paused (credits exhausted or draining).
  bool position(const partition_key& k, std::int64_t stored, std::int64_t fetch_from);
  // Revoked or lost: forgotten; its in-flight work stays counted until acked.
  void revoke(const partition_key& k);
  // Back to its stored position (a conflict): new epoch, waiting for the
  // position. True when it was fetching, so it must be paused now.
  bool reposition(const partition_key& k);
  // Every partition back to its stored position (an actor holding work was
  // restarted). `work_lost`: the in-flight work is gone and never acked.
  // Returns the partitions that were fetching (to pause).
  std::vector<partition_key> rewind_all(bool work_lost);
  // Fetching restarts at `offset` (a reset after an out-of-range position).
  void refetch(const partition_key& k, std::int64_t offset);

  // --------------------------------------------------------------- records
  enum class take { yes, unknown, awaiting, duplicate, draining };
  take accept(const partition_key& k, std::int64_t offset);

  // The source of a batch being handed over, built from records accepted
  // under `epoch`. nullopt: the partition was revoked or repositioned since,
  // drop the batch. Otherwise counts the work in flight and moves the chain.
  struct claim {
    std::uint64_t epoch;
    std::int64_t expected;  // stored position before the batch
  };
  std::optional<claim> dispatch(const partition_key& k, std::uint64_t epoch, std::int64_t next_position, const work& w);

  // ------------------------------------------------------------------ acks
  enum class ack_outcome {
    committed,  // counted; its position will be mirrored to Kafka
    conflict,   // another owner moved the position: reposition the partition
    stale,      // of an older epoch or a revoked partition: credits released only
  };
  ack_outcome ack(const partition_key& k, std::uint64_t epoch, std::int64_t next_position, const work& w,
                  bool committed);

  // ------------------------------------------------------- flow control
  enum class poll_action {
    consume,  // poll and take records
    wait,     // out of credits: take nothing for a moment (librdkafka's
              // bounded prefetch stops fetching by itself)
    pause,    // out of credits for long: call pause_for_credits()
  };
  // What the poll loop does now; `long_stall` is how long it may wait
  // before pausing the partitions (so rebalances keep being served).
  poll_action decide(clock::time_point now, clock::duration long_stall);

  // Every fetching partition to pause (credits exhausted for long).
  std::vector<partition_key> pause_for_credits();
  // When credits are back below half the limits: the partitions to resume.
  std::vector<partition_key> resume_if_credited();
  // Stop fetching for good: the partitions to pause.
  std::vector<partition_key> drain();

  bool over_limit() const { return over(total_); }
  bool over_limit_with(const work& extra) const;
  bool credit_paused() const { return credit_paused_; }
  bool draining() const { return draining_; }

  // ------------------------------------------------------------ reporting
  // Committed positions not yet mirrored to Kafka (cleared by the call).
  std::map<partition_key, std::int64_t> take_commits();
  const work& in_flight() const { return total_; }
  const work& orphaned() const { return orphaned_; }
  const partition* find(const partition_key& k) const;
  const std::map<partition_key, partition>& partitions() const { return parts_; }
  int paused_count() const;
  bool any_awaiting() const;
  std::vector<partition_key> awaiting() const;

  // ------------------------------------------- positions moved elsewhere
  // Partitions whose stored position can be compared with what this ledger
  // expects: positioned, fetching or paused, and with nothing in flight (a
  // batch in flight would move the stored position itself; its
  // compare-and-set reports a move when it commits).
  std::vector<partition_key> settled() const;
  // Among `stored` (positions just read for settled partitions), those that
  // moved away from what the next batch expects: someone else (`kafnus
  // positions set`, another owner) wrote them. Partitions without a stored
  // row are not moves (a deleted row is left to the next commit).
  std::vector<partition_key> moved(const std::map<partition_key, std::int64_t>& stored) const;

 private:
  bool over(const work& w) const { return w.messages >= limits_.messages || w.bytes >= limits_.bytes; }
  bool below_resume_mark() const {
    return total_.messages <= limits_.messages / 2 && total_.bytes <= limits_.bytes / 2;
  }
  bool may_fetch() const { return !credit_paused_ && !draining_; }
  // A partition's in-flight work becomes orphaned (still counted in total_).
  void orphan(partition& p);
  // Marks every fetching partition paused; returns them.
  std::vector<partition_key> pause_fetching();

  flight_limits limits_;
  std::map<partition_key, partition> parts_;
  // Work of abandoned epochs still held by processors or the writer, by the
  // epoch it was handed over under (epochs are unique across partitions).
  std::map<std::uint64_t, work> orphans_;
  work orphaned_;  // sum of orphans_
  work total_;     // active + orphaned
  std::map<partition_key, std::int64_t> commits_;
  std::uint64_t next_epoch_ = 0;
  bool credit_paused_ = false;
  bool draining_ = false;
  std::optional<clock::time_point> stalled_since_;
};

}  // namespace kafnus::kafka
