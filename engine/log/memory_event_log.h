#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/log/event_log.h"

namespace expertflow::engine {

// The event log in memory: same contract as the RocksDB log, no disk. For engine tests, and to
// check that a behaviour belongs to the contract and not to RocksDB (the typed log tests run on
// both). `FailNextAppends(n)` makes the next n appends fail as a storage fault would.
class MemoryEventLog final : public EventLog {
 public:
  Result<AppendResult> Append(const AppendBatch& batch) override;
  Head GetHead() const override;
  Result<std::uint64_t> StreamVersion(std::string_view stream) const override;
  Result<std::vector<StoredEvent>> ReadStream(std::string_view stream, std::uint64_t from_version,
                                              std::size_t max) const override;
  Result<void> ForEach(std::uint64_t from_seq, std::uint64_t to_seq,
                       const EventVisitor& visit) const override;
  Result<std::optional<std::string>> Get(Space space, std::string_view key) const override;
  Result<std::vector<std::pair<std::string, std::string>>> Scan(Space space, std::string_view from,
                                                                std::string_view to,
                                                                std::size_t max) const override;

  const MerkleTree* Tree() const override { return &tree_; }

  void FailNextAppends(int n);
  // Replaces the stored record of `seq` without touching the hash: a tampering for tests.
  void TamperRecord(std::uint64_t seq, std::string record);

 private:
  mutable std::mutex mu_;
  std::vector<StoredEvent> events_;  // events_[i].seq == i + 1
  std::map<std::string, std::vector<std::uint64_t>, std::less<>> streams_;  // stream -> seqs
  std::map<std::string, std::string, std::less<>> spaces_[kSpaceCount];
  Head head_;
  int fail_appends_ = 0;
  // The tree's full tiles, under their own lock (the tree calls in under its own).
  mutable std::mutex tiles_mu_;
  std::map<std::pair<int, std::uint64_t>, std::string> tiles_;
  MerkleTree tree_{[this](int level, std::uint64_t index) -> Result<std::optional<std::string>> {
                     std::lock_guard lock(tiles_mu_);
                     auto it = tiles_.find({level, index});
                     if (it == tiles_.end()) return std::nullopt;
                     return it->second;
                   },
                   [this](const std::vector<FullTile>& tiles, std::uint64_t) -> Result<void> {
                     std::lock_guard lock(tiles_mu_);
                     for (const FullTile& t : tiles) tiles_[{t.level, t.index}] = t.hashes;
                     return {};
                   }};
};

}  // namespace expertflow::engine
