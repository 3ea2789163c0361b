#include "engine/projections/rebuild.h"

#include <algorithm>
#include <thread>
#include <unordered_map>

namespace expertflow::engine {
namespace {

constexpr std::size_t kPage = 4096;

// Every key of `space` that starts with `prefix`.
Result<std::map<std::string, std::string>> ScanAll(const EventLog& log, Space space,
                                                   std::string_view prefix) {
  std::map<std::string, std::string> out;
  std::string from(prefix);
  while (true) {
    auto page = log.Scan(space, from, "", kPage);
    if (!page) return std::unexpected(page.error());
    bool past = false;
    for (auto& [key, value] : *page) {
      if (!std::string_view(key).starts_with(prefix)) {
        past = true;
        break;
      }
      out.emplace(key, std::move(value));
    }
    if (past || page->size() < kPage) break;
    from = page->back().first + '\0';
  }
  return out;
}

}  // namespace

std::string ViewKey(std::string_view stream) {
  std::string key = "i/";
  key += stream;
  return key;
}

KvWrite InstanceViewsCover(std::uint64_t seq) {
  return {Space::kAnalytics, std::string(kInstanceViewsSeqKey), std::to_string(seq)};
}

std::string TimerIndexKey(Timestamp due, std::string_view stream, std::string_view name) {
  // Due time first (big-endian seconds), so a scan visits timers in the order they fall due.
  std::string out;
  const auto v = static_cast<std::uint64_t>(due.time_since_epoch().count());
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  out += stream;
  out.push_back('\0');
  out += name;
  return out;
}

namespace {

// The visitor that evolves `states` record by record, skipping an event a state already counts
// (never, from empty states); a record that cannot be read stops it with `failure` set.
EventVisitor Replayer(InstanceStates& states, RecordReader& reader, Result<void>& failure,
                      const std::function<void(const std::string&)>* applied = nullptr) {
  return
      [&states, &reader, &failure, applied](std::uint64_t, const Hash&, std::string_view record) {
        auto event = reader.Read(record);
        if (!event) {
          failure = std::unexpected(event.error());
          return false;
        }
        auto it = states.find(event->stream);
        if (it == states.end())
          it = states.emplace(std::string(event->stream), InstanceState{}).first;
        if (event->version <= it->second.version) return true;
        Evolve(it->second, event->occurred_at, event->data);
        if (applied != nullptr && *applied) (*applied)(it->first);
        return true;
      };
}

std::uint64_t UpTo(const EventLog& log, std::uint64_t to_seq) {
  const std::uint64_t head = log.GetHead().seq;
  return to_seq == 0 ? head : std::min(to_seq, head);
}

}  // namespace

Result<InstanceStates> ReplayInstances(const EventLog& log, std::uint64_t to_seq) {
  InstanceStates states;
  RecordReader reader;
  Result<void> failure;
  auto r = ForEachPipelined(log, 1, UpTo(log, to_seq), Replayer(states, reader, failure));
  if (!r) return std::unexpected(r.error());
  if (!failure) return std::unexpected(failure.error());
  return states;
}

Result<void> ReplayOnto(const EventLog& log, std::uint64_t from_seq, std::uint64_t to_seq,
                        InstanceStates& states,
                        const std::function<void(const std::string&)>& applied) {
  RecordReader reader;
  Result<void> failure;
  auto r = ForEachPipelined(log, from_seq, to_seq, Replayer(states, reader, failure, &applied));
  if (!r) return std::unexpected(r.error());
  return failure;
}

Result<RebuiltProjections> RebuildInMemory(const EventLog& log, StageStatistics* stages) {
  RebuiltProjections out;
  out.events = log.GetHead().seq;
  RecordReader replay_reader, stages_reader;
  Result<void> replay_failure, stages_failure;
  std::vector<EventVisitor> visitors = {Replayer(out.states, replay_reader, replay_failure)};
  if (stages != nullptr) {
    visitors.push_back([&](std::uint64_t seq, const Hash&, std::string_view record) {
      stages_failure = stages->ApplyNext(seq, record, stages_reader);
      return stages_failure.has_value();
    });
  }
  auto r = ForEachPipelined(log, 1, out.events, visitors);
  if (!r) return std::unexpected(r.error());
  if (!replay_failure) return std::unexpected(replay_failure.error());
  if (!stages_failure) return std::unexpected(stages_failure.error());
  // The views are serialised on both cores: each thread takes every other state.
  std::vector<const std::pair<const std::string, InstanceState>*> entries;
  entries.reserve(out.states.size());
  for (const auto& entry : out.states) entries.push_back(&entry);
  out.views.resize(entries.size());
  auto serialise = [&](std::size_t first) {
    for (std::size_t i = first; i < entries.size(); i += 2) {
      out.views[i] = {entries[i]->first, StateToText(entries[i]->second)};
    }
  };
  {
    std::jthread other(serialise, 1);
    serialise(0);
  }
  return out;
}

Result<RebuildReport> RebuildInstanceViews(EventLog& log, StageStatistics* stages) {
  auto rebuilt = RebuildInMemory(log, stages);
  if (!rebuilt) return std::unexpected(rebuilt.error());
  RebuildReport report;
  report.events = rebuilt->events;
  auto views = ScanAll(log, Space::kViews, "i/");
  if (!views) return std::unexpected(views.error());
  auto timers = ScanAll(log, Space::kTimers, "");
  if (!timers) return std::unexpected(timers.error());

  AppendBatch batch;
  for (const auto& [key, value] : *timers)
    batch.writes.push_back({Space::kTimers, key, std::nullopt});
  for (auto& [stream, fresh] : rebuilt->views) {
    const std::string key = ViewKey(stream);
    auto stored = views->find(key);
    if (stored == views->end() || stored->second != fresh) ++report.views_changed;
    if (stored != views->end()) views->erase(stored);
    batch.writes.push_back({Space::kViews, key, std::move(fresh)});
    for (const auto& [name, due] : rebuilt->states.find(stream)->second.timers) {
      batch.writes.push_back({Space::kTimers, TimerIndexKey(due, stream, name), ""});
    }
  }
  for (const auto& [key, value] : *views) {
    batch.writes.push_back({Space::kViews, key, std::nullopt});
    ++report.views_removed;
  }
  batch.writes.push_back({Space::kAnalytics, std::string(kInstanceViewsVersionKey),
                          std::to_string(kInstanceViewsVersion)});
  batch.writes.push_back(InstanceViewsCover(rebuilt->events));
  if (auto w = log.Append(batch); !w) return std::unexpected(w.error());
  if (stages != nullptr) {
    if (auto w = stages->SaveReplacing(log); !w) return std::unexpected(w.error());
  }
  report.instances = rebuilt->states.size();
  return report;
}

}  // namespace expertflow::engine
