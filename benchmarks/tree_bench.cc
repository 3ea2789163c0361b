// Issue 17's goals for the Merkle tree over the log (docs/audit.md), side by side in one run:
//   BM_AppendsWithTree/tree:0 and /tree:1  the sequencer's pipelined durable appends (100
//       realistic events a batch, two in flight) without and with the tree: the second at 95% or
//       more of the first;
//   BM_InclusionProof, BM_ConsistencyProof  a proof on a log of EXPERTFLOW_BENCH_LARGE_LOG events
//       (default 5,000,000; benchmarks/run's full run), under 1 ms each;
//   BM_TreeBuildOnOpen  the first open of a store from before the tree (its tree dropped): the
//       tree built from the log, events per second (1M or more is the goal).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <semaphore>

#include "benchmarks/bench_events.h"
#include "engine/log/event_log.h"
#include "storage/rocksdb_event_log.h"

namespace expertflow {
namespace {

namespace fs = std::filesystem;
constexpr int kBatch = 100;

fs::path TreePath(const std::string& name) { return bench::TempPath("expertflow-tree-", name); }

std::unique_ptr<storage::RocksDbEventLog> OpenLog(const fs::path& dir, bool sync, bool tree) {
  storage::RocksDbEventLog::Options o;
  o.sync = sync;
  o.keep_tree = tree;
  auto log = storage::RocksDbEventLog::Open(dir.string(), o);
  return log ? std::move(*log) : nullptr;
}

engine::AppendBatch Batch(std::uint64_t n) {
  engine::AppendBatch b;
  for (int i = 0; i < kBatch; ++i) {
    b.appends.push_back({"proposals/p" + std::to_string((n * kBatch + i) % 5000),
                         std::nullopt,
                         {bench::ConclusionEvent(n * kBatch + i)}});
  }
  return b;
}

void BM_AppendsWithTree(benchmark::State& state) {
  const fs::path dir = TreePath("appends-" + std::to_string(state.range(0)));
  fs::remove_all(dir);
  auto log = OpenLog(dir, /*sync=*/true, /*tree=*/state.range(0) != 0);
  if (!log) return state.SkipWithError("cannot open the log");
  std::vector<engine::AppendBatch> inputs;
  for (std::uint64_t i = 0; i < 50; ++i) inputs.push_back(Batch(i));
  std::counting_semaphore<2> in_flight(2);
  std::atomic<std::int64_t> failures{0};
  std::uint64_t n = 0;
  for (auto _ : state) {
    in_flight.acquire();
    log->AppendAsync(inputs[n++ % inputs.size()], [&](engine::Result<engine::AppendResult> r) {
      if (!r) ++failures;
      in_flight.release();
    });
  }
  in_flight.acquire();
  in_flight.acquire();
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["failures"] = static_cast<double>(failures.load());
  if (log->Tree() != nullptr)
    state.counters["tree_size"] = static_cast<double>(log->Tree()->Size());
  log.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_AppendsWithTree)->ArgName("tree")->Arg(0)->Arg(1)->UseRealTime()->MinTime(3.0);

std::uint64_t LargeEvents() {
  const char* v = std::getenv("EXPERTFLOW_BENCH_LARGE_LOG");
  return v ? std::strtoull(v, nullptr, 10) : 5'000'000;
}

// The large log, preloaded once per process without sync (the tree built as it goes, as the
// server builds it), then reopened.
struct LargeTreeLog {
  fs::path dir = TreePath("large");
  std::unique_ptr<storage::RocksDbEventLog> log;
  LargeTreeLog() {
    fs::remove_all(dir);
    {
      auto preload = OpenLog(dir, /*sync=*/false, /*tree=*/true);
      if (!preload) return;
      const std::uint64_t target = LargeEvents();
      for (std::uint64_t n = 0; n < target;) {
        engine::AppendBatch b;
        for (int i = 0; i < 1000 && n < target; ++i, ++n)
          b.appends.push_back(
              {"proposals/s" + std::to_string(n % 50'000), std::nullopt, {bench::ConclusionEvent(n)}});
        if (!preload->Append(b)) return;
      }
    }
    log = OpenLog(dir, /*sync=*/true, /*tree=*/true);
  }
  ~LargeTreeLog() {
    log.reset();
    fs::remove_all(dir);
  }
};

LargeTreeLog& TheLargeTreeLog() {
  static LargeTreeLog large;
  return large;
}

void BM_InclusionProof(benchmark::State& state) {
  auto& large = TheLargeTreeLog();
  if (!large.log) return state.SkipWithError("cannot build the large log");
  const engine::MerkleTree& tree = *large.log->Tree();
  const std::uint64_t size = tree.Size();
  std::mt19937_64 rng(17);
  for (auto _ : state) {
    auto proof = tree.Inclusion(rng() % size, size);
    if (!proof) state.SkipWithError("no proof");
    benchmark::DoNotOptimize(proof);
  }
  state.counters["tree_size"] = static_cast<double>(size);
}
BENCHMARK(BM_InclusionProof)->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  auto& large = TheLargeTreeLog();
  if (!large.log) return state.SkipWithError("cannot build the large log");
  const engine::MerkleTree& tree = *large.log->Tree();
  const std::uint64_t size = tree.Size();
  std::mt19937_64 rng(18);
  for (auto _ : state) {
    auto proof = tree.Consistency(1 + rng() % (size - 1), size);
    if (!proof) state.SkipWithError("no proof");
    benchmark::DoNotOptimize(proof);
  }
  state.counters["tree_size"] = static_cast<double>(size);
}
BENCHMARK(BM_ConsistencyProof)->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);

// Each iteration drops the stored tree (untimed) and reopens the store: the open builds the tree
// from the log, as the first start after this change does on an older store.
void BM_TreeBuildOnOpen(benchmark::State& state) {
  auto& large = TheLargeTreeLog();
  if (!large.log) return state.SkipWithError("cannot build the large log");
  const std::uint64_t events = large.log->GetHead().seq;
  for (auto _ : state) {
    state.PauseTiming();
    if (!large.log->DropTreeForTesting()) state.SkipWithError("cannot drop the tree");
    large.log.reset();
    state.ResumeTiming();
    large.log = OpenLog(large.dir, /*sync=*/true, /*tree=*/true);
    if (!large.log || large.log->Tree()->Size() != events)
      return state.SkipWithError("the tree was not rebuilt");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events));
}
BENCHMARK(BM_TreeBuildOnOpen)->UseRealTime()->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace expertflow
