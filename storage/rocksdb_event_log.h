#pragma once

#include <memory>
#include <string>

#include "engine/log/event_log.h"
#include "storage/disk_faults.h"

namespace expertflow::storage {

// The event log and its key/value spaces on RocksDB (DESIGN.md, storage layout). Column
// families: `events` (big-endian seq -> 32-byte hash + record), `streams` (stream + '\0' +
// big-endian version -> big-endian seq), one per engine::Space (`views`, `analytics`,
// `idempotency`, `tokens`, `timers`), and `meta` (head seq and hash, format version, how far
// `streams` goes). Every Append is part of one WriteBatch written with sync: all of it is durable,
// or none of it. Appends are prepared by their callers and written by one writer thread, which
// puts whatever is queued into one WriteBatch: callers that do not wait (AppendAsync) share
// syncs. The stream index is derived from the events and kept outside that batch
// (storage/README.md, "The stream index").
// RocksDB stays behind this header: nothing here includes <rocksdb/...>.
class RocksDbEventLog final : public engine::EventLog {
 public:
  struct Options {
    bool create_if_missing = true;
    // Opens without the lock, for tools reading beside a running server (verify, export). Sees
    // the store as of opening; appends are refused.
    bool read_only = false;
    // Opens even when the stored head and the last event disagree (an auditor's look at a
    // damaged store). Writing on such a store is refused.
    bool allow_broken_chain = false;
    bool sync = true;  // WriteOptions::sync; false only for benchmark set-up
    // Stream-index entries kept in memory before they are written to the store as one file
    // (storage/README.md, "The stream index"). Tests set it low to cross the threshold.
    std::uint64_t index_flush_events = 64 * 1024;
    // Keeps the Merkle tree (engine/log/merkle.h) beside the log. Off only in the benchmark that
    // measures what the tree costs the appends (benchmarks/tree_bench.cc).
    bool keep_tree = true;
    // Test support: the store's files are written through these faults (a full disk, failing
    // syncs) when set.
    std::shared_ptr<DiskFaults> disk_faults;
  };

  static engine::Result<std::unique_ptr<RocksDbEventLog>> Open(const std::string& path,
                                                               const Options& options);
  ~RocksDbEventLog() override;

  engine::Result<engine::AppendResult> Append(const engine::AppendBatch& batch) override;
  void AppendAsync(engine::AppendBatch batch, engine::AppendCallback done) override;
  engine::Head GetHead() const override;
  std::optional<std::string> WritesRefused() const override;
  engine::Result<std::uint64_t> StreamVersion(std::string_view stream) const override;
  engine::Result<std::vector<engine::StoredEvent>> ReadStream(std::string_view stream,
                                                              std::uint64_t from_version,
                                                              std::size_t max) const override;
  engine::Result<void> ForEach(std::uint64_t from_seq, std::uint64_t to_seq,
                               const engine::EventVisitor& visit) const override;
  engine::Result<void> ForEachUncached(std::uint64_t from_seq, std::uint64_t to_seq,
                                       const engine::EventVisitor& visit) const override;
  const engine::MerkleTree* Tree() const override;
  void AwaitTree() const override;
  engine::Result<std::optional<std::string>> Get(engine::Space space,
                                                 std::string_view key) const override;
  engine::Result<std::vector<std::pair<std::string, std::string>>> Scan(
      engine::Space space, std::string_view from, std::string_view to,
      std::size_t max) const override;

  // A consistent copy of the whole store in `dir` (which must not exist), hard-linking files
  // where it can: `expertflow backup`.
  engine::Result<void> Checkpoint(const std::string& dir);

  // Test support: rewrites the stored record of `seq` without touching its hash, as someone
  // editing the files behind the server's back would (the tampering tests).
  engine::Result<void> TamperRecordForTesting(std::uint64_t seq, std::string_view record);
  // Test support: deletes the stored event `seq` (and nothing else), as a careless hand would.
  engine::Result<void> DeleteEventForTesting(std::uint64_t seq);
  // Test support: removes the stored tree (as a store from before it had none), so that the next
  // open builds it from the log.
  engine::Result<void> DropTreeForTesting();
  // Test support: makes the next `n` appends fail as a failing disk would.
  void FailNextAppendsForTesting(int n);

 private:
  struct Impl;
  explicit RocksDbEventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace expertflow::storage
