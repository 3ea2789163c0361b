#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/event_log.h"
#include "engine/instance.h"

namespace expertflow::engine {

// The code version of the instance-view projection. Raise it when evolve or the stored form of a
// state changes: the next start rebuilds every view from the log.
inline constexpr int kInstanceViewsVersion = 1;
// Where the version the stored views were built with is kept (Space::kAnalytics).
inline constexpr std::string_view kInstanceViewsVersionKey = "projection/instance_views/version";

// Instance states by stream.
using InstanceStates = std::unordered_map<std::string, InstanceState, StreamHash, std::equal_to<>>;

// Replays the whole log through evolve: the instance states, by stream, exactly as the live
// system built them.
Result<InstanceStates> ReplayInstances(const EventLog& log);

struct RebuildReport {
  std::uint64_t events = 0;
  std::uint64_t instances = 0;
  std::uint64_t views_changed = 0;  // stored view differed (or was missing)
  std::uint64_t views_removed = 0;  // stored view had no instance in the log
};

// Rebuilds the instance views and the timer index from the log into fresh state and swaps them
// in with one atomic write (`expertflow rebuild`, and a start after kInstanceViewsVersion
// changed). Must not run beside a sequencer writing to the same log.
Result<RebuildReport> RebuildInstanceViews(EventLog& log);

// The keys of the inline projection: an instance's view, and one entry of the due-time index.
std::string ViewKey(std::string_view stream);
std::string TimerIndexKey(Timestamp due, std::string_view stream, std::string_view name);

}  // namespace expertflow::engine
