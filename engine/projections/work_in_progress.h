#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "engine/model/instance.h"
#include "engine/model/workflow.h"

namespace expertflow::engine {

// How many instances of a workflow are in one of its stages now, and how many of those are
// overdue (a deadline passed while they are still running).
struct StageLoad {
  std::int64_t wip = 0;
  std::int64_t overdue = 0;
  friend bool operator==(const StageLoad&, const StageLoad&) = default;
};

// The work in progress of every workflow by stage, as the gauges of /metrics show it: instances
// in a state that is not terminal, counted in the stage of that state (in the definition version
// the instance pins), and of those the ones with an overdue deadline, as the overdue column of
// the stage statistics counts them. Reference data (organisations, groups) is left out. Kept up to
// date one instance at a time (Remove the state an instance leaves, Add the one it enters), so
// reading it never visits every instance. Not thread-safe: its owner locks.
class WorkInProgress {
 public:
  using Key = std::pair<std::string, std::string>;  // workflow, stage

  // Starts with a zero for every stage that has a running state in the latest version of each
  // workflow, so that a series exists before its first instance does.
  explicit WorkInProgress(const DefinitionSet& definitions);

  void Add(const InstanceState& state) { Count(state, +1); }
  void Remove(const InstanceState& state) { Count(state, -1); }

  const std::map<Key, StageLoad>& stages() const { return stages_; }

 private:
  void Count(const InstanceState& state, int sign);

  const DefinitionSet& definitions_;
  std::map<Key, StageLoad> stages_;
};

}  // namespace expertflow::engine
