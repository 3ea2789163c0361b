// Commands per second through the sequencer on RocksDB with durable group commit (issue 3):
// 1 and 64 concurrent submitters, each waiting for its own acknowledgement, as API callers do.
// Read next to the raw WriteBatch limit measured by log_bench.cc in the same run.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <semaphore>

#include "benchmarks/bench_events.h"
#include "engine/log/memory_event_log.h"
#include "engine/runtime/sequencer.h"
#include "storage/rocksdb_event_log.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow {
namespace {

namespace fs = std::filesystem;

struct SequencerFixture {
  fs::path dir;
  std::unique_ptr<engine::EventLog> log;
  engine::DefinitionSet definitions;
  engine::RoutingTable routing;
  engine::SystemClock clock;
  engine::RandomIdGenerator ids;
  std::unique_ptr<engine::Sequencer> sequencer;
};

SequencerFixture* fixture = nullptr;

// On RocksDB (durable group commit), or with `in_memory` on the in-memory log: no disk, so what
// is left is the CPU the write path costs (the bound the sequencer puts on the disk's figure).
void Start(bool in_memory, engine::SequencerOptions options = {}) {
  fixture = new SequencerFixture;
  fixture->dir = fs::temp_directory_path() / ("expertflow-seq-bench-" + std::to_string(::getpid()));
  fs::remove_all(fixture->dir);
  if (in_memory) {
    fixture->log = std::make_unique<engine::MemoryEventLog>();
  } else {
    storage::RocksDbEventLog::Options options;
    options.create_if_missing = true;
    fixture->log = std::move(*storage::RocksDbEventLog::Open(fixture->dir.string(), options));
  }
  fixture->definitions = std::move(*workflows::BuiltinDefinitions());
  fixture->routing = workflows::BuiltinRouting();
  fixture->sequencer =
      std::make_unique<engine::Sequencer>(*fixture->log, fixture->definitions, workflows::Builtin(),
                                          fixture->routing, fixture->clock, fixture->ids, options);
  (void)fixture->sequencer->Start();
}
void SetUp(const benchmark::State&) { Start(false); }
void SetUpInMemory(const benchmark::State&) { Start(true); }
// The view checkpoints every `state.range(0)` events; 0 writes every changed view with the batch
// that changed it, as the views were written before they were checkpointed.
void SetUpCheckpoints(const benchmark::State& state) {
  engine::SequencerOptions options;
  options.view_checkpoint_events = static_cast<std::uint64_t>(state.range(0));
  Start(false, options);
}

void TearDown(const benchmark::State&) {
  fixture->sequencer->Stop();
  fixture->sequencer.reset();
  fixture->log.reset();
  fs::remove_all(fixture->dir);
  delete fixture;
  fixture = nullptr;
}

// A member of the association `n` % 22 + 1 (assoc-01 ... assoc-22).
engine::Principal AssociationMember(std::uint64_t n) {
  const std::uint64_t k = n % 22;
  return {"assoc-" + std::string(k < 9 ? "0" : "") + std::to_string(k + 1), "association_member",
          "bench"};
}

// One durable create command (one ProposalDrafted event of ~600 bytes, with its view) by the
// association `n` % 22 + 1.
engine::Submission CreateBy(std::uint64_t n) {
  static const nlohmann::json payload = {
      {"title", "Единый отраслевой подход к практической подготовке"},
      {"topic", "unified_training_approach"},
      {"summary",
       "Позиция отраслевой ассоциации, сформированная по итогам обсуждения с работодателями"},
      {"ugps", {"15.00.00"}}};
  engine::Submission sub;
  sub.command.kind = engine::Command::Kind::kCreate;
  sub.command.collection = "proposals";
  sub.command.workflow = "industry_proposal";
  sub.command.name = "create";
  sub.command.actor = AssociationMember(n);
  sub.command.payload = payload;
  return sub;
}

// Each iteration: one durable create command (one ProposalDrafted event of ~600 bytes, with its
// view), submitted and waited for.
void BM_SequencerDurableCommands(benchmark::State& state) {
  std::int64_t failures = 0;
  const double cpu_before = state.thread_index() == 0 ? bench::ProcessCpuSeconds() : 0;
  for (auto _ : state) {
    if (!fixture->sequencer->Submit(CreateBy(state.thread_index())).get()) ++failures;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = static_cast<double>(failures);
  if (state.thread_index() == 0) {
    // The CPU of every thread of the process a command, in µs (thread 0's figure alone: Google
    // Benchmark sums a counter over the threads).
    state.counters["cpu_us"] = (bench::ProcessCpuSeconds() - cpu_before) * 1e6 /
                               static_cast<double>(state.iterations() * state.threads());
    auto stats = fixture->sequencer->Stats();
    state.counters["commands_per_sync"] =
        stats.batches ? static_cast<double>(stats.commands) / static_cast<double>(stats.batches)
                      : 0;
    // A batch's time from its hand-over to the log to its answers (the write, its sync, and
    // settling), on average: what a command waits for beyond its batch's decision.
    state.counters["write_us"] = stats.batches ? static_cast<double>(stats.sync_micros_total) /
                                                     static_cast<double>(stats.batches)
                                               : 0;
    state.counters["decide_us"] = stats.batches ? static_cast<double>(stats.decide_micros_total) /
                                                      static_cast<double>(stats.batches)
                                                : 0;
  }
}
BENCHMARK(BM_SequencerDurableCommands)
    ->Setup(SetUp)
    ->Teardown(TearDown)
    ->Threads(1)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(2.0);

// The same commands with 64 of them in flight at all times, submitted through the callback API
// as the HTTP server does (its I/O threads hand a command over and go on serving; the answer comes
// back on the sequencer's thread). Measures the sequencer rather than 64 OS threads waking up.
void BM_SequencerInFlight(benchmark::State& state) {
  const auto in_flight = static_cast<std::ptrdiff_t>(state.range(0));
  std::counting_semaphore<1024> slots(in_flight);
  std::atomic<std::int64_t> failures{0};
  std::uint64_t n = 0;
  for (auto _ : state) {
    slots.acquire();
    fixture->sequencer->Submit(CreateBy(n++), [&](engine::Result<engine::CommandResult> r) {
      if (!r) ++failures;
      slots.release();
    });
  }
  for (std::ptrdiff_t i = 0; i < in_flight; ++i) slots.acquire();  // every answer is in
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = static_cast<double>(failures.load());
  auto stats = fixture->sequencer->Stats();
  state.counters["commands_per_sync"] =
      stats.batches ? static_cast<double>(stats.commands) / static_cast<double>(stats.batches) : 0;
}
BENCHMARK(BM_SequencerInFlight)
    ->Setup(SetUp)
    ->Teardown(TearDown)
    ->Arg(64)
    ->UseRealTime()
    ->MinTime(2.0);
// `update` commands (one event each) to 1,000 instances at random, 64 in flight, as the HTTP
// figure of `benchmarks/run` sends them: the views of a working set, written with every batch
// (arg 0) or checkpointed (the default, 16384 events).
void BM_SequencerUpdates(benchmark::State& state) {
  constexpr int kInstances = 1000;
  std::vector<std::string> ids;
  for (int i = 0; i < kInstances; ++i) {
    auto r = fixture->sequencer->Submit(CreateBy(static_cast<std::uint64_t>(i))).get();
    if (!r) {
      state.SkipWithError("create failed");
      return;
    }
    ids.push_back(r->instance.id);
  }
  std::counting_semaphore<1024> slots(64);
  std::atomic<std::int64_t> failures{0};
  std::minstd_rand rng(20261123);
  for (auto _ : state) {
    slots.acquire();
    const std::size_t k = rng() % kInstances;
    engine::Submission sub;
    sub.command.kind = engine::Command::Kind::kAct;
    sub.command.collection = "proposals";
    sub.command.instance_id = ids[k];
    sub.command.name = "update";
    sub.command.actor = AssociationMember(k);  // instance k was created by this association
    sub.command.payload = {{"summary", "обновлено"}};
    fixture->sequencer->Submit(std::move(sub), [&](engine::Result<engine::CommandResult> r) {
      if (!r) ++failures;
      slots.release();
    });
  }
  for (int i = 0; i < 64; ++i) slots.acquire();
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = static_cast<double>(failures.load());
}
BENCHMARK(BM_SequencerUpdates)
    ->Setup(SetUpCheckpoints)
    ->Teardown(TearDown)
    ->Arg(0)
    ->Arg(16384)
    ->UseRealTime()
    ->MinTime(2.0);

// The same on the in-memory log: the write path's CPU alone.
BENCHMARK(BM_SequencerInFlight)
    ->Name("BM_SequencerInFlightInMemory")
    ->Setup(SetUpInMemory)
    ->Teardown(TearDown)
    ->Arg(64)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
}  // namespace expertflow
