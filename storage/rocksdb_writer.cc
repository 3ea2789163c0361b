// The write path: appends queued by their callers, written as one synced WriteBatch per group by
// the writer thread, and completed (versions, index, head, callbacks) by the completer thread.
#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <chrono>

#include "storage/rocksdb_impl.h"

namespace expertflow::storage {

using engine::ErrorCode;

engine::Result<engine::AppendResult> RocksDbEventLog::Append(const engine::AppendBatch& batch) {
  std::promise<engine::Result<engine::AppendResult>> promise;
  auto future = promise.get_future();
  AppendAsync(batch, [&promise](engine::Result<engine::AppendResult> r) {
    promise.set_value(std::move(r));
  });
  return future.get();
}

void RocksDbEventLog::AppendAsync(engine::AppendBatch batch, engine::AppendCallback done) {
  Impl& d = *impl_;
  if (d.options.read_only)
    return done(engine::Fail(ErrorCode::kUnavailable, "the store is open read-only"));
  if (d.broken)
    return done(engine::Fail(ErrorCode::kCorruption, "the store's chain is broken: no writes"));
  std::unique_lock lock(d.write_mu);
  // PrepareAppend asks once per stream of the batch: a queued batch's version first, then the
  // durable one, from memory after the first time a stream is seen.
  auto prepared = engine::PrepareAppend(
      batch, d.prepared_head, [&](std::string_view stream) -> engine::Result<std::uint64_t> {
        if (auto it = d.queued_versions.find(stream); it != d.queued_versions.end())
          return it->second;
        if (auto it = d.versions.find(stream); it != d.versions.end()) return it->second;
        return d.LoadVersion(stream);
      });
  if (!prepared) {
    lock.unlock();
    return done(std::unexpected(prepared.error()));
  }
  for (const engine::AppendedEvent& e : prepared->events)
    d.queued_versions.insert_or_assign(e.stream, e.version);
  d.prepared_head = prepared->head;
  {
    std::lock_guard q(d.queue_mu);
    d.queue.push_back(Impl::Queued{std::move(batch.writes), std::move(*prepared), std::move(done)});
  }
  d.queue_cv.notify_one();
}

std::optional<std::string> RocksDbEventLog::WritesRefused() const {
  std::lock_guard lock(impl_->refusal_mu);
  return impl_->refusal;
}

void RocksDbEventLog::Impl::WriteLoop() {
  // RocksDB counts every write in thread-local perf and I/O contexts by default; nothing reads
  // them here, and on the write path the bookkeeping costs more than some of the work.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  while (true) {
    std::vector<Queued> group;
    {
      std::unique_lock lock(queue_mu);
      const auto ready = [&] { return stopping || !queue.empty(); };
      if (needs_resume) {
        // Refusing writes: try to resume once a second even while none comes.
        queue_cv.wait_for(lock, std::chrono::seconds(1), ready);
      } else {
        queue_cv.wait(lock, ready);
      }
      if (queue.empty() && stopping) return;  // everything queued is written
      while (!queue.empty()) {
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    rocksdb::Status s;
    if (needs_resume) {
      // Resume flushes every memtable to new files, so nothing rests on the log file the failed
      // write may have left a torn record in; it fails while the disk still refuses writes.
      s = db->Resume();
      if (s.ok()) {
        needs_resume = false;
        SetRefusal(std::nullopt);
      }
    }
    if (group.empty()) continue;  // a resume attempt only
    if (s.ok()) {
      s = WriteGroup(group);
      if (!s.ok()) {
        needs_resume = true;
        SetRefusal("the last write failed (" + s.ToString() + ")");
      }
    }
    if (s.ok()) {
      // Durable: the completer moves the head and answers, while this thread writes the next.
      {
        std::lock_guard lock(written_mu);
        written.push_back(std::move(group));
      }
      written_cv.notify_all();
      continue;
    }
    // A failed write: first let the completer finish the groups written before it (they move
    // the head and the durable versions this falls back to).
    {
      std::unique_lock lock(written_mu);
      written_cv.wait(lock, [&] { return written.empty() && !completing; });
    }
    std::vector<Queued> chained;  // queued after the failed group: prepared on top of it
    {
      std::lock_guard lock(write_mu);
      std::lock_guard q(queue_mu);
      while (!queue.empty()) {
        chained.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      queued_versions.clear();
      std::lock_guard h(head_mu);
      prepared_head = head;
    }
    const std::string what = s.IsCorruption() ? s.ToString() : "writing the log: " + s.ToString();
    for (Queued& q : group)
      q.done(
          engine::Fail(s.IsCorruption() ? ErrorCode::kCorruption : ErrorCode::kUnavailable, what));
    for (Queued& q : chained)
      q.done(engine::Fail(ErrorCode::kUnavailable,
                          "an earlier write failed; this batch was chained on it"));
  }
}

void RocksDbEventLog::Impl::CompleteLoop() {
  while (true) {
    std::deque<std::vector<Queued>> groups;
    {
      std::unique_lock lock(written_mu);
      written_cv.wait(lock, [&] { return completer_stopping || !written.empty(); });
      if (written.empty()) return;  // stopping, and everything written is answered
      groups.swap(written);
      completing = true;
    }
    for (std::vector<Queued>& group : groups) {
      // The group's leaves, hashed before the records go to the callers; the tree takes them
      // after they are answered (it trails the head by that much).
      std::vector<engine::Hash> leaves;
      std::uint64_t first_seq = 0;
      for (const Queued& q : group) {
        if (!tree) break;  // a benchmark's log without it
        for (const engine::AppendedEvent& e : q.prepared.events) {
          if (first_seq == 0) first_seq = e.seq;
          leaves.push_back(engine::LeafHash(e.record));
        }
      }
      {
        // Only now, with the batches durable, do the versions, the index and the head move. A
        // queued version stays queued while a later batch still has the stream in flight.
        std::lock_guard lock(write_mu);
        std::unique_lock index_lock(index_mu);
        bool full = false;
        for (const Queued& q : group) {
          for (const engine::AppendedEvent& e : q.prepared.events) {
            versions.insert_or_assign(e.stream, e.version);
            if (auto it = queued_versions.find(e.stream);
                it != queued_versions.end() && it->second == e.version) {
              queued_versions.erase(it);
            }
            full = AddToIndex(e.stream, e.version, e.seq) || full;
          }
        }
        if (full) StartFlush();
        index_lock.unlock();
        std::lock_guard h(head_mu);
        head = group.back().prepared.head;
      }
      for (Queued& q : group) q.done(std::move(q.prepared));
      // A store with a gap (which verify names) keeps its tree up to the gap. A failed tile
      // write is retried with the next (MerkleTree keeps the tiles meanwhile).
      if (!leaves.empty() && tree->Size() + 1 == first_seq) (void)tree->Append(leaves);
    }
    {
      std::lock_guard lock(written_mu);
      completing = false;
    }
    written_cv.notify_all();
  }
}

rocksdb::Status RocksDbEventLog::Impl::WriteGroup(std::vector<Queued>& group) {
  // Reserve the whole write up front: a growing WriteBatch would copy itself over and over.
  std::size_t bytes = 64;
  for (const Queued& q : group) {
    for (const engine::AppendedEvent& e : q.prepared.events) bytes += e.record.size() + 64;
    for (const engine::KvWrite& w : q.writes)
      bytes += w.key.size() + (w.value ? w.value->size() : 0) + 16;
  }
  rocksdb::WriteBatch wb(bytes);
  char seq_key[8];
  const engine::Head* last_head = nullptr;
  for (const Queued& q : group) {
    for (const engine::AppendedEvent& e : q.prepared.events) {
      for (int i = 0; i < 8; ++i) seq_key[i] = static_cast<char>(e.seq >> (56 - 8 * i));
      const rocksdb::Slice key(seq_key, 8);
      // The value is hash then record, written from both parts without joining them first.
      const rocksdb::Slice value_parts[2] = {
          rocksdb::Slice(reinterpret_cast<const char*>(e.hash.data()), e.hash.size()),
          rocksdb::Slice(e.record)};
      wb.Put(families[kEvents], rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(value_parts, 2));
    }
    for (const engine::KvWrite& w : q.writes) {
      auto* cf = families[FamilyOf(w.space)];
      if (w.value)
        wb.Put(cf, w.key, *w.value);
      else
        wb.Delete(cf, w.key);
    }
    if (!q.prepared.events.empty()) last_head = &q.prepared.head;
  }
  if (last_head != nullptr) {
    std::string head_value = SeqKey(last_head->seq);
    head_value.append(reinterpret_cast<const char*>(last_head->hash.data()), 32);
    wb.Put(families[kMeta], kHeadKey, head_value);
  }
  if (fail_appends.load() > 0) {
    --fail_appends;
    return rocksdb::Status::IOError("injected storage fault");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return db->Write(wo, &wb);
}

}  // namespace expertflow::storage
