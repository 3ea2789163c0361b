#include "engine/log/memory_event_log.h"

namespace expertflow::engine {

Result<AppendResult> MemoryEventLog::Append(const AppendBatch& batch) {
  std::lock_guard lock(mu_);
  auto prepared =
      PrepareAppend(batch, head_, [&](std::string_view stream) -> Result<std::uint64_t> {
        auto it = streams_.find(stream);
        return it == streams_.end() ? 0 : it->second.size();
      });
  if (!prepared) return prepared;
  if (fail_appends_ > 0) {
    --fail_appends_;
    return Fail(ErrorCode::kUnavailable, "injected storage fault");
  }
  for (const AppendedEvent& e : prepared->events) {
    events_.push_back(StoredEvent{e.seq, e.hash, e.record});
    streams_[e.stream].push_back(e.seq);
  }
  for (const KvWrite& w : batch.writes) {
    auto& space = spaces_[static_cast<std::size_t>(w.space)];
    if (w.value) {
      space.insert_or_assign(w.key, *w.value);
    } else if (auto it = space.find(w.key); it != space.end()) {
      space.erase(it);
    }
  }
  head_ = prepared->head;
  std::vector<Hash> leaves;
  leaves.reserve(prepared->events.size());
  for (const AppendedEvent& e : prepared->events) leaves.push_back(LeafHash(e.record));
  if (auto r = tree_.Append(leaves); !r) return std::unexpected(r.error());
  return prepared;
}

Head MemoryEventLog::GetHead() const {
  std::lock_guard lock(mu_);
  return head_;
}

Result<std::uint64_t> MemoryEventLog::StreamVersion(std::string_view stream) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.size();
}

Result<std::vector<StoredEvent>> MemoryEventLog::ReadStream(std::string_view stream,
                                                            std::uint64_t from_version,
                                                            std::size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<StoredEvent> out;
  auto it = streams_.find(stream);
  if (it == streams_.end()) return out;
  if (from_version == 0) from_version = 1;
  for (std::uint64_t v = from_version; v <= it->second.size() && out.size() < max; ++v) {
    out.push_back(events_[it->second[v - 1] - 1]);
  }
  return out;
}

Result<void> MemoryEventLog::ForEach(std::uint64_t from_seq, std::uint64_t to_seq,
                                     const EventVisitor& visit) const {
  std::unique_lock lock(mu_);
  if (from_seq == 0) from_seq = 1;
  if (to_seq > events_.size()) to_seq = events_.size();
  for (std::uint64_t s = from_seq; s <= to_seq; ++s) {
    const StoredEvent& e = events_[s - 1];
    if (!visit(e.seq, e.hash, e.record)) break;
  }
  return {};
}

Result<std::optional<std::string>> MemoryEventLog::Get(Space space, std::string_view key) const {
  std::lock_guard lock(mu_);
  const auto& m = spaces_[static_cast<std::size_t>(space)];
  auto it = m.find(key);
  if (it == m.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::vector<std::pair<std::string, std::string>>> MemoryEventLog::Scan(
    Space space, std::string_view from, std::string_view to, std::size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  const auto& m = spaces_[static_cast<std::size_t>(space)];
  for (auto it = m.lower_bound(from); it != m.end() && out.size() < max; ++it) {
    if (!to.empty() && it->first >= to) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

void MemoryEventLog::FailNextAppends(int n) {
  std::lock_guard lock(mu_);
  fail_appends_ = n;
}

void MemoryEventLog::TamperRecord(std::uint64_t seq, std::string record) {
  std::lock_guard lock(mu_);
  events_.at(seq - 1).record = std::move(record);
}

}  // namespace expertflow::engine
