#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/log/event_log.h"
#include "engine/model/directory.h"
#include "engine/model/instance.h"
#include "engine/model/workflow.h"

namespace expertflow::engine {

// IRPO's stage monitoring (API.md, Monitoring): an analytics projection that follows the log and
// keeps every stay of every instance in a stage — when it entered, when it left — with the groups
// the instance belongs to (UMC, industry, region, federal district). Queries are exact: percentiles
// are computed from the stays themselves, not from a sketch.
class StageStatistics {
 public:
  StageStatistics(const DefinitionSet& definitions, const Directory& directory)
      : definitions_(definitions), directory_(directory) {}

  // Reads the log from the last applied event up to `to_seq` (0: the head). Thread-safe.
  Result<void> CatchUp(const EventLog& log, std::uint64_t to_seq = 0);
  // Applies the record of event `seq`, which must be the one after checkpoint(): for a rebuild
  // that reads the log once for every projection (RebuildInMemory). Thread-safe.
  Result<void> ApplyNext(std::uint64_t seq, std::string_view record, RecordReader& reader);

  // The projection's state and checkpoint in Space::kAnalytics, written incrementally (the stays
  // added or closed since the last save) in one atomic write with the checkpoint, and read back
  // at start so a restart catches up from there instead of from the first event. Load starts
  // afresh when nothing was saved or the stored version is not kStageStatisticsVersion.
  Result<void> Save(EventLog& log);
  Result<void> Load(const EventLog& log);
  // Save for a rebuild: writes the whole projection and deletes every other key stored under it
  // (what an older version of the projection left), in one atomic write.
  Result<void> SaveReplacing(EventLog& log);
  std::uint64_t checkpoint() const;

  struct Query {
    std::string workflow;
    std::optional<Timestamp> from;  // window [from, to)
    std::optional<Timestamp> to;
    std::string group_by;  // "", "umc", "industry", "region", "federal_district"
  };
  // Per stage of the workflow, in definition order: entered, exited, wip (= entered - exited in
  // the window), overdue (instances in the stage now with a deadline passed), time in stage in
  // hours (p50, p90, max over stays that ended in the window), throughput per ISO week (Moscow).
  // `current` supplies the live instances for the overdue count.
  nlohmann::json Stages(const Query& query, const std::vector<InstanceState>& current) const;

 private:
  // A rebuild from 1M events makes ~600k stays, so a stay holds indexes, not strings: its stream
  // in streams_, its stage in stage_names_ (issue 5's rebuild speed is mostly allocation).
  struct Stay {
    std::uint32_t stream = 0;
    std::uint32_t stage = 0;
    std::uint32_t groups = 0;   // index into groups_
    std::uint32_t version = 0;  // the instance's workflow version
    Timestamp entered{};
    std::optional<Timestamp> exited;
  };
  using StayList = std::vector<Stay>;
  struct Open {
    const std::string* workflow = nullptr;  // a key of stays_ (std::map nodes do not move)
    StayList* stays = nullptr;              // its value
    const Definition* definition = nullptr;
    std::uint32_t version = 0;
    std::uint32_t stream = 0;
    std::size_t stay = 0;  // index of its open stay in *stays
  };
  struct Groups {
    std::string umc, industry, federal_district, region;
  };

  void Apply(const RecordView& e);
  AppendBatch SaveBatch() const;  // the dirty stays, the unsaved groups and the checkpoint
  void MarkSaved();
  Groups GroupsOf(const Participants& participants) const;
  std::uint32_t StageIndex(std::string_view stage);
  Open& OpenStream(std::string_view stream, std::string_view workflow, std::uint32_t version);

  const DefinitionSet& definitions_;
  const Directory& directory_;
  mutable std::mutex mu_;
  std::uint64_t checkpoint_ = 0;
  std::map<std::string, StayList, std::less<>> stays_;  // by workflow
  std::deque<std::string> streams_;                     // a deque: open_'s keys view into it
  std::unordered_map<std::string_view, Open, StreamHash> open_;  // by stream
  std::vector<std::string> stage_names_;
  std::unordered_map<std::string, std::uint32_t, StreamHash, std::equal_to<>> stage_index_;
  // The distinct groups (UMC, industry, district, region): instances share them, so a group is
  // stored once and stays point at it (issue 19: one a stream held ~8 MB at 1M events). A store
  // saved before keeps its one-a-stream list; what is added from then on is shared.
  std::vector<Groups> groups_;
  std::unordered_map<std::string, std::uint32_t> group_index_;  // GroupKey -> index in groups_
  static std::string GroupKey(const Groups& g);
  std::uint32_t InternGroups(Groups g);
  std::vector<std::pair<const std::string*, std::size_t>> dirty_;  // (workflow, stay) since Save
  std::size_t groups_saved_ = 0;
  std::uint64_t saved_checkpoint_ = 0;
};

// Raise when the stored form of the stage statistics changes: the next start replays the log.
// 2: a group holds the region too.
inline constexpr int kStageStatisticsVersion = 2;

}  // namespace expertflow::engine
