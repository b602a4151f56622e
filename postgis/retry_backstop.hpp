#pragma once
// The backstop of the retry policy (pure): a transaction that keeps failing
// the same way without the connection being lost — an unknown failure
// (no SQLSTATE) or a data error outside what the writer isolates — is
// retried as a whole a few times, then written in isolating mode with
// unknown failures treated as data errors, so that no unforeseen error can
// stall every flow forever.

namespace kafnus::postgis {

class retry_backstop {
 public:
  static constexpr int kFailuresBeforeIsolating = 3;

  // A failure of the current transaction; `transient`: a known transient
  // one (lost connection, serialization failure, shutdown, …), which never
  // counts.
  void on_failure(bool transient) {
    if (!transient) ++failures_;
  }
  // Whether the current transaction is to be written isolating unknown failures.
  bool isolate() const { return failures_ >= kFailuresBeforeIsolating; }
  // The transaction committed, or changed (shrunk): start over.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  int failures_ = 0;
};

}  // namespace kafnus::postgis
