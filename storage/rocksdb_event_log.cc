#include "storage/rocksdb_event_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "storage/fault_env.h"

namespace expertflow::storage {
namespace {

using engine::ErrorCode;

// Format 2 keeps the stream index out of the synced batch (storage/README.md); a format 1 store,
// whose index is complete in the streams family, is upgraded on its first writable open.
constexpr int kFormatVersion = 2;
const char* const kHeadKey = "head";
const char* const kFormatKey = "format";
// The seq through which the streams family holds the index (format 2).
const char* const kIndexedKey = "indexed";
// Where an index file is written before it is ingested, inside the store's folder.
const char* const kIndexFileDir = "stream-index";

// Column families, in the order they are opened.
enum Family : std::size_t {
  kDefault,
  kEvents,
  kStreams,
  kViews,
  kAnalytics,
  kIdempotency,
  kTokens,
  kTimers,
  kMeta,
  kFamilies
};
const char* const kFamilyNames[kFamilies] = {rocksdb::kDefaultColumnFamilyName.c_str(),
                                             "events",
                                             "streams",
                                             "views",
                                             "analytics",
                                             "idempotency",
                                             "tokens",
                                             "timers",
                                             "meta"};

Family FamilyOf(engine::Space space) {
  switch (space) {
    case engine::Space::kViews:
      return kViews;
    case engine::Space::kAnalytics:
      return kAnalytics;
    case engine::Space::kIdempotency:
      return kIdempotency;
    case engine::Space::kTokens:
      return kTokens;
    case engine::Space::kTimers:
      return kTimers;
  }
  return kViews;
}

void PutBigEndian(std::uint64_t v, std::string& out) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t GetBigEndian(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

std::string SeqKey(std::uint64_t seq) {
  std::string k;
  PutBigEndian(seq, k);
  return k;
}

std::string StreamKey(std::string_view stream, std::uint64_t version) {
  std::string k(stream);
  k.push_back('\0');
  PutBigEndian(version, k);
  return k;
}

// Every key of a family as one prefix: its single insert hint then remembers where the last key
// went, and the events family, whose keys (seqs) only ever grow, appends each new key next to it
// instead of searching the memtable from the top.
class WholeFamily final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "expertflow.WholeFamily"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), 0);
  }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

// After a failed write the log recovers on its own terms: the writer calls DB::Resume before its
// next write, so a write either finds the store writable or is refused at once, never racing a
// background attempt.
class RecoverOnNextAppend final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

std::unexpected<engine::Error> FromStatus(const rocksdb::Status& s, const std::string& what) {
  return engine::Fail(s.IsCorruption() ? ErrorCode::kCorruption : ErrorCode::kUnavailable,
                      what + ": " + s.ToString());
}

}  // namespace

struct RocksDbEventLog::Impl {
  Options options;
  std::unique_ptr<rocksdb::Env> env;  // a fault-injecting one in tests; outlives db
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  bool broken = false;  // opened with allow_broken_chain over a mismatch: no writes

  // Appends are prepared (numbered, encoded, chained) by the caller under write_mu, in order, and
  // queued; one writer thread writes whatever is queued as ONE synced WriteBatch, then moves the
  // durable head and answers. So a caller can prepare its next batch while the disk syncs this
  // one, and batches queued together share a sync.
  mutable std::mutex write_mu;
  engine::Head prepared_head;  // after every queued batch
  using VersionMap =
      std::unordered_map<std::string, std::uint64_t, engine::StreamHash, std::equal_to<>>;
  // stream -> version as durable, filled on first use from the streams family; and the versions
  // queued batches leave, until they are durable.
  mutable VersionMap versions;
  VersionMap queued_versions;

  struct Queued {
    // The batch's key/values; its events are in `prepared`, encoded (the caller frees the rest,
    // so the writer goes back to the disk sooner).
    std::vector<engine::KvWrite> writes;
    engine::AppendResult prepared;
    engine::AppendCallback done;
  };
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Queued> queue;
  bool stopping = false;
  std::thread writer;
  // Groups the writer has made durable, for the completer thread, which moves the versions, the
  // index and the head and answers the callers: the writer is back at the disk meanwhile.
  std::mutex written_mu;
  std::condition_variable written_cv;
  std::deque<std::vector<Queued>> written;
  bool completing = false;  // the completer is answering groups it took from `written`
  bool completer_stopping = false;
  std::thread completer;

