#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/log/event_log.h"
#include "engine/model/instance.h"
#include "engine/projections/stage_stats.h"

namespace expertflow::engine {

// The code version of the instance-view projection. Raise it when evolve or the stored form of a
// state changes: the next start rebuilds every view from the log.
inline constexpr int kInstanceViewsVersion = 2;
// Where the version the stored views were built with is kept (Space::kAnalytics).
inline constexpr std::string_view kInstanceViewsVersionKey = "projection/instance_views/version";
// The seq the stored views cover (Space::kAnalytics, decimal): every event up to it is in them;
// a view may be newer, so a catch-up skips the events a view's version already counts. Absent
// in a store whose views were written with their events (before the views were checkpointed).
inline constexpr std::string_view kInstanceViewsSeqKey = "projection/instance_views/seq";

// The write that records the seq the stored views cover.
KvWrite InstanceViewsCover(std::uint64_t seq);

// Instance states by stream.
using InstanceStates = std::unordered_map<std::string, InstanceState, StreamHash, std::equal_to<>>;

// Replays events 1..to_seq (0: up to the head) through evolve: the instance states, by stream,
// exactly as the live system built them.
Result<InstanceStates> ReplayInstances(const EventLog& log, std::uint64_t to_seq = 0);

// Replays events from_seq..to_seq onto `states` (stored views being caught up), skipping each
// event a state's version already counts: a view written after its checkpoint's seq was taken.
// `applied`, when given, hears the stream of every event applied.
Result<void> ReplayOnto(const EventLog& log, std::uint64_t from_seq, std::uint64_t to_seq,
                        InstanceStates& states,
                        const std::function<void(const std::string&)>& applied = nullptr);

// Every projection rebuilt in memory from the same events (up to the head when called): the
// instance states with the text of their stored views, and, when `stages` is given (fresh), the
// stage statistics. The stage statistics replay on a second thread, side by side with the states:
// the two share nothing but the log, and a rebuild is bound by the CPU, not the disk, so on two
// cores it takes about as long as the longer of the two (benchmarks/README.md).
struct RebuiltProjections {
  std::uint64_t events = 0;
  InstanceStates states;
  std::vector<std::pair<std::string_view, std::string>> views;  // (a key of states, its view)
};
Result<RebuiltProjections> RebuildInMemory(const EventLog& log, StageStatistics* stages);

struct RebuildReport {
  std::uint64_t events = 0;
  std::uint64_t instances = 0;
  std::uint64_t views_changed = 0;  // stored view differed (or was missing)
  std::uint64_t views_removed = 0;  // stored view had no instance in the log
};

// Rebuilds the instance views and the timer index from the log into fresh state and swaps them
// in with one atomic write (`expertflow rebuild`, and a start after kInstanceViewsVersion
// changed); with `stages` (fresh), the stage statistics too, replacing what was stored of them
// in a second atomic write. Must not run beside a sequencer writing to the same log.
Result<RebuildReport> RebuildInstanceViews(EventLog& log, StageStatistics* stages = nullptr);

// The keys of an instance's stored view and of one entry of the due-time index.
std::string ViewKey(std::string_view stream);
std::string TimerIndexKey(Timestamp due, std::string_view stream, std::string_view name);

}  // namespace expertflow::engine
