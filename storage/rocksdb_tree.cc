// The Merkle tree's tiles in the tree family (storage/README.md, "The tree").
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/rocksdb_impl.h"

namespace expertflow::storage {
namespace {

inline const char* const kCoveredKey = "covered";

// A tile's key: its level as one byte, then its index big-endian (9 bytes; "covered" is 7).
std::string TileKey(int level, std::uint64_t index) {
  std::string k(1, static_cast<char>(level));
  PutBigEndian(index, k);
  return k;
}

}  // namespace

const engine::MerkleTree* RocksDbEventLog::Tree() const { return impl_->tree.get(); }

// The completer appends a group's leaves after answering it and before it takes the next, so
// once nothing answered waits for it, the tree has them all.
void RocksDbEventLog::AwaitTree() const {
  std::unique_lock lock(impl_->written_mu);
  impl_->written_cv.wait(lock, [&] { return impl_->written.empty() && !impl_->completing; });
}

engine::Result<void> RocksDbEventLog::DropTreeForTesting() {
  Impl& d = *impl_;
  if (d.families[kTree] == nullptr) return {};
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s =
      d.db->DeleteRange(wo, d.families[kTree], std::string(1, '\0'), std::string(9, '\xff'));
  if (!s.ok()) return FromStatus(s, "dropping the tree");
  return {};
}

engine::Result<std::optional<std::string>> RocksDbEventLog::Impl::ReadTile(
    int level, std::uint64_t index) const {
  const std::string key = TileKey(level, index);
  if (tree_in_memory) {
    std::lock_guard lock(overlay_mu);
    if (auto it = tile_overlay.find(key); it != tile_overlay.end()) return it->second;
    if (families[kTree] == nullptr) return std::nullopt;
  }
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), families[kTree], key, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromStatus(s, "reading the tree");
  return value;
}

engine::Result<void> RocksDbEventLog::Impl::WriteTiles(const std::vector<engine::FullTile>& tiles,
                                                       std::uint64_t covered) {
  if (tree_in_memory) {
    std::lock_guard lock(overlay_mu);
    for (const engine::FullTile& t : tiles) tile_overlay[TileKey(t.level, t.index)] = t.hashes;
    return {};
  }
  // Not synced: the tiles are derived from events that are durable already; the WAL keeps their
  // order, so after a crash "covered" never names tiles that are not there.
  rocksdb::WriteBatch wb;
  for (const engine::FullTile& t : tiles)
    wb.Put(families[kTree], TileKey(t.level, t.index), t.hashes);
  wb.Put(families[kTree], kCoveredKey, SeqKey(covered));
  rocksdb::Status s = db->Write(rocksdb::WriteOptions(), &wb);
  if (!s.ok()) return FromStatus(s, "writing the tree");
  return {};
}

engine::Result<std::uint64_t> RocksDbEventLog::Impl::RestoreTree() {
  tree = std::make_unique<engine::MerkleTree>(
      [this](int level, std::uint64_t index) { return ReadTile(level, index); },
      [this](const std::vector<engine::FullTile>& tiles, std::uint64_t covered) {
        return WriteTiles(tiles, covered);
      });
  std::uint64_t covered = 0;
  if (families[kTree] != nullptr) {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), families[kTree], kCoveredKey, &value);
    if (s.ok()) {
      covered = GetBigEndian(value);
    } else if (!s.IsNotFound()) {
      return FromStatus(s, "reading how far the tree goes");
    }
  }
  // Tiles past the head belong to a longer log than this one (a store put back from an older
  // copy): the tree is built again from the log, over them.
  if (covered > head.seq) covered = 0;
  if (auto r = tree->Restore(covered); !r) return std::unexpected(r.error());
  return covered;
}

}  // namespace expertflow::storage