  // The stream index, (stream, version) -> seq (storage/README.md). The synced batch carries the
  // events alone; the writer puts each durable group's entries in `tail`, in memory, before it
  // moves the head. Once `tail` holds index_flush_events entries it becomes `flushing`, and the
  // flusher thread writes it to the streams family as one sorted file, ingested whole (no
  // memtable inserts at random places, which cost the synced path as much as the events did),
  // then records in meta "indexed" the seq the family now covers. An open indexes again, from
  // the log, the events after "indexed". Reads take index_mu shared across the family and both
  // maps, so an entry is never missed while it moves from memory into the family.
  struct IndexEntry {
    std::uint64_t version;
    std::uint64_t seq;
  };
  using IndexMap =
      std::unordered_map<std::string, std::vector<IndexEntry>, engine::StreamHash, std::equal_to<>>;
  mutable std::shared_mutex index_mu;
  IndexMap tail;
  std::uint64_t tail_events = 0;
  std::uint64_t tail_through = 0;  // the last seq in tail
  IndexMap flushing;               // owned by the flusher while not empty
  std::uint64_t flushing_through = 0;
  std::string path;
  rocksdb::Options index_file_options;  // the streams family's, for the files the flusher writes
  std::mutex flush_mu;
  std::condition_variable flush_cv;
  bool flush_requested = false;
  bool flush_stopping = false;
  std::thread flusher;

  mutable std::mutex head_mu;
  engine::Head head;  // the durable head
  std::atomic<int> fail_appends{0};
  // A write failed: RocksDB stays read-only until DB::Resume succeeds (writer thread only).
  bool needs_resume = false;

  ~Impl() {
    if (writer.joinable()) {
      {
        std::lock_guard lock(queue_mu);
        stopping = true;
      }
      queue_cv.notify_all();
      writer.join();
    }
    if (completer.joinable()) {
      {
        std::lock_guard lock(written_mu);
        completer_stopping = true;
      }
      written_cv.notify_all();
      completer.join();
    }
    if (flusher.joinable()) {
      {
        std::lock_guard lock(flush_mu);
        flush_stopping = true;
      }
      flush_cv.notify_all();
      flusher.join();
    }
    for (auto* h : families) {
      if (h != nullptr && db) db->DestroyColumnFamilyHandle(h);
    }
    db.reset();
  }

  void WriteLoop();
  void CompleteLoop();
  rocksdb::Status WriteGroup(std::vector<Queued>& group);
  void FlushLoop();
  rocksdb::Status WriteIndexFile();
  engine::Result<void> IndexFromLog(std::uint64_t from_seq);

  // Under index_mu (unique): one durable event into the tail; true when the tail should now be
  // flushed.
  bool AddToIndex(std::string_view stream, std::uint64_t version, std::uint64_t seq) {
    auto it = tail.find(stream);
    if (it == tail.end()) it = tail.emplace(std::string(stream), std::vector<IndexEntry>{}).first;
    it->second.push_back({version, seq});
    ++tail_events;
    tail_through = seq;
    return tail_events >= options.index_flush_events;
  }

  // Under index_mu (unique), with the tail full: hands it to the flusher (or asks it to retry the
  // one it failed to write).
  void StartFlush() {
    if (!flusher.joinable()) return;  // read-only
    if (flushing.empty()) {
      flushing.swap(tail);
      flushing_through = tail_through;
      tail_events = 0;
    }
    {
      std::lock_guard lock(flush_mu);
      flush_requested = true;
    }
    flush_cv.notify_one();
  }

  // Under index_mu (shared): the stream's last version in memory, 0 when it has none there.
  std::uint64_t MemoryVersion(std::string_view stream) const {
    for (const IndexMap* m : {&tail, &flushing}) {
      if (auto it = m->find(stream); it != m->end() && !it->second.empty())
        return it->second.back().version;
    }
    return 0;
  }

