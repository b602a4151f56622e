#include "kafka/partition_ledger.hpp"

#include <algorithm>

namespace kafnus::kafka {

std::string to_string(const partition_key& k) { return k.first + "/" + std::to_string(k.second); }

void partition_ledger::assign(const partition_key& k) {
  auto& p = parts_[k];
  orphan(p);  // assigned again without a revoke in between: a new assignment all the same
  p = partition{};
  p.epoch = ++next_epoch_;
  p.paused = true;  // until its position is known
}

bool partition_ledger::position(const partition_key& k, std::int64_t stored, std::int64_t fetch_from) {
  auto it = parts_.find(k);
  if (it == parts_.end()) return false;
  auto& p = it->second;
  p.stored_known = true;
  p.chain = stored;
  p.next_fetch = std::max<std::int64_t>(fetch_from, 0);
  p.awaiting_position = false;
  p.paused = !may_fetch();
  return !p.paused;
}

void partition_ledger::revoke(const partition_key& k) {
  auto it = parts_.find(k);
  if (it == parts_.end()) return;
  orphan(it->second);
  parts_.erase(it);
  commits_.erase(k);
}

bool partition_ledger::reposition(const partition_key& k) {
  auto it = parts_.find(k);
  if (it == parts_.end()) return false;
  auto& p = it->second;
  orphan(p);
  p.epoch = ++next_epoch_;
  p.awaiting_position = true;
  const bool was_fetching = !p.paused;
  p.paused = true;
  return was_fetching;
}

std::vector<partition_key> partition_ledger::rewind_all(bool work_lost) {
  std::vector<partition_key> to_pause;
  for (auto& [k, p] : parts_) {
    if (reposition(k)) to_pause.push_back(k);
  }
  if (work_lost) {
    total_ -= orphaned_;
    orphaned_ = work{};
    orphans_.clear();
  }
  return to_pause;
}

void partition_ledger::refetch(const partition_key& k, std::int64_t offset) {
  auto it = parts_.find(k);
  if (it != parts_.end()) it->second.next_fetch = std::max<std::int64_t>(offset, 0);
}

partition_ledger::take partition_ledger::accept(const partition_key& k, std::int64_t offset) {
  if (draining_) return take::draining;
  auto it = parts_.find(k);
  if (it == parts_.end()) return take::unknown;
  auto& p = it->second;
  if (p.awaiting_position) return take::awaiting;
  if (offset < p.next_fetch) return take::duplicate;  // already handed over (a seek raced a prefetch)
  p.next_fetch = offset + 1;
  return take::yes;
}

std::optional<partition_ledger::claim> partition_ledger::dispatch(const partition_key& k, std::uint64_t epoch,
                                                                  std::int64_t next_position, const work& w) {
  auto it = parts_.find(k);
  if (it == parts_.end() || it->second.epoch != epoch) return std::nullopt;
  auto& p = it->second;
  claim c{p.epoch, p.chain};
  p.chain = next_position;
  p.in_flight += w;
  total_ += w;
  return c;
}

partition_ledger::ack_outcome partition_ledger::ack(const partition_key& k, std::uint64_t epoch,
                                                    std::int64_t next_position, const work& w, bool committed) {
  auto it = parts_.find(k);
  if (it != parts_.end() && it->second.epoch == epoch) {
    auto& p = it->second;
    p.in_flight -= w;
    total_ -= w;
    if (!committed) return ack_outcome::conflict;
    auto& c = commits_[k];
    c = std::max(c, next_position);
    return ack_outcome::committed;
  }
  auto o = orphans_.find(epoch);
  if (o != orphans_.end()) {
    o->second -= w;
    orphaned_ -= w;
    total_ -= w;
    if (o->second.messages <= 0 && o->second.bytes <= 0) orphans_.erase(o);
  }
  return ack_outcome::stale;
}

partition_ledger::poll_action partition_ledger::decide(clock::time_point now, clock::duration long_stall) {
  if (draining_ || credit_paused_ || !over(total_)) {
    stalled_since_.reset();
    return poll_action::consume;
  }
  if (!stalled_since_) stalled_since_ = now;
  return now - *stalled_since_ < long_stall ? poll_action::wait : poll_action::pause;
}

std::vector<partition_key> partition_ledger::pause_for_credits() {
  credit_paused_ = true;
  return pause_fetching();
}

std::vector<partition_key> partition_ledger::resume_if_credited() {
  std::vector<partition_key> out;
  if (!credit_paused_ || !below_resume_mark()) return out;
  credit_paused_ = false;
  if (draining_) return out;
  for (auto& [k, p] : parts_) {
    if (p.paused && !p.awaiting_position) {
      p.paused = false;
      out.push_back(k);
    }
  }
  return out;
}

std::vector<partition_key> partition_ledger::drain() {
  draining_ = true;
  return pause_fetching();
}

std::vector<partition_key> partition_ledger::pause_fetching() {
  stalled_since_.reset();
  std::vector<partition_key> out;
  for (auto& [k, p] : parts_) {
    if (!p.paused) {
      p.paused = true;
      out.push_back(k);
    }
  }
  return out;
}

bool partition_ledger::over_limit_with(const work& extra) const {
  work w = total_;
  w += extra;
  return over(w);
}

std::map<partition_key, std::int64_t> partition_ledger::take_commits() {
  std::map<partition_key, std::int64_t> out;
  out.swap(commits_);
  return out;
}

const partition_ledger::partition* partition_ledger::find(const partition_key& k) const {
  auto it = parts_.find(k);
  return it == parts_.end() ? nullptr : &it->second;
}

int partition_ledger::paused_count() const {
  return static_cast<int>(std::count_if(parts_.begin(), parts_.end(), [](const auto& e) { return e.second.paused; }));
}

bool partition_ledger::any_awaiting() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const auto& e) { return e.second.awaiting_position; });
}

std::vector<partition_key> partition_ledger::awaiting() const {
  std::vector<partition_key> out;
  for (const auto& [k, p] : parts_) {
    if (p.awaiting_position) out.push_back(k);
  }
  return out;
}

void partition_ledger::orphan(partition& p) {
  if (p.in_flight.messages == 0 && p.in_flight.bytes == 0) return;
  orphans_[p.epoch] += p.in_flight;
  orphaned_ += p.in_flight;
  p.in_flight = work{};
}

std::vector<partition_key> partition_ledger::settled() const {
  std::vector<partition_key> out;
  if (draining_) return out;
  for (const auto& [k, p] : parts_) {
    if (p.stored_known && !p.awaiting_position && p.in_flight.messages <= 0 && p.in_flight.bytes <= 0) {
      out.push_back(k);
    }
  }
  return out;
}

std::vector<partition_key> partition_ledger::moved(const std::map<partition_key, std::int64_t>& stored) const {
  std::vector<partition_key> out;
  for (const auto& k : settled()) {
    const auto s = stored.find(k);
    if (s != stored.end() && s->second != parts_.at(k).chain) out.push_back(k);
  }
  return out;
}

}  // namespace kafnus::kafka
