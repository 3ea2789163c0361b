// Does the cost of an append grow with the log (issue 7)? The same durable appends — 100 realistic
// events a batch, sync=true, to streams drawn at random from 50,000 — on an empty log and on a log
// already holding a large number of events:
//   BM_AppendOnLog/0       a fresh log for each run;
//   BM_AppendOnLog/large   one log preloaded once per process with EXPERTFLOW_BENCH_LARGE_LOG
//   events
//                          (default 5,000,000) spread over the same 50,000 streams (see
//                          EXPERTFLOW_BENCH_LARGE_LOG_DIR below to keep it between processes).
// The preload is a fixture: batches of 1,000 with sync=false, then the log is reopened with sync.
// Items per second is the figure to compare (events/s).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "benchmarks/bench_events.h"
#include "engine/log/event_log.h"
#include "storage/rocksdb_event_log.h"

namespace expertflow {
namespace {

namespace fs = std::filesystem;
constexpr int kBatch = 100;
constexpr std::uint64_t kStreams = 50'000;

std::uint64_t LargeLogEvents() {
  const char* v = std::getenv("EXPERTFLOW_BENCH_LARGE_LOG");
  return v ? std::strtoull(v, nullptr, 10) : 5'000'000;
}

fs::path ScalePath(const std::string& name) { return bench::TempPath("expertflow-scale-", name); }

std::string Stream(std::uint64_t k) { return "proposals/s" + std::to_string(k % kStreams); }

std::unique_ptr<storage::RocksDbEventLog> OpenLog(const fs::path& dir, bool sync) {
  storage::RocksDbEventLog::Options o;
  o.sync = sync;
  auto log = storage::RocksDbEventLog::Open(dir.string(), o);
  return log ? std::move(*log) : nullptr;
}

// EXPERTFLOW_BENCH_LARGE_LOG_DIR keeps the preloaded log in that folder across processes (a run in
// rounds preloads it once); without it the log lives in a temporary folder of this process.
const char* LargeLogDir() { return std::getenv("EXPERTFLOW_BENCH_LARGE_LOG_DIR"); }

struct LargeLog {
  fs::path dir = LargeLogDir() ? fs::path(LargeLogDir()) : ScalePath("large");
  std::unique_ptr<storage::RocksDbEventLog> log;
  LargeLog() {
    const std::uint64_t target = LargeLogEvents();
    if (LargeLogDir() && fs::exists(dir)) {
      log = OpenLog(dir, /*sync=*/true);
      if (log && log->GetHead().seq >= target) return;
      log.reset();
    }
    fs::remove_all(dir);
    {
      auto preload = OpenLog(dir, /*sync=*/false);
      if (!preload) return;
      std::uint64_t n = 0;
      while (n < target) {
        engine::AppendBatch b;
        for (int i = 0; i < 1000 && n < target; ++i, ++n) {
          b.appends.push_back({Stream(n), std::nullopt, {bench::ConclusionEvent(n)}});
        }
        if (!preload->Append(b)) return;
      }
    }
    log = OpenLog(dir, /*sync=*/true);
  }
  ~LargeLog() {
    log.reset();
    if (!LargeLogDir()) fs::remove_all(dir);
  }
};

void AppendLoop(benchmark::State& state, storage::RocksDbEventLog& log) {
  std::mt19937_64 rng(42);
  std::uint64_t n = log.GetHead().seq;
  for (auto _ : state) {
    engine::AppendBatch b;
    for (int i = 0; i < kBatch; ++i, ++n) {
      b.appends.push_back({Stream(rng()), std::nullopt, {bench::ConclusionEvent(n)}});
    }
    if (!log.Append(b)) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["events_before"] = static_cast<double>(n - state.iterations() * kBatch);
}

void BM_AppendOnLog(benchmark::State& state) {
  if (state.range(0) == 0) {
    const fs::path dir = ScalePath("empty");
    fs::remove_all(dir);
    auto log = OpenLog(dir, /*sync=*/true);
    if (!log) {
      state.SkipWithError("cannot open the log");
      return;
    }
    AppendLoop(state, *log);
    log.reset();
    fs::remove_all(dir);
    return;
  }
  static LargeLog large;
  if (!large.log) {
    state.SkipWithError("cannot build the large log");
    return;
  }
  AppendLoop(state, *large.log);
}
BENCHMARK(BM_AppendOnLog)->ArgName("large")->Arg(0)->Arg(1)->UseRealTime()->MinTime(3.0);

}  // namespace
}  // namespace expertflow
