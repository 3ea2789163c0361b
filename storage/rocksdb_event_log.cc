#include "storage/rocksdb_event_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <filesystem>

#include "storage/fault_env.h"
#include "storage/rocksdb_impl.h"

// Opening the store: options and families, the fault-injecting environment of tests, the head
// check, the upgrade of an older format and the catch-up of the stream index.
namespace expertflow::storage {
namespace {

using engine::ErrorCode;

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

}  // namespace

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
  // One memory budget for RocksDB: 96 MiB of cache, of which the memtables of all families may
  // take up to 32 MiB (charged to the cache; past that the largest is flushed). Without it nine
  // families' write buffers and a separate cache could hold over 400 MiB beside the instance
  // states the sequencer keeps; with 128 and 64 MiB the memtables alone filled under a load of
  // commands to where `serve` at 1M events went over 300 MB (issue 19, benchmarks/README.md).
  // Four shards of 24 MiB: a filter block bigger than a shard is never cached, and a compacted
  // stream-index file's is several MiB.
  auto cache = rocksdb::NewLRUCache(96 << 20, /*num_shard_bits=*/2);
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
  // A family added since the store was made (the tree) is created on a writable open.
  db_options.create_missing_column_families = !options.read_only;
  db_options.max_background_jobs = 2;
  // Compactions run at the lowest CPU priority: on two cores they otherwise take turns with the
  // callers preparing the next batch and leave the synced writer waiting for it (flushes keep
  // theirs, so memtables never back up; if compactions fall behind, RocksDB's own L0 slowdown
  // paces the writes).
  rocksdb::Env::Default()->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 256 << 20;
  db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(32 << 20, cache);
  db_options.listeners.push_back(std::make_shared<RecoverOnNextAppend>());
  db_options.max_bgerror_resume_count = 0;
  if (options.disk_faults) {
    impl->env = NewFaultInjectingEnv(options.disk_faults);
    db_options.env = impl->env.get();
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t f = 0; f < kFamilies; ++f) {
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = f == kEvents ? 16 << 20 : 8 << 20;
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
  if (options.read_only) {
    // A store from before the tree has no family for it, and a read-only open cannot make one:
    // the tree is then built in memory.
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_options, path, &existing).ok()) {
      // The families added last (the tree, the proofs) are opened only where they exist.
      while (descriptors.size() > kTree && std::find(existing.begin(), existing.end(),
                                                     descriptors.back().name) == existing.end()) {
        descriptors.pop_back();
      }
      if (descriptors.size() <= kTree) impl->tree_in_memory = true;
    }
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &impl->families, &raw)
          : rocksdb::DB::Open(db_options, path, descriptors, &impl->families, &raw);
  if (!s.ok()) return FromStatus(s, "opening " + path);
  impl->db.reset(raw);
  impl->families.resize(kFamilies, nullptr);

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
  if (options.read_only || impl->broken) impl->tree_in_memory = true;
  auto covered = options.keep_tree ? impl->RestoreTree() : engine::Result<std::uint64_t>(0);
  if (!covered) return std::unexpected(covered.error());
  std::unique_ptr<RocksDbEventLog> log(new RocksDbEventLog(std::move(impl)));
  Impl* d = log->impl_.get();
  // The leaves the stored tiles do not cover, from the log: the last partial tile's, what a crash
  // lost of the unsynced tiles, or the whole log of a store from before the tree. Read on one
  // thread, hashed on this one, appended a chunk at a time.
  if (d->tree && *covered < d->head.seq) {
    std::vector<engine::Hash> leaves;
    leaves.reserve(64 * 1024);
    engine::Result<void> appended;
    auto read = engine::ForEachPipelined(
        *log, *covered + 1, d->head.seq,
        [&](std::uint64_t seq, const engine::Hash&, std::string_view record) {
          // A missing event (a damaged store, which verify names) ends the tree there.
          if (seq != d->tree->Size() + leaves.size() + 1) return false;
          leaves.push_back(engine::LeafHash(record));
          if (leaves.size() == leaves.capacity()) {
            appended = d->tree->Append(leaves);
            leaves.clear();
          }
          return appended.has_value();
        });
    if (!read) return std::unexpected(read.error());
    if (appended) appended = d->tree->Append(leaves);
    if (!appended) return std::unexpected(appended.error());
  }
  if (!options.read_only && !d->broken) {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(path) / kIndexFileDir, ignored);
    d->flusher = std::thread([d] { d->FlushLoop(); });
    d->completer = std::thread([d] { d->CompleteLoop(); });
    d->writer = std::thread([d] { d->WriteLoop(); });
    std::unique_lock index_lock(d->index_mu);
    if (d->tail_events >= options.index_flush_events) d->StartFlush();
  }
  return log;
}

}  // namespace expertflow::storage
