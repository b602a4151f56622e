// The consumer's per-partition ledger: epochs, chains, credits, pause state.

#include <gtest/gtest.h>

#include "kafka/partition_ledger.hpp"

using kafnus::kafka::flight_limits;
using kafnus::kafka::kNoStoredPosition;
using kafnus::kafka::partition_key;
using kafnus::kafka::partition_ledger;
using kafnus::kafka::work;
using namespace std::chrono_literals;

namespace {

const partition_key kA{"topic", 0};
const partition_key kB{"topic", 1};

// Accepts records [from, to) of a partition and dispatches them as one batch.
std::optional<partition_ledger::claim> hand_over(partition_ledger& l, const partition_key& k, std::int64_t from,
                                                 std::int64_t to, std::int64_t bytes_each = 10) {
  const auto epoch = l.find(k)->epoch;
  for (auto o = from; o < to; ++o) EXPECT_EQ(l.accept(k, o), partition_ledger::take::yes) << o;
  return l.dispatch(k, epoch, to, work{to - from, (to - from) * bytes_each});
}

partition_ledger positioned(std::int64_t stored = 0, flight_limits lim = {100, 1'000'000}) {
  partition_ledger l(lim);
  l.assign(kA);
  EXPECT_TRUE(l.position(kA, stored, stored));
  return l;
}

}  // namespace

TEST(PartitionLedger, APartitionWaitsForItsPositionThenChainsBatches) {
  partition_ledger l({100, 1'000'000});
  l.assign(kA);
  EXPECT_TRUE(l.find(kA)->awaiting_position);
  EXPECT_TRUE(l.find(kA)->paused);
  EXPECT_EQ(l.accept(kA, 0), partition_ledger::take::awaiting);
  ASSERT_TRUE(l.position(kA, 7, 7));
  EXPECT_FALSE(l.find(kA)->paused);
  EXPECT_EQ(l.accept(kA, 6), partition_ledger::take::duplicate);
  auto first = hand_over(l, kA, 7, 10);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->expected, 7);
  auto second = hand_over(l, kA, 10, 12);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->expected, 10) << "each batch expects the position the previous one moves to";
  EXPECT_EQ(l.in_flight().messages, 5);
}

TEST(PartitionLedger, ANeverCommittedPartitionExpectsNoStoredPosition) {
  partition_ledger l({100, 1'000'000});
  l.assign(kA);
  ASSERT_TRUE(l.position(kA, kNoStoredPosition, -2 /* OFFSET_BEGINNING */));
  EXPECT_EQ(l.find(kA)->next_fetch, 0);
  auto c = hand_over(l, kA, 0, 3);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->expected, kNoStoredPosition);
}

TEST(PartitionLedger, CommittedAcksReleaseCreditsAndQueueTheKafkaCommit) {
  auto l = positioned();
  auto c = hand_over(l, kA, 0, 4);
  EXPECT_EQ(l.ack(kA, c->epoch, 4, work{4, 40}, true), partition_ledger::ack_outcome::committed);
  EXPECT_EQ(l.in_flight().messages, 0);
  EXPECT_EQ(l.in_flight().bytes, 0);
  auto commits = l.take_commits();
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[kA], 4);
  EXPECT_TRUE(l.take_commits().empty());
}

TEST(PartitionLedger, AConflictRepositionsAndLaterAcksOfThatEpochOnlyReleaseCredits) {
  auto l = positioned();
  auto a = hand_over(l, kA, 0, 4);
  auto b = hand_over(l, kA, 4, 6);
  ASSERT_EQ(l.ack(kA, a->epoch, 4, work{4, 40}, false), partition_ledger::ack_outcome::conflict);
  EXPECT_TRUE(l.reposition(kA)) << "it was fetching: the consumer must pause it";
  EXPECT_TRUE(l.find(kA)->awaiting_position);
  EXPECT_NE(l.find(kA)->epoch, a->epoch);
  EXPECT_EQ(l.in_flight().messages, 2) << "batch b is still held by the writer";
  EXPECT_EQ(l.orphaned().messages, 2);
  EXPECT_EQ(l.ack(kA, b->epoch, 6, work{2, 20}, true), partition_ledger::ack_outcome::stale);
  EXPECT_EQ(l.in_flight().messages, 0);
  EXPECT_EQ(l.orphaned().messages, 0);
  EXPECT_TRUE(l.take_commits().empty()) << "a stale ack is not mirrored to Kafka";
}

TEST(PartitionLedger, ABatchOfARevokedPartitionIsDropped) {
  auto l = positioned();
  const auto epoch = l.find(kA)->epoch;
  ASSERT_EQ(l.accept(kA, 0), partition_ledger::take::yes);
  l.revoke(kA);  // the rebalance callback ran inside poll()
  EXPECT_FALSE(l.dispatch(kA, epoch, 1, work{1, 10}));
  EXPECT_EQ(l.in_flight().messages, 0);
  // Assigned again within the same poll: a new epoch, the old batch is still dropped.
  l.assign(kA);
  l.position(kA, 0, 0);
  EXPECT_FALSE(l.dispatch(kA, epoch, 1, work{1, 10}));
  EXPECT_EQ(l.accept(kA, 99), partition_ledger::take::yes);
  EXPECT_EQ(l.accept({"other", 0}, 0), partition_ledger::take::unknown);
}