  engine::Result<std::uint64_t> LoadVersion(std::string_view stream) const {
    std::shared_lock index_lock(index_mu);
    if (std::uint64_t v = MemoryVersion(stream); v > 0) return v;
    // A stream that has events has an entry for version 1. Asking for that one key first lets
    // the bloom filters answer for a new stream (every create), which the seek below cannot use:
    // it would read a block of every index file the key range overlaps.
    rocksdb::PinnableSlice found;
    rocksdb::Status s =
        db->Get(rocksdb::ReadOptions(), families[kStreams], StreamKey(stream, 1), &found);
    if (s.IsNotFound()) return 0;
    if (!s.ok()) return FromStatus(s, "reading stream " + std::string(stream));
    // The last key with the stream's prefix: seek just past the prefix and step back.
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), families[kStreams]));
    std::string upper(stream);
    upper.push_back('\x01');
    it->SeekForPrev(upper);
    if (!it->status().ok())
      return FromStatus(it->status(), "reading stream " + std::string(stream));
    if (!it->Valid()) return 0;
    rocksdb::Slice key = it->key();
    if (key.size() != stream.size() + 9 ||
        !key.starts_with(rocksdb::Slice(stream.data(), stream.size())) ||
        key[stream.size()] != '\0') {
      return 0;
    }
    return GetBigEndian(std::string_view(key.data() + stream.size() + 1, 8));
  }
};

RocksDbEventLog::RocksDbEventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbEventLog::~RocksDbEventLog() = default;

