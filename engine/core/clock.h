#pragma once

#include <atomic>
#include <chrono>

#include "engine/core/time.h"

namespace expertflow::engine {

// Where business time comes from (DESIGN.md): the system clock in production, a manual one that
// tests (and `serve --clock manual`) move forward.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
  // True when time moves only when told to: the sequencer then fires timers on request only.
  virtual bool IsManual() const { return false; }
  // Moves a clock that can be moved to `t` when it stands before it (the sequencer, at start, to
  // the last event's time: business time never goes backwards across a restart). The system
  // clock cannot be moved; the sequencer never decides before its last event's time instead.
  virtual void NotBefore(Timestamp t) {}
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start.time_since_epoch().count()) {}
  Timestamp Now() const override { return Timestamp(Duration(now_.load())); }
  bool IsManual() const override { return true; }
  void Set(Timestamp t) { now_.store(t.time_since_epoch().count()); }
  void Advance(Duration d) { now_.fetch_add(d.count()); }
  void NotBefore(Timestamp t) override {
    auto want = t.time_since_epoch().count();
    auto have = now_.load();
    while (have < want && !now_.compare_exchange_weak(have, want)) {
    }
  }

 private:
  std::atomic<Duration::rep> now_;
};

}  // namespace expertflow::engine