TEST(PartitionLedger, WorkOfARevokedPartitionCountsUntilItsAckArrives) {
  auto l = positioned(0, {10, 1'000'000});
  auto c = hand_over(l, kA, 0, 10);
  EXPECT_TRUE(l.over_limit());
  l.revoke(kA);
  EXPECT_TRUE(l.over_limit()) << "the writer still holds those rows: memory is still taken";
  EXPECT_EQ(l.ack(kA, c->epoch, 10, work{10, 100}, true), partition_ledger::ack_outcome::stale);
  EXPECT_FALSE(l.over_limit());
}

TEST(PartitionLedger, PauseStateBelongsToTheAssignment) {
  // Issue 17.1: paused for credits, then every partition is lost; the acks
  // of the lost assignment arrive; the partitions come back: they fetch.
  auto l = positioned(0, {10, 1'000'000});
  l.assign(kB);
  l.position(kB, 0, 0);
  auto a = hand_over(l, kA, 0, 6);
  auto b = hand_over(l, kB, 0, 6);
  const auto t0 = partition_ledger::clock::now();
  EXPECT_EQ(l.decide(t0, 10s), partition_ledger::poll_action::wait);
  EXPECT_EQ(l.decide(t0 + 11s, 10s), partition_ledger::poll_action::pause);
  EXPECT_EQ(l.pause_for_credits().size(), 2u);
  EXPECT_TRUE(l.credit_paused());
  l.revoke(kA);
  l.revoke(kB);
  EXPECT_TRUE(l.resume_if_credited().empty());
  EXPECT_TRUE(l.credit_paused()) << "the lost work is still in flight";
  l.ack(kA, a->epoch, 6, work{6, 60}, true);
  l.ack(kB, b->epoch, 6, work{6, 60}, true);
  EXPECT_TRUE(l.resume_if_credited().empty()) << "nothing assigned to resume";
  EXPECT_FALSE(l.credit_paused()) << "credits are back: the pause ends with them";
  l.assign(kA);
  EXPECT_TRUE(l.position(kA, 6, 6)) << "a new assignment starts unpaused";
  EXPECT_EQ(l.decide(t0 + 20s, 10s), partition_ledger::poll_action::consume);
}

TEST(PartitionLedger, ANewAssignmentStaysPausedWhileTheLimitsSaySo) {
  auto l = positioned(0, {10, 1'000'000});
  auto a = hand_over(l, kA, 0, 10);
  l.pause_for_credits();
  l.revoke(kA);
  l.assign(kB);
  EXPECT_FALSE(l.position(kB, 0, 0)) << "the in-flight bound holds whoever owns the work";
  EXPECT_TRUE(l.find(kB)->paused);
  l.ack(kA, a->epoch, 10, work{10, 100}, true);
  auto resumed = l.resume_if_credited();
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0], kB);
  EXPECT_FALSE(l.find(kB)->paused);
}

TEST(PartitionLedger, CreditsResumeOnlyBelowHalfTheLimits) {
  auto l = positioned(0, {10, 1'000'000});
  auto a = hand_over(l, kA, 0, 4);
  auto b = hand_over(l, kA, 4, 10);
  l.pause_for_credits();
  l.ack(kA, a->epoch, 4, work{4, 40}, true);
  EXPECT_TRUE(l.resume_if_credited().empty()) << "6 of 10 in flight: above the resume mark";
  l.ack(kA, b->epoch, 10, work{6, 60}, true);
  EXPECT_EQ(l.resume_if_credited().size(), 1u);
}

TEST(PartitionLedger, AStallThatEndsBeforeTheLongStallNeverPauses) {
  auto l = positioned(0, {10, 1'000'000});
  auto a = hand_over(l, kA, 0, 10);
  const auto t0 = partition_ledger::clock::now();
  EXPECT_EQ(l.decide(t0, 10s), partition_ledger::poll_action::wait);
  EXPECT_EQ(l.decide(t0 + 5s, 10s), partition_ledger::poll_action::wait);
  l.ack(kA, a->epoch, 10, work{10, 100}, true);
  EXPECT_EQ(l.decide(t0 + 6s, 10s), partition_ledger::poll_action::consume);
  // A new stall starts its own clock.
  hand_over(l, kA, 10, 20);
  EXPECT_EQ(l.decide(t0 + 17s, 10s), partition_ledger::poll_action::wait);
}

TEST(PartitionLedger, BytesCountLikeMessages) {
  auto l = positioned(0, {1000, 100});
  hand_over(l, kA, 0, 2, 50);
  EXPECT_TRUE(l.over_limit());
  EXPECT_TRUE(positioned(0, {1000, 100}).over_limit_with(work{1, 100}));
  EXPECT_FALSE(positioned(0, {1000, 100}).over_limit_with(work{1, 99}));
}

