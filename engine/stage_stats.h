#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/directory.h"
#include "engine/event_log.h"
#include "engine/instance.h"
#include "engine/workflow.h"

namespace expertflow::engine {

// IRPO's stage monitoring (API.md, Monitoring): an analytics projection that follows the log and
// keeps every stay of every instance in a stage — when it entered, when it left — with the groups
// the instance belongs to (UMC, industry, federal district). Queries are exact: percentiles are
// computed from the stays themselves, not from a sketch.
class StageStatistics {
 public:
  StageStatistics(const DefinitionSet& definitions, const Directory& directory)
      : definitions_(definitions), directory_(directory) {}

  // Reads the log from the last applied event up to the head. Thread-safe.
  Result<void> CatchUp(const EventLog& log);

  // The projection's state and checkpoint in Space::kAnalytics, written incrementally (the stays
  // added or closed since the last save) in one atomic write with the checkpoint, and read back
  // at start so a restart catches up from there instead of from the first event. Load starts
  // afresh when nothing was saved or the stored version is not kStageStatisticsVersion.
  Result<void> Save(EventLog& log);
  Result<void> Load(const EventLog& log);
  std::uint64_t checkpoint() const;

  struct Query {
    std::string workflow;
    std::optional<Timestamp> from;  // window [from, to)
    std::optional<Timestamp> to;
    std::string group_by;  // "", "umc", "industry", "federal_district"
  };
  // Per stage of the workflow, in definition order: entered, exited, wip (= entered - exited in
  // the window), overdue (instances in the stage now with a deadline passed), time in stage in
  // hours (p50, p90, max over stays that ended in the window), throughput per ISO week (Moscow).
  // `current` supplies the live instances for the overdue count.
  nlohmann::json Stages(const Query& query, const std::vector<InstanceState>& current) const;

 private:
  struct Stay {
    std::string stream;
    std::string stage;
    Timestamp entered{};
    std::optional<Timestamp> exited;
    std::uint32_t groups = 0;   // index into groups_
    std::uint32_t version = 0;  // the instance's workflow version
  };
  struct Open {
    std::string workflow;
    std::uint32_t version = 0;
    std::size_t stay = 0;  // index of its open stay in stays_ of its workflow
  };
  struct Groups {
    std::string umc, industry, federal_district;
  };

  void Apply(const RecordView& e);
  Groups GroupsOf(const Participants& participants) const;

  const DefinitionSet& definitions_;
  const Directory& directory_;
  mutable std::mutex mu_;
  std::uint64_t checkpoint_ = 0;
  std::map<std::string, std::vector<Stay>, std::less<>> stays_;              // by workflow
  std::unordered_map<std::string, Open, StreamHash, std::equal_to<>> open_;  // by stream
  std::vector<Groups> groups_;
  std::vector<std::pair<std::string, std::size_t>> dirty_;  // (workflow, stay) changed since Save
  std::size_t groups_saved_ = 0;
  std::uint64_t saved_checkpoint_ = 0;
};

// Raise when the stored form of the stage statistics changes: the next start replays the log.
inline constexpr int kStageStatisticsVersion = 1;

// The executive discipline of protocol assignments (seed 003, «исполнительская дисциплина»): per
// assignee, from the live instances.
nlohmann::json Discipline(const std::vector<InstanceState>& assignments,
                          const std::string& protocol, std::optional<Timestamp> from,
                          std::optional<Timestamp> to);

}  // namespace expertflow::engine