engine::Result<std::unique_ptr<RocksDbEventLog>> RocksDbEventLog::Open(const std::string& path,
                                                                       const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;

  // Tuning (storage/README.md): a shared block cache; bloom filters where reads are point
  // lookups (stream heads, views, tokens, idempotency); the events family is read in order and
  // compresses well (JSON), so LZ4 there with ZSTD at the bottom; few background jobs for a
  // small machine; every write synced through the WAL.
  // One memory budget for RocksDB: 128 MiB of cache, of which the memtables of all families may
  // take up to 64 MiB (charged to the cache; past that the largest is flushed). Without it nine
  // families' write buffers and a separate cache could hold over 400 MiB beside the instance
  // states the sequencer keeps. Four shards of 32 MiB: a filter block bigger than a shard is
  // never cached, and a compacted stream-index file's is several MiB.
  auto cache = rocksdb::NewLRUCache(128 << 20, /*num_shard_bits=*/2);
  auto table = [&](bool bloom) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.block_size = 16 * 1024;
    t.cache_index_and_filter_blocks = true;
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return rocksdb::NewBlockBasedTableFactory(t);
  };
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.max_background_jobs = 2;
  // Compactions run at the lowest CPU priority: on two cores they otherwise take turns with the
  // callers preparing the next batch and leave the synced writer waiting for it (flushes keep
  // theirs, so memtables never back up; if compactions fall behind, RocksDB's own L0 slowdown
  // paces the writes).
  rocksdb::Env::Default()->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 256 << 20;
  db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(64 << 20, cache);
  db_options.listeners.push_back(std::make_shared<RecoverOnNextAppend>());
  db_options.max_bgerror_resume_count = 0;
  if (options.disk_faults) {
    impl->env = NewFaultInjectingEnv(options.disk_faults);
    db_options.env = impl->env.get();
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t f = 0; f < kFamilies; ++f) {
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = f == kEvents ? 32 << 20 : 8 << 20;
    cf.table_factory.reset(table(f != kEvents));
    cf.compression = f == kEvents ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
    if (f == kEvents) cf.bottommost_compression = rocksdb::kZSTD;
    if (f == kEvents)
      cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<WholeFamily>();
    cf.level_compaction_dynamic_level_bytes = true;
    if (f == kStreams) impl->index_file_options = rocksdb::Options(db_options, cf);
    descriptors.emplace_back(kFamilyNames[f], cf);
  }
  impl->path = path;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &impl->families, &raw)
          : rocksdb::DB::Open(db_options, path, descriptors, &impl->families, &raw);
  if (!s.ok()) return FromStatus(s, "opening " + path);
  impl->db.reset(raw);

  // The head survives restarts in `meta` and must agree with the last stored event.
  std::string value;
  s = impl->db->Get(rocksdb::ReadOptions(), impl->families[kMeta], kHeadKey, &value);
  if (s.ok()) {
    if (value.size() != 40)
      return engine::Fail(ErrorCode::kCorruption, "the stored head is malformed");
    impl->head.seq = GetBigEndian(value);
    std::copy(value.begin() + 8, value.end(), impl->head.hash.begin());
  } else if (!s.IsNotFound()) {
    return FromStatus(s, "reading the head");
  }
  engine::Head last;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        impl->db->NewIterator(rocksdb::ReadOptions(), impl->families[kEvents]));
    it->SeekToLast();
    if (!it->status().ok()) return FromStatus(it->status(), "reading the last event");
    if (it->Valid()) {
      last.seq = GetBigEndian(std::string_view(it->key().data(), it->key().size()));
      if (it->value().size() >= 32)
        std::copy(it->value().data(), it->value().data() + 32, last.hash.begin());
    }
  }
  if (last != impl->head) {
    if (!options.allow_broken_chain) {
      return engine::Fail(ErrorCode::kCorruption,
                          "the stored head (seq " + std::to_string(impl->head.seq) +
                              ") does not match the last event (seq " + std::to_string(last.seq) +
                              "); the store was altered");
    }
    impl->broken = true;
    impl->head = last;
  }
  // The format, and how far the streams family holds the index: a new store has nothing to
  // index, a format 1 store has its index complete in the family, a format 2 store up to
  // "indexed" (written by the flusher after each file it ingests).
  s = impl->db->Get(rocksdb::ReadOptions(), impl->families[kMeta], kFormatKey, &value);
  if (!s.ok() && !s.IsNotFound()) return FromStatus(s, "reading the format version");
  const bool format_missing = s.IsNotFound();
  const std::string format = s.ok() ? value : std::to_string(kFormatVersion);
  if (format != "1" && format != std::to_string(kFormatVersion)) {
    return engine::Fail(ErrorCode::kCorruption,
                        "store format " + format + " is not " + std::to_string(kFormatVersion));
  }
  std::uint64_t indexed = 0;
  if (format == "1") {
    indexed = impl->head.seq;
  } else {
    s = impl->db->Get(rocksdb::ReadOptions(), impl->families[kMeta], kIndexedKey, &value);
    if (s.ok()) {
      indexed = std::min(GetBigEndian(value), impl->head.seq);
    } else if (!s.IsNotFound()) {
      return FromStatus(s, "reading how far the stream index goes");
    }
  }
  if (!options.read_only && (format_missing || format != std::to_string(kFormatVersion))) {
    rocksdb::WriteBatch upgrade;
    upgrade.Put(impl->families[kMeta], kIndexedKey, SeqKey(indexed));
    upgrade.Put(impl->families[kMeta], kFormatKey, std::to_string(kFormatVersion));
    rocksdb::WriteOptions w;
    w.sync = options.sync;
    s = impl->db->Write(w, &upgrade);
    if (!s.ok()) return FromStatus(s, "writing the format version");
  }
  if (auto r = impl->IndexFromLog(indexed + 1); !r) return std::unexpected(r.error());
  impl->prepared_head = impl->head;
  if (!options.read_only && !impl->broken) {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(path) / kIndexFileDir, ignored);
    Impl* d = impl.get();
    impl->flusher = std::thread([d] { d->FlushLoop(); });
    impl->completer = std::thread([d] { d->CompleteLoop(); });
    impl->writer = std::thread([d] { d->WriteLoop(); });
    std::unique_lock index_lock(impl->index_mu);
    if (impl->tail_events >= options.index_flush_events) impl->StartFlush();
  }
  return std::unique_ptr<RocksDbEventLog>(new RocksDbEventLog(std::move(impl)));
}

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

