#include "engine/rebuild.h"

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

Result<InstanceStates> ReplayInstances(const EventLog& log) {
  InstanceStates states;
  RecordReader reader;
  Result<void> failure;
  auto r = ForEachPipelined(
      log, 1, log.GetHead().seq, [&](std::uint64_t, const Hash&, std::string_view record) {
        auto event = reader.Read(record);
        if (!event) {
          failure = std::unexpected(event.error());
          return false;
        }
        auto it = states.find(event->stream);
        if (it == states.end())
          it = states.emplace(std::string(event->stream), InstanceState{}).first;
        Evolve(it->second, event->occurred_at, event->data);
        return true;
      });
  if (!r) return std::unexpected(r.error());
  if (!failure) return std::unexpected(failure.error());
  return states;
}

Result<RebuildReport> RebuildInstanceViews(EventLog& log) {
  RebuildReport report;
  report.events = log.GetHead().seq;
  auto states = ReplayInstances(log);
  if (!states) return std::unexpected(states.error());
  auto views = ScanAll(log, Space::kViews, "i/");
  if (!views) return std::unexpected(views.error());
  auto timers = ScanAll(log, Space::kTimers, "");
  if (!timers) return std::unexpected(timers.error());

  AppendBatch batch;
  for (const auto& [key, value] : *timers)
    batch.writes.push_back({Space::kTimers, key, std::nullopt});
  for (const auto& [stream, state] : *states) {
    const std::string key = ViewKey(stream);
    std::string fresh = StateToText(state);
    auto stored = views->find(key);
    if (stored == views->end() || stored->second != fresh) ++report.views_changed;
    if (stored != views->end()) views->erase(stored);
    batch.writes.push_back({Space::kViews, key, std::move(fresh)});
    for (const auto& [name, due] : state.timers) {
      batch.writes.push_back({Space::kTimers, TimerIndexKey(due, stream, name), ""});
    }
  }
  for (const auto& [key, value] : *views) {
    batch.writes.push_back({Space::kViews, key, std::nullopt});
    ++report.views_removed;
  }
  batch.writes.push_back({Space::kAnalytics, std::string(kInstanceViewsVersionKey),
                          std::to_string(kInstanceViewsVersion)});
  if (auto w = log.Append(batch); !w) return std::unexpected(w.error());
  report.instances = states->size();
  return report;
}

}  // namespace expertflow::engine
