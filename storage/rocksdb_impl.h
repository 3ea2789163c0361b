#pragma once

// The parts of RocksDbEventLog shared by its files (open, writer, stream index, reads): the key
// layout, the column families and the Impl itself. Private to storage/: it includes RocksDB.
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

#include "storage/rocksdb_event_log.h"

namespace expertflow::storage {

// Format 2 keeps the stream index out of the synced batch (storage/README.md); a format 1 store,
// whose index is complete in the streams family, is upgraded on its first writable open.
inline constexpr int kFormatVersion = 2;
inline const char* const kHeadKey = "head";
inline const char* const kFormatKey = "format";
// The seq through which the streams family holds the index (format 2).
inline const char* const kIndexedKey = "indexed";
// Where an index file is written before it is ingested, inside the store's folder.
inline const char* const kIndexFileDir = "stream-index";

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
  kTree,  // the Merkle tree's full tiles and how far they go (storage/README.md, "The tree")
  kProofs,
  kFamilies
};
inline const char* const kFamilyNames[kFamilies] = {rocksdb::kDefaultColumnFamilyName.c_str(),
                                                    "events",
                                                    "streams",
                                                    "views",
                                                    "analytics",
                                                    "idempotency",
                                                    "tokens",
                                                    "timers",
                                                    "meta",
                                                    "tree",
                                                    "proofs"};

inline Family FamilyOf(engine::Space space) {
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
    case engine::Space::kProofs:
      return kProofs;
  }
  return kViews;
}

inline void PutBigEndian(std::uint64_t v, std::string& out) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint64_t GetBigEndian(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

inline std::string SeqKey(std::uint64_t seq) {
  std::string k;
  PutBigEndian(seq, k);
  return k;
}

inline std::string StreamKey(std::string_view stream, std::uint64_t version) {
  std::string k(stream);
  k.push_back('\0');
  PutBigEndian(version, k);
  return k;
}

inline std::unexpected<engine::Error> FromStatus(const rocksdb::Status& s,
                                                 const std::string& what) {
  return engine::Fail(
      s.IsCorruption() ? engine::ErrorCode::kCorruption : engine::ErrorCode::kUnavailable,
      what + ": " + s.ToString());
}

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
  // A write failed: RocksDB stays read-only until DB::Resume succeeds (writer thread only). The
  // writer tries Resume before the next write, and once a second while none comes, so that the
  // log reports itself writable again when the disk is (a failed sync is never resumed: RocksDB
  // takes writes again only once reopened).
  bool needs_resume = false;
  // Why writes are refused while needs_resume holds (WritesRefused; under refusal_mu).
  mutable std::mutex refusal_mu;
  std::optional<std::string> refusal;
  void SetRefusal(std::optional<std::string> why) {
    std::lock_guard lock(refusal_mu);
    refusal = std::move(why);
  }

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
    if (db && !options.read_only) {
      // The memtables go to files on a clean close, so that the next open replays no WAL: after
      // `rebuild` wrote its views in one atomic write, the next start replayed ~50 MB of it into
      // memtables, which was the peak of `serve`'s memory (issue 19). A failure leaves the WAL,
      // which the next open replays as after a crash.
      std::vector<rocksdb::ColumnFamilyHandle*> live;
      for (auto* h : families) {
        if (h != nullptr) live.push_back(h);
      }
      rocksdb::FlushOptions flush;
      flush.allow_write_stall = true;
      (void)db->Flush(flush, live);
    }
    for (auto* h : families) {
      if (h != nullptr && db) db->DestroyColumnFamilyHandle(h);
    }
    db.reset();
  }

  // The Merkle tree (engine/log/merkle.h): full tiles in the tree family, written unsynced by the
  // completer once their events are durable (derived data: an open rebuilds what a crash lost
  // from the log), and "covered" beside them, the tree size they complete. A read-only open, or
  // one on a store from before the tree with no family for it, keeps the tiles it builds in
  // `tile_overlay` instead.
  std::unique_ptr<engine::MerkleTree> tree;
  bool tree_in_memory = false;
  mutable std::mutex overlay_mu;
  std::unordered_map<std::string, std::string> tile_overlay;
  engine::Result<std::optional<std::string>> ReadTile(int level, std::uint64_t index) const;
  engine::Result<void> WriteTiles(const std::vector<engine::FullTile>& tiles,
                                  std::uint64_t covered);
  // Restores the tree's edge from the stored tiles; returns the size it covers.
  engine::Result<std::uint64_t> RestoreTree();

  void WriteLoop();
  void CompleteLoop();
  rocksdb::Status WriteGroup(std::vector<Queued>& group);
  void FlushLoop();
  rocksdb::Status WriteIndexFile();
  engine::Result<void> IndexFromLog(std::uint64_t from_seq);
  // The events from_seq..to_seq in order (ForEach and ForEachUncached), with or without filling
  // the block cache, and the readahead of the iterator.
  engine::Result<void> ReadEvents(std::uint64_t from_seq, std::uint64_t to_seq,
                                  const engine::EventVisitor& visit, bool fill_cache,
                                  std::size_t readahead) const;

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

}  // namespace expertflow::storage
