// The event log against the machine's limit (issue 2), in one run:
//   BM_RawWriteBatch    — pre-built 300-byte values, 100 per WriteBatch, sync=true: the limit;
//   BM_EventLogAppend   — realistic ~300-byte events through RocksDbEventLog, 100 per batch,
//                         with encoding and the hash chain;
//   BM_ForwardRead      — ForEach over a log of 1M events;
//   BM_Verify           — Verify over the same log.
// Items per second is the figure to compare (events/s).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "engine/event_log.h"
#include "engine/rebuild.h"
#include "storage/rocksdb_event_log.h"

namespace expertflow {
namespace {

namespace fs = std::filesystem;
constexpr int kBatch = 100;

fs::path TempPath(const std::string& name) {
  return fs::temp_directory_path() /
         ("expertflow-bench-" + name + "-" + std::to_string(::getpid()));
}

void BM_RawWriteBatch(benchmark::State& state) {
  const fs::path dir = TempPath("raw");
  fs::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir.string(), &raw).ok()) {
    state.SkipWithError("cannot open RocksDB");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(300, 'v');
  rocksdb::WriteOptions sync;
  sync.sync = true;
  std::uint64_t seq = 0;
  for (auto _ : state) {
    rocksdb::WriteBatch batch;
    for (int i = 0; i < kBatch; ++i) {
      char key[8];
      const std::uint64_t k = ++seq;
      for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(k >> (56 - 8 * b));
      batch.Put(rocksdb::Slice(key, 8), value);
    }
    if (!db->Write(sync, &batch).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  db.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_RawWriteBatch)->UseRealTime()->MinTime(3.0);

engine::NewEvent RealisticEvent(std::uint64_t n) {
  engine::NewEvent e;
  e.type = "ConclusionSubmitted";
  e.occurred_at = engine::Timestamp(std::chrono::seconds(1767225600 + n));
  e.actor = {"fumo-09.00.00", "fumo_expert", "a1b2c3d4e5f6"};
  e.command = "submit_conclusion";
  e.command_id = "4bf52e065d0f98b2";
  e.data =
      R"({"payload":{"verdict":"approve"},"vote":{"org":"fumo-09.00.00","verdict":"approve"}})";
  return e;
}

engine::AppendBatch Batch(std::uint64_t n) {
  engine::AppendBatch b;
  for (int i = 0; i < kBatch; ++i) {
    b.appends.push_back({"proposals/p" + std::to_string((n * kBatch + i) % 5000),
                         std::nullopt,
                         {RealisticEvent(n * kBatch + i)}});
  }
  return b;
}

void BM_EventLogAppend(benchmark::State& state) {
  const fs::path dir = TempPath("append");
  fs::remove_all(dir);
  auto log = storage::RocksDbEventLog::Open(dir.string(), {});
  if (!log) {
    state.SkipWithError("cannot open the log");
    return;
  }
  std::uint64_t n = 0;
  std::size_t record_bytes = 0;
  for (auto _ : state) {
    auto r = (*log)->Append(Batch(n++));
    if (!r)
      state.SkipWithError("append failed");
    else
      record_bytes = r->events.back().record.size();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["record_bytes"] = static_cast<double>(record_bytes);
  log->reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_EventLogAppend)->UseRealTime()->MinTime(3.0);

// A log of 1M events, built once without sync (only reading it is measured).
struct BigLog {
  fs::path dir = TempPath("1m");
  std::unique_ptr<storage::RocksDbEventLog> log;
  BigLog() {
    fs::remove_all(dir);
    storage::RocksDbEventLog::Options o;
    o.sync = false;
    log = std::move(*storage::RocksDbEventLog::Open(dir.string(), o));
    for (std::uint64_t n = 0; n < 1'000'000 / kBatch; ++n) (void)log->Append(Batch(n));
  }
  ~BigLog() {
    log.reset();
    fs::remove_all(dir);
  }
};

BigLog& TheBigLog() {
  static BigLog big;
  return big;
}

void BM_ForwardRead(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    auto r = log.ForEach(1, log.GetHead().seq,
                         [&](std::uint64_t, const engine::Hash&, std::string_view rec) {
                           bytes += rec.size();
                           return true;
                         });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.GetHead().seq));
}
BENCHMARK(BM_ForwardRead)->UseRealTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_Verify(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  for (auto _ : state) {
    auto v = engine::Verify(log);
    if (!v || !v->ok) state.SkipWithError("the log does not verify");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.GetHead().seq));
}
BENCHMARK(BM_Verify)->UseRealTime()->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace expertflow

namespace expertflow {
namespace {

// Issue 5: replaying the log into fresh instance states (the rebuild of the views), next to the
// forward read above; and the `as_of` read of one 100-event stream in a log of 1M events.
void BM_ReplayInstances(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  for (auto _ : state) {
    auto states = engine::ReplayInstances(log);
    if (!states) state.SkipWithError("replay failed");
    benchmark::DoNotOptimize(states);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.GetHead().seq));
}
BENCHMARK(BM_ReplayInstances)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_AsOfStream100(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  for (auto _ : state) {
    engine::InstanceState s;
    auto events = log.ReadStream("proposals/p42", 1, 100);
    for (const auto& e : *events) {
      auto d = engine::DecodeRecord(e.record);
      engine::Evolve(s, d->type, d->occurred_at, d->data);
    }
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_AsOfStream100)->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace expertflow

BENCHMARK_MAIN();