TEST(PartitionLedger, RewindAfterLostWorkForgetsItAndRepositionsEveryPartition) {
  auto l = positioned(0, {10, 1'000'000});
  l.assign(kB);
  l.position(kB, 0, 0);
  auto a = hand_over(l, kA, 0, 5);
  hand_over(l, kB, 0, 5);
  l.pause_for_credits();
  EXPECT_TRUE(l.rewind_all(true).empty()) << "all were paused already";
  EXPECT_EQ(l.in_flight().messages, 0);
  EXPECT_TRUE(l.find(kA)->awaiting_position);
  EXPECT_TRUE(l.find(kB)->awaiting_position);
  // A late ack of the lost work must not drive the count below zero.
  EXPECT_EQ(l.ack(kA, a->epoch, 5, work{5, 50}, true), partition_ledger::ack_outcome::stale);
  EXPECT_EQ(l.in_flight().messages, 0);
  EXPECT_TRUE(l.resume_if_credited().empty()) << "awaiting partitions resume when positioned";
  EXPECT_FALSE(l.credit_paused());
}

TEST(PartitionLedger, RewindWithoutLostWorkKeepsCountingIt) {
  auto l = positioned(0, {10, 1'000'000});
  auto a = hand_over(l, kA, 0, 5);
  EXPECT_EQ(l.rewind_all(false).size(), 1u);
  EXPECT_EQ(l.in_flight().messages, 5);
  l.ack(kA, a->epoch, 5, work{5, 50}, true);
  EXPECT_EQ(l.in_flight().messages, 0);
}

TEST(PartitionLedger, DrainPausesEverythingAndTakesNoMoreRecords) {
  auto l = positioned();
  l.assign(kB);
  auto to_pause = l.drain();
  EXPECT_EQ(to_pause.size(), 1u) << "kB was already paused while awaiting its position";
  EXPECT_EQ(l.accept(kA, 0), partition_ledger::take::draining);
  EXPECT_FALSE(l.position(kB, 0, 0)) << "no partition starts fetching while draining";
  EXPECT_EQ(l.decide(partition_ledger::clock::now(), 10s), partition_ledger::poll_action::consume);
}

TEST(PartitionLedger, RefetchMovesTheFilterNotTheChain) {
  auto l = positioned(20);
  l.refetch(kA, 0);  // the topic was re-created: its records start at 0 again
  auto c = hand_over(l, kA, 0, 3);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->expected, 20) << "the stored position is still 20: the compare-and-set must expect it";
}

TEST(PartitionLedger, PausedCountAndAwaitingList) {
  auto l = positioned();
  l.assign(kB);
  EXPECT_EQ(l.paused_count(), 1);
  EXPECT_TRUE(l.any_awaiting());
  ASSERT_EQ(l.awaiting().size(), 1u);
  EXPECT_EQ(l.awaiting()[0], kB);
  EXPECT_EQ(kafnus::kafka::to_string(kB), "topic/1");
}

TEST(PartitionLedger, OnlyPositionedPartitionsWithNothingInFlightAreComparedWithTheStore) {
  auto l = positioned(100);
  l.assign(kB);  // still waiting for its position
  EXPECT_EQ(l.settled(), std::vector<partition_key>{kA});
  ASSERT_TRUE(hand_over(l, kA, 100, 110));
  EXPECT_TRUE(l.settled().empty()) << "a batch in flight moves the stored position itself";
  const auto epoch = l.find(kA)->epoch;
  l.ack(kA, epoch, 110, work{10, 100}, true);
  EXPECT_EQ(l.settled(), std::vector<partition_key>{kA});
  l.drain();
  EXPECT_TRUE(l.settled().empty()) << "a draining consumer repositions nothing";
}

TEST(PartitionLedger, AStoredPositionOtherThanTheChainIsAMove) {
  auto l = positioned(100);
  ASSERT_TRUE(hand_over(l, kA, 100, 110));
  l.ack(kA, l.find(kA)->epoch, 110, work{10, 100}, true);
  EXPECT_TRUE(l.moved({{kA, 110}}).empty()) << "its own commit";
  EXPECT_TRUE(l.moved({}).empty()) << "a deleted row is not a move";
  EXPECT_EQ(l.moved({{kA, 40}}), std::vector<partition_key>{kA}) << "rewound by an operator";
  EXPECT_EQ(l.moved({{kA, 5000}}), std::vector<partition_key>{kA}) << "moved forward";
  ASSERT_TRUE(hand_over(l, kA, 110, 120));
  EXPECT_TRUE(l.moved({{kA, 40}}).empty()) << "in flight: its compare-and-set will tell";
}

TEST(PartitionLedger, ANeverCommittedPartitionGivenAPositionHasMoved) {
  partition_ledger l({100, 1'000'000});
  l.assign(kA);
  l.position(kA, kNoStoredPosition, 0);
  EXPECT_TRUE(l.moved({}).empty());
  EXPECT_EQ(l.moved({{kA, 0}}), std::vector<partition_key>{kA});
}
