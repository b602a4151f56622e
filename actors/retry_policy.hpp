#pragma once
// The retry policy of transient failures: capped exponential backoff, with
// no limit on the number of attempts (nothing is ever dropped because the
// database was away for long).

#include <algorithm>
#include <chrono>

namespace kafnus {

class retry_policy {
 public:
  retry_policy(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}

  // The wait before the next attempt; each call doubles it up to the cap.
  std::chrono::milliseconds next() {
    auto wait = current_.count() == 0 ? initial_ : std::min(current_ * 2, max_);
    current_ = wait;
    ++failures_;
    return wait;
  }
  void reset() {
    current_ = std::chrono::milliseconds(0);
    failures_ = 0;
  }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_{0};
  int failures_ = 0;
};

}  // namespace kafnus
