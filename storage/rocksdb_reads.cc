// Reads: the head, streams, the log in order, key/value spaces; checkpoints and the hooks tests
// use to damage a store.
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>

#include "storage/rocksdb_impl.h"

namespace expertflow::storage {

using engine::ErrorCode;

engine::Head RocksDbEventLog::GetHead() const {
  std::lock_guard h(impl_->head_mu);
  return impl_->head;
}

engine::Result<std::uint64_t> RocksDbEventLog::StreamVersion(std::string_view stream) const {
  {
    std::lock_guard lock(impl_->write_mu);
    if (auto it = impl_->versions.find(stream); it != impl_->versions.end()) return it->second;
  }
  return impl_->LoadVersion(stream);
}

engine::Result<std::vector<engine::StoredEvent>> RocksDbEventLog::ReadStream(
    std::string_view stream, std::uint64_t from_version, std::size_t max) const {
  std::vector<engine::StoredEvent> out;
  if (max == 0) return out;
  const Impl& d = *impl_;
  rocksdb::ReadOptions ro;
  std::string upper(stream);
  upper.push_back('\x01');
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::vector<std::string> keys;
  {
    // The family first, then what is still in memory (older entries first), past the versions
    // already taken: an entry can be in both while it moves into the family.
    std::shared_lock index_lock(d.index_mu);
    std::unique_ptr<rocksdb::Iterator> it(d.db->NewIterator(ro, d.families[kStreams]));
    std::uint64_t next = std::max<std::uint64_t>(from_version, 1);
    for (it->Seek(StreamKey(stream, next)); it->Valid() && keys.size() < max; it->Next()) {
      if (it->key().size() != stream.size() + 9) continue;
      keys.emplace_back(it->value().data(), it->value().size());
      next = GetBigEndian(std::string_view(it->key().data() + stream.size() + 1, 8)) + 1;
    }
    if (!it->status().ok())
      return FromStatus(it->status(), "reading stream " + std::string(stream));
    for (const Impl::IndexMap* m : {&d.flushing, &d.tail}) {
      auto entries = m->find(stream);
      if (entries == m->end()) continue;
      for (const Impl::IndexEntry& e : entries->second) {
        if (keys.size() >= max) break;
        if (e.version < next) continue;
        keys.push_back(SeqKey(e.seq));
        next = e.version + 1;
      }
    }
  }
  if (keys.empty()) return out;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  d.db->MultiGet(rocksdb::ReadOptions(), d.families[kEvents], keys.size(), slices.data(),
                 values.data(), statuses.data());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!statuses[i].ok())
      return FromStatus(statuses[i], "reading an event of " + std::string(stream));
    if (values[i].size() < 32)
      return engine::Fail(ErrorCode::kCorruption, "an event value is truncated");
    engine::StoredEvent e;
    e.seq = GetBigEndian(keys[i]);
    std::copy(values[i].data(), values[i].data() + 32, e.hash.begin());
    e.record.assign(values[i].data() + 32, values[i].size() - 32);
    out.push_back(std::move(e));
  }
  return out;
}

engine::Result<void> RocksDbEventLog::ForEach(std::uint64_t from_seq, std::uint64_t to_seq,
                                              const engine::EventVisitor& visit) const {
  // Long scans (verify, rebuild, export) should not push the working set out of the cache.
  const bool short_read = to_seq >= from_seq && to_seq - from_seq < 1024;
  return impl_->ReadEvents(from_seq, to_seq, visit, /*fill_cache=*/short_read,
                           /*readahead=*/2 << 20);
}

engine::Result<void> RocksDbEventLog::ForEachUncached(std::uint64_t from_seq, std::uint64_t to_seq,
                                                      const engine::EventVisitor& visit) const {
  // A short range of a long walk: past the cache, with a readahead of about the range.
  return impl_->ReadEvents(from_seq, to_seq, visit, /*fill_cache=*/false, /*readahead=*/256 << 10);
}

engine::Result<void> RocksDbEventLog::Impl::ReadEvents(std::uint64_t from_seq, std::uint64_t to_seq,
                                                       const engine::EventVisitor& visit,
                                                       bool fill_cache,
                                                       std::size_t readahead) const {
  const Impl& d = *this;
  if (from_seq == 0) from_seq = 1;
  if (to_seq < from_seq) return {};
  rocksdb::ReadOptions ro;
  const std::string upper = SeqKey(to_seq + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = fill_cache;
  ro.readahead_size = readahead;
  std::unique_ptr<rocksdb::Iterator> it(d.db->NewIterator(ro, d.families[kEvents]));
  engine::Hash hash;
  for (it->Seek(SeqKey(from_seq)); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 32) return engine::Fail(ErrorCode::kCorruption, "an event value is truncated");
    std::copy(v.data(), v.data() + 32, hash.begin());
    if (!visit(GetBigEndian(std::string_view(it->key().data(), it->key().size())), hash,
               std::string_view(v.data() + 32, v.size() - 32))) {
      break;
    }
  }
  if (!it->status().ok()) return FromStatus(it->status(), "reading the log");
  return {};
}

engine::Result<std::optional<std::string>> RocksDbEventLog::Get(engine::Space space,
                                                                std::string_view key) const {
  // A read-only look at a store from before a space existed: the space is empty.
  if (impl_->families[FamilyOf(space)] == nullptr) return std::optional<std::string>();
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->families[FamilyOf(space)],
                                     rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromStatus(s, "reading a key");
  return std::optional<std::string>(std::move(value));
}

engine::Result<std::vector<std::pair<std::string, std::string>>> RocksDbEventLog::Scan(
    engine::Space space, std::string_view from, std::string_view to, std::size_t max) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (impl_->families[FamilyOf(space)] == nullptr) return out;  // see Get
  rocksdb::ReadOptions ro;
  // Long scans (a start loading every view and the stage statistics, a rebuild) read once what
  // the block cache should keep for the point reads of the running server, so they pass it by.
  ro.fill_cache = max < 1024;
  rocksdb::Slice upper(to.data(), to.size());
  if (!to.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(ro, impl_->families[FamilyOf(space)]));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid() && out.size() < max;
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scanning");
  return out;
}

engine::Result<void> RocksDbEventLog::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return FromStatus(s, "preparing a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  s = checkpoint->CreateCheckpoint(dir);
  if (!s.ok()) return FromStatus(s, "writing a checkpoint to " + dir);
  return {};
}

engine::Result<void> RocksDbEventLog::TamperRecordForTesting(std::uint64_t seq,
                                                             std::string_view record) {
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->families[kEvents], SeqKey(seq), &value);
  if (!s.ok()) return FromStatus(s, "reading seq " + std::to_string(seq));
  value.resize(32);
  value += record;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = impl_->db->Put(wo, impl_->families[kEvents], SeqKey(seq), value);
  if (!s.ok()) return FromStatus(s, "tampering");
  return {};
}

engine::Result<void> RocksDbEventLog::DeleteEventForTesting(std::uint64_t seq) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = impl_->db->Delete(wo, impl_->families[kEvents], SeqKey(seq));
  if (!s.ok()) return FromStatus(s, "deleting");
  return {};
}

void RocksDbEventLog::FailNextAppendsForTesting(int n) { impl_->fail_appends = n; }

}  // namespace expertflow::storage
