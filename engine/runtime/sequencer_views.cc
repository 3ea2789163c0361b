// The sequencer's state in the store besides the events: the stored instance views (loaded at
// start, then written from checkpoints) and the due-time index of the timers.
#include <algorithm>
#include <charconv>
#include <utility>

#include "engine/projections/rebuild.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::engine {
namespace {

constexpr std::string_view kViewPrefix = "i/";
constexpr std::size_t kScanPage = 4096;

std::uint64_t ReadBigEndian(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

}  // namespace

std::string Sequencer::ViewKey(std::string_view stream) { return engine::ViewKey(stream); }

std::string Sequencer::TimerIndexKey(const TimerKey& key) {
  return engine::TimerIndexKey(key.due, key.stream, key.name);
}

Result<void> Sequencer::Load() {
  // The stored views are rebuilt from the log when there are none for existing events, or when
  // they were built by another version of the projection code.
  auto version = log_.Get(Space::kAnalytics, kInstanceViewsVersionKey);
  if (!version) return std::unexpected(version.error());
  auto any = log_.Scan(Space::kViews, "i/", "i0", 1);
  if (!any) return std::unexpected(any.error());
  const bool current = version->has_value() && **version == std::to_string(kInstanceViewsVersion);
  if (!current || (any->empty() && log_.GetHead().seq > 0)) {
    auto rebuilt = RebuildInstanceViews(log_);
    if (!rebuilt) return std::unexpected(rebuilt.error());
  }
  std::string from(kViewPrefix);
  const std::string to = "i0";  // '0' follows '/': the end of the "i/" keys
  while (true) {
    auto page = log_.Scan(Space::kViews, from, to, kScanPage);
    if (!page) return std::unexpected(page.error());
    for (auto& [key, value] : *page) {
      auto json = nlohmann::json::parse(value, nullptr, false);
      auto state = json.is_discarded()
                       ? Fail(ErrorCode::kCorruption, "view " + key + " is not JSON")
                       : StateFromJson(json);
      if (!state) return std::unexpected(state.error());
      instances_[key.substr(kViewPrefix.size())] = std::move(*state);
    }
    if (page->size() < kScanPage) break;
    from = page->back().first + '\0';
  }
  if (auto r = LoadTimers(); !r) return r;
  decided_seq_ = durable_seq_ = log_.GetHead().seq;
  if (durable_seq_ > 0) {
    RecordReader reader;
    Result<void> read_time;
    auto r = log_.ForEach(durable_seq_, durable_seq_,
                          [&](std::uint64_t, const Hash&, std::string_view record) {
                            auto view = reader.Read(record);
                            if (!view) {
                              read_time = std::unexpected(view.error());
                            } else {
                              latest_time_ = view->occurred_at;
                            }
                            return true;
                          });
    if (!r) return r;
    if (!read_time) return read_time;
    clock_.NotBefore(latest_time_);
  }
  // The views cover the log up to their checkpoint; what came after is replayed onto them. A view
  // written after the checkpoint already counts some of those events: its version says which.
  auto covered = log_.Get(Space::kAnalytics, kInstanceViewsSeqKey);
  if (!covered) return std::unexpected(covered.error());
  std::uint64_t covers = durable_seq_;  // no checkpoint: views written with their events
  if (*covered) {
    const std::string& text = **covered;
    if (std::from_chars(text.data(), text.data() + text.size(), covers).ec != std::errc{})
      return Fail(ErrorCode::kCorruption, "the instance views' checkpoint is malformed");
  }
  if (covers < durable_seq_) {
    auto r = ReplayOnto(log_, covers + 1, durable_seq_, instances_,
                        [this](const std::string& stream) { dirty_.insert(stream); });
    if (!r) return r;
  }
  for (const auto& [stream, state] : instances_) {
    if (IsRegistryStream(stream)) registry_.Publish(state);
    work_in_progress_.Add(state);
  }
  // Caught up (or a store from before checkpoints): the checkpoint now covers the head.
  if (!*covered || !dirty_.empty()) return WriteCheckpoint();
  std::lock_guard lock(stats_mu_);
  stats_.views_checkpoint_seq = covers;
  return {};
}

std::optional<std::uint64_t> Sequencer::AddCheckpointChunk(AppendBatch& batch,
                                                           std::vector<std::string>& streams) {
  if (!checkpoint_seq_) return std::nullopt;
  const std::size_t n = std::min(std::max<std::size_t>(options_.view_checkpoint_chunk, 1),
                                 checkpoint_pending_.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string stream = std::move(checkpoint_pending_.back());
    checkpoint_pending_.pop_back();
    AddView(batch, stream);
    streams.push_back(std::move(stream));
  }
  if (!checkpoint_pending_.empty()) return std::nullopt;
  const std::uint64_t covers = *std::exchange(checkpoint_seq_, std::nullopt);
  batch.writes.push_back(InstanceViewsCover(covers));
  return covers;
}

void Sequencer::AddView(AppendBatch& batch, const std::string& stream) const {
  // The durable state: a batch's instances reach instances_ once its write is durable (Settle),
  // so no view runs ahead of the log. Settle may be writing this very state: the shared lock.
  std::shared_lock lock(state_mu_);
  if (auto it = instances_.find(stream); it != instances_.end())
    batch.writes.push_back({Space::kViews, ViewKey(stream), StateToText(it->second)});
}

Result<void> Sequencer::WriteCheckpoint() {
  for (auto& stream : checkpoint_pending_) dirty_.insert(std::move(stream));
  checkpoint_pending_.clear();
  checkpoint_seq_.reset();
  const std::vector<std::string> streams(dirty_.begin(), dirty_.end());
  constexpr std::size_t kChunk = 4096;  // views a write, so a big catch-up is not one huge batch
  for (std::size_t first = 0;; first += kChunk) {
    AppendBatch batch;
    const std::size_t end = std::min(first + kChunk, streams.size());
    for (std::size_t i = first; i < end; ++i) AddView(batch, streams[i]);
    const bool last = end == streams.size();
    if (last) batch.writes.push_back(InstanceViewsCover(durable_seq_));
    // On failure every stream stays dirty, for the next checkpoint; the stored one stands.
    if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
    if (last) break;
  }
  dirty_.clear();
  events_since_checkpoint_ = 0;
  std::lock_guard lock(stats_mu_);
  stats_.views_checkpoint_seq = durable_seq_;
  return {};
}

Result<void> Sequencer::LoadTimers() {
  timers_.clear();
  std::string from;
  while (true) {
    auto page = log_.Scan(Space::kTimers, from, "", kScanPage);
    if (!page) return std::unexpected(page.error());
    for (auto& [key, value] : *page) {
      if (key.size() < 10) continue;
      auto nul = key.find('\0', 8);
      if (nul == std::string::npos) continue;
      TimerKey t{Timestamp(Duration(static_cast<Duration::rep>(ReadBigEndian(key)))),
                 key.substr(8, nul - 8), key.substr(nul + 1)};
      timers_.insert(std::move(t));
    }
    if (page->size() < kScanPage) break;
    from = page->back().first + '\0';
  }
  return {};
}

}  // namespace expertflow::engine