void RocksDbEventLog::Impl::WriteLoop() {
  // RocksDB counts every write in thread-local perf and I/O contexts by default; nothing reads
  // them here, and on the write path the bookkeeping costs more than some of the work.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  while (true) {
    std::vector<Queued> group;
    {
      std::unique_lock lock(queue_mu);
      queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, and everything queued is written
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
      if (s.ok()) needs_resume = false;
    }
    if (s.ok()) {
      s = WriteGroup(group);
      if (!s.ok()) needs_resume = true;
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
    }
    {
      std::lock_guard lock(written_mu);
      completing = false;
    }
    written_cv.notify_all();
  }
}

void RocksDbEventLog::Impl::FlushLoop() {
  while (true) {
    {
      std::unique_lock lock(flush_mu);
      flush_cv.wait(lock, [&] { return flush_stopping || flush_requested; });
      if (flush_stopping) return;  // what is left in memory is indexed again at the next open
      flush_requested = false;
    }
    // `flushing` is this thread's until it is cleared: the writer only fills an empty one.
    if (WriteIndexFile().ok()) {
      std::unique_lock index_lock(index_mu);
      flushing.clear();
      if (tail_events >= options.index_flush_events) StartFlush();
    }
    // A failed file (a full disk) stays in `flushing`, is still read from memory, and is
    // written again at the next request, when the tail fills up again.
  }
}

rocksdb::Status RocksDbEventLog::Impl::WriteIndexFile() {
  std::vector<std::pair<std::string, std::uint64_t>> entries;
  std::size_t n = 0;
  for (const auto& [stream, list] : flushing) n += list.size();
  entries.reserve(n);
  for (const auto& [stream, list] : flushing) {
    for (const IndexEntry& e : list) entries.emplace_back(StreamKey(stream, e.version), e.seq);
  }
  std::sort(entries.begin(), entries.end());
  const std::filesystem::path dir = std::filesystem::path(path) / kIndexFileDir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return rocksdb::Status::IOError("creating " + dir.string(), ec.message());
  const std::string file =
      (dir / ("through-" + std::to_string(flushing_through) + ".sst")).string();
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), index_file_options, families[kStreams]);
  rocksdb::Status s = writer.Open(file);
  for (std::size_t i = 0; s.ok() && i < entries.size(); ++i) {
    s = writer.Put(entries[i].first, SeqKey(entries[i].second));
  }
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    s = db->IngestExternalFile(families[kStreams], {file}, ingest);
  }
  std::filesystem::remove(file, ec);  // moved into the store, or a failed attempt
  if (!s.ok()) return s;
  // Not synced: if it is lost, the next open indexes a little more of the log again.
  return db->Put(rocksdb::WriteOptions(), families[kMeta], kIndexedKey, SeqKey(flushing_through));
}

engine::Result<void> RocksDbEventLog::Impl::IndexFromLog(std::uint64_t from_seq) {
  if (from_seq > head.seq) return {};
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, families[kEvents]));
  engine::RecordReader reader;
  std::unique_lock index_lock(index_mu);
  for (it->Seek(SeqKey(from_seq)); it->Valid(); it->Next()) {
    const std::uint64_t seq = GetBigEndian(std::string_view(it->key().data(), it->key().size()));
    if (seq > head.seq) break;
    rocksdb::Slice v = it->value();
    if (v.size() < 32) return engine::Fail(ErrorCode::kCorruption, "an event value is truncated");
    auto event = reader.Read(std::string_view(v.data() + 32, v.size() - 32));
    if (!event) return std::unexpected(event.error());
    AddToIndex(event->stream, event->version, seq);
  }
  if (!it->status().ok()) return FromStatus(it->status(), "indexing the log");
  return {};
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
  const Impl& d = *impl_;
  if (from_seq == 0) from_seq = 1;
  if (to_seq < from_seq) return {};
  rocksdb::ReadOptions ro;
  const std::string upper = SeqKey(to_seq + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  // Long scans (verify, rebuild, export) should not push the working set out of the cache.
  ro.fill_cache = to_seq - from_seq < 1024;
  ro.readahead_size = 2 << 20;
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
