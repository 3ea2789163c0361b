// The stream index, (stream, version) -> seq: flushed from memory into the streams family as
// sorted files ingested whole, and rebuilt from the log for the events an open finds unindexed.
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>

#include "storage/rocksdb_impl.h"

namespace expertflow::storage {

using engine::ErrorCode;

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

}  // namespace expertflow::storage
