// The event log against the machine's limit (issue 2), in one run:
//   BM_RawWriteBatch           — pre-built 300-byte values, 100 per WriteBatch, sync=true: the
//                                limit; ...WithIndex adds a stream-index-shaped key per value;
//   BM_RawWriteBatchOf/N       — the same with N values a batch (what N waiting callers can fill);
//   BM_RawSyncedWriters        — every thread writes one value a synced Write: RocksDB's own
//                                group commit, the raw figure for N concurrent submitters;
//   BM_RawWaitingSubmitters/B  — 64 threads that each hand one B-byte value to a batching thread
//                                and wait for its answer, no engine between them and the disk: the
//                                bound of the sequencer's 64-submitter figure (issue 19);
//   BM_EventLogAppend          — realistic 444-byte events through RocksDbEventLog, 100 per
//                                batch, with encoding and the hash chain, one batch at a time;
//   BM_EventLogAppendPipelined — the same with AppendAsync, two batches in flight;
//   BM_ForwardRead, BM_Verify  — ForEach and Verify over a realistic log of 1M events;
//   BM_ReplayInstances, BM_RebuildAllProjections, BM_AsOfStream100 — issue 5, on that log.
// Items per second is the figure to compare (events/s).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/bench_events.h"
#include "engine/log/event_log.h"
#include "engine/projections/rebuild.h"
#include "engine/projections/stage_stats.h"
#include "storage/rocksdb_event_log.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"

namespace expertflow {
namespace {

namespace fs = std::filesystem;
constexpr int kBatch = 100;

fs::path TempPath(const std::string& name) { return bench::TempPath("expertflow-bench-", name); }

// The raw loops' key: the value's number, big-endian (as the event log's seq keys are).
void SeqKey(std::uint64_t k, char (&key)[8]) {
  for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(k >> (56 - 8 * b));
}

// Pre-built 300-byte values, 100 per WriteBatch, sync. With `stream_index`, each value also gets
// a second key shaped like the event log's stream index ("proposals/p<n>", '\0', big-endian seq;
// 5,000 streams): RocksDB alone, with default options, writing as many keys as the log does.
void RawWriteBatch(benchmark::State& state, bool stream_index, int values = kBatch) {
  const fs::path dir = TempPath(stream_index ? "raw-index" : "raw");
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
  std::string index_key;
  for (auto _ : state) {
    rocksdb::WriteBatch batch;
    for (int i = 0; i < values; ++i) {
      char key[8];
      const std::uint64_t k = ++seq;
      SeqKey(k, key);
      batch.Put(rocksdb::Slice(key, 8), value);
      if (stream_index) {
        index_key = "proposals/p" + std::to_string(k % 5000);
        index_key.push_back('\0');
        index_key.append(key, 8);
        batch.Put(index_key, rocksdb::Slice(key, 8));
      }
    }
    if (!db->Write(sync, &batch).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * values);
  db.reset();
  fs::remove_all(dir);
}

void BM_RawWriteBatch(benchmark::State& state) { RawWriteBatch(state, false); }
BENCHMARK(BM_RawWriteBatch)->UseRealTime()->MinTime(3.0);
void BM_RawWriteBatchWithIndex(benchmark::State& state) { RawWriteBatch(state, true); }
BENCHMARK(BM_RawWriteBatchWithIndex)->UseRealTime()->MinTime(3.0);

// Smaller batches: 64 callers that each wait for their answer can fill a batch of 64 at most, and
// while one batch syncs the next can only hold those not in it (half of them, in a steady state).
void BM_RawWriteBatchOf(benchmark::State& state) {
  RawWriteBatch(state, false, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_RawWriteBatchOf)->Arg(64)->Arg(32)->UseRealTime()->MinTime(3.0);

// Every thread puts one pre-built 300-byte value a synced Write, as a submitter of a one-event
// command does; RocksDB's write groups make concurrent writers share a WAL sync. No engine at all:
// the raw figure next to the sequencer's at the same number of submitters.
struct SyncedWriters {
  fs::path dir;
  std::unique_ptr<rocksdb::DB> db;
  std::atomic<std::uint64_t> seq{0};
};
SyncedWriters* synced_writers = nullptr;

void BM_RawSyncedWriters(benchmark::State& state) {
  const std::string value(300, 'v');
  rocksdb::WriteOptions sync;
  sync.sync = true;
  for (auto _ : state) {
    if (!synced_writers->db) {
      state.SkipWithError("cannot open RocksDB");
      break;
    }
    char key[8];
    SeqKey(++synced_writers->seq, key);
    rocksdb::WriteBatch batch;
    batch.Put(rocksdb::Slice(key, 8), value);
    if (!synced_writers->db->Write(sync, &batch).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawSyncedWriters)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(3.0)
    ->Setup([](const benchmark::State&) {
      synced_writers = new SyncedWriters;
      synced_writers->dir = TempPath("raw-writers");
      fs::remove_all(synced_writers->dir);
      rocksdb::Options options;
      options.create_if_missing = true;
      rocksdb::DB* raw = nullptr;
      if (rocksdb::DB::Open(options, synced_writers->dir.string(), &raw).ok())
        synced_writers->db.reset(raw);
    })
    ->Teardown([](const benchmark::State&) {
      synced_writers->db.reset();
      fs::remove_all(synced_writers->dir);
      delete synced_writers;
      synced_writers = nullptr;
    });

// The sequencer's figure at 64 waiting submitters (sequencer_bench.cc) with everything of the
// engine taken out: each of 64 threads hands one pre-built value to a batching thread and waits on
// a promise for its answer, as a caller of Sequencer::Submit does; the batching thread takes what
// is queued, writes it as one synced WriteBatch and answers every caller of it. What is left is
// the group commit of 64 waiting callers on this machine: waking them, their threads' turns on the
// cores, and the sync of the bytes their commands write. B is those bytes a command: 300, the raw
// figures' value, and 2048, what the engine writes for a create (its ~1 KB event and its ~0.9 KB
// view; `expertflow_batch_write_seconds` batches of 31 creates write ~64 KB).
struct WaitingSubmitters {
  struct Request {
    const std::string* value;
    std::promise<bool> done;
  };
  fs::path dir;
  std::unique_ptr<rocksdb::DB> db;
  std::string value;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Request*> queue;
  bool stopping = false;
  std::thread batcher;

  void Run() {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    std::uint64_t seq = 0;
    std::vector<Request*> batch;
    while (true) {
      batch.clear();
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        while (!queue.empty() && batch.size() < 64) {
          batch.push_back(queue.front());
          queue.pop_front();
        }
      }
      if (!db) {
        for (Request* r : batch) r->done.set_value(false);
        continue;
      }
      rocksdb::WriteBatch wb;
      for (Request* r : batch) {
        char key[8];
        SeqKey(++seq, key);
        wb.Put(rocksdb::Slice(key, 8), *r->value);
      }
      const bool ok = db->Write(sync, &wb).ok();
      for (Request* r : batch) r->done.set_value(ok);
    }
  }
};
WaitingSubmitters* waiting = nullptr;

void BM_RawWaitingSubmitters(benchmark::State& state) {
  std::int64_t failures = 0;
  const double cpu_before = state.thread_index() == 0 ? bench::ProcessCpuSeconds() : 0;
  for (auto _ : state) {
    WaitingSubmitters::Request request{&waiting->value, {}};
    auto answer = request.done.get_future();
    bool first = false;
    {
      std::lock_guard lock(waiting->mu);
      first = waiting->queue.empty();
      waiting->queue.push_back(&request);
    }
    if (first) waiting->cv.notify_one();
    if (!answer.get()) ++failures;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = static_cast<double>(failures);
  // The CPU of every thread of the process a command, in µs, as BM_SequencerDurableCommands
  // reports it: what the structure costs before any engine work.
  if (state.thread_index() == 0) {
    state.counters["cpu_us"] = (bench::ProcessCpuSeconds() - cpu_before) * 1e6 /
                               static_cast<double>(state.iterations() * state.threads());
  }
}
BENCHMARK(BM_RawWaitingSubmitters)
    ->Arg(300)
    ->Arg(2048)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(3.0)
    ->Setup([](const benchmark::State& state) {
      waiting = new WaitingSubmitters;
      waiting->dir = TempPath("raw-waiting");
      waiting->value.assign(static_cast<std::size_t>(state.range(0)), 'v');
      fs::remove_all(waiting->dir);
      rocksdb::Options options;
      options.create_if_missing = true;
      rocksdb::DB* raw = nullptr;
      // Without a store every answer is a failure, counted in `failures`.
      if (rocksdb::DB::Open(options, waiting->dir.string(), &raw).ok()) waiting->db.reset(raw);
      waiting->batcher = std::thread([] { waiting->Run(); });
    })
    ->Teardown([](const benchmark::State&) {
      {
        std::lock_guard lock(waiting->mu);
        waiting->stopping = true;
      }
      waiting->cv.notify_one();
      waiting->batcher.join();
      waiting->db.reset();
      fs::remove_all(waiting->dir);
      delete waiting;
      waiting = nullptr;
    });

engine::AppendBatch Batch(std::uint64_t n) {
  engine::AppendBatch b;
  for (int i = 0; i < kBatch; ++i) {
    b.appends.push_back({"proposals/p" + std::to_string((n * kBatch + i) % 5000),
                         std::nullopt,
                         {bench::ConclusionEvent(n * kBatch + i)}});
  }
  return b;
}

// A fresh log in a temporary folder, and the inputs built before timing, as the raw benchmark's
// values are: the streams of Batch() repeat every 50 batches, so 50 pre-built batches give the
// same stream pattern.
struct AppendSetup {
  fs::path dir;
  std::unique_ptr<storage::RocksDbEventLog> log;
  std::vector<engine::AppendBatch> inputs;
  explicit AppendSetup(const std::string& name) : dir(TempPath(name)) {
    fs::remove_all(dir);
    auto opened = storage::RocksDbEventLog::Open(dir.string(), {});
    if (opened) log = std::move(*opened);
    for (std::uint64_t i = 0; i < 50; ++i) inputs.push_back(Batch(i));
  }
  ~AppendSetup() {
    log.reset();
    fs::remove_all(dir);
  }
};

void BM_EventLogAppend(benchmark::State& state) {
  AppendSetup setup("append");
  if (!setup.log) return state.SkipWithError("cannot open the log");
  auto& log = setup.log;
  auto& inputs = setup.inputs;
  std::uint64_t n = 0;
  std::size_t record_bytes = 0;
  for (auto _ : state) {
    auto r = log->Append(inputs[n++ % inputs.size()]);
    if (!r)
      state.SkipWithError("append failed");
    else
      record_bytes = r->events.back().record.size();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["record_bytes"] = static_cast<double>(record_bytes);
}
BENCHMARK(BM_EventLogAppend)->UseRealTime()->MinTime(3.0);

// The same appends as the sequencer makes them: AppendAsync with the next batch prepared while
// the last one syncs (two in flight at most, the sequencer's bound). The writer thread writes
// what is queued together, so one sync may carry both.
void BM_EventLogAppendPipelined(benchmark::State& state) {
  AppendSetup setup("append-pipelined");
  if (!setup.log) return state.SkipWithError("cannot open the log");
  auto& log = setup.log;
  auto& inputs = setup.inputs;
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
}
BENCHMARK(BM_EventLogAppendPipelined)->UseRealTime()->MinTime(3.0);

// A log of 1M events, built once without sync (only reading it is measured). Its events follow
// the life of an industry proposal as the demo and the workflows write them (drafted, updated,
// submitted, sent to expertise with a round and a timer, three conclusions, the round closed,
// approbation, approval): ten events a stream, 500 streams in flight at a time, so replay
// exercises every member evolve reads. One stream, "proposals/hot", gets one event in every
// 10,000: the 100-event stream of the as_of figure, spread over the whole log.
constexpr std::uint64_t kBigLogEvents = 1'000'000;
constexpr std::uint64_t kInFlight = 500;
constexpr std::uint64_t kLifeEvents = 10;

engine::NewEvent LifecycleEvent(std::uint64_t stream, std::uint64_t step, std::uint64_t n) {
  const std::string id = "p" + std::to_string(stream);
  const std::string umc =
      "umc-" + std::string(stream % 22 < 9 ? "0" : "") + std::to_string(stream % 22 + 1);
  static const char* const kExperts[3] = {"fumo-23.00.00", "irpo", "business-rspp"};
  engine::NewEvent e;
  e.schema = 1;
  e.occurred_at = engine::Timestamp(std::chrono::seconds(1767225600 + n * 30));
  e.command_id = "4bf52e065d0f98b2";
  e.actor = {umc, "umc_lead", "a1b2c3d4e5f6"};
  switch (step) {
    case 0:
      e.type = "ProposalDrafted";
      e.command = "create";
      e.actor = {"assoc-01", "association_member", "a1b2c3d4e5f6"};
      e.data =
          R"({"created":{"by":"assoc-01","collection":"proposals","id":")" + id +
          R"(","participants":{"association":"assoc-01","ftpo":"ftpo-nnovgorod","irpo":"irpo","ministry":"ministry","umc":")" +
          umc +
          R"("},"workflow":"industry_proposal","workflow_version":1},"payload":{"summary":"Позиция отраслевой ассоциации, сформированная по итогам обсуждения с работодателями","title":"Единый отраслевой подход к практической подготовке","topic":"unified_training_approach","ugps":["07.00.00"]},"to":"drafting","update_fields":true})";
      break;
    case 1:
      e.type = "ProposalUpdated";
      e.command = "update";
      e.data = R"({"payload":{"summary":"Уточнённая позиция ассоциации"},"update_fields":true})";
      break;
    case 2:
      e.type = "ProposalSubmittedToUmc";
      e.command = "submit_to_umc";
      e.data = R"({"payload":{},"to":"umc_review"})";
      break;
    case 3:
      e.type = "ProposalSentToExpertise";
      e.command = "send_to_expertise";
      e.data =
          R"({"payload":{"experts":{"business":["business-rspp"],"fumo":["fumo-23.00.00"]}},"round":{"number":1,"parties":[{"org":"fumo-23.00.00","role":"fumo_expert"},{"org":"irpo","role":"irpo_staff"},{"org":"business-rspp","role":"business_expert"}]},"timers":{"set":{"expertise":")" +
          engine::FormatRfc3339(e.occurred_at + std::chrono::days(30)) + R"("}},"to":"expertise"})";
      break;
    case 4:
    case 5:
    case 6: {
      const std::string org = kExperts[step - 4];
      e.type = "ConclusionSubmitted";
      e.command = "submit_conclusion";
      e.actor = {org, "fumo_expert", "a1b2c3d4e5f6"};
      e.data =
          R"({"payload":{"comment":"Экспертное заключение","verdict":"approve"},"vote":{"org":")" +
          org + R"(","verdict":"approve"}})";
      break;
    }
    case 7:
      e.type = "ExpertiseCompleted";
      e.command = "submit_conclusion";
      e.data =
          R"({"closed_round":1,"outcome":"ftpo_trial","timers":{"clear":["expertise"]},"to":"ftpo_trial","verdicts":{"business-rspp":"approve","fumo-23.00.00":"approve","irpo":"approve"}})";
      break;
    case 8:
      e.type = "ApprobationRecorded";
      e.command = "record_approbation";
      e.data =
          R"({"payload":{"outcome":"successful","report":"Отчёт об апробации в ФТПО"},"to":"umc_review"})";
      break;
    default:
      e.type = "ProposalApproved";
      e.command = "approve";
      e.data = R"({"payload":{},"to":"dissemination"})";
      break;
  }
  return e;
}

// Events n .. n+99 of the big log.
engine::AppendBatch LifecycleBatch(std::uint64_t n) {
  engine::AppendBatch b;
  for (std::uint64_t i = n; i < n + kBatch; ++i) {
    if (i % 10'000 == 0) {
      engine::NewEvent e = LifecycleEvent(0, 1, i);
      b.appends.push_back({"proposals/hot", std::nullopt, {std::move(e)}});
      continue;
    }
    const std::uint64_t wave = i / (kInFlight * kLifeEvents);
    const std::uint64_t step = i % (kInFlight * kLifeEvents) / kInFlight;
    const std::uint64_t stream = wave * kInFlight + i % kInFlight;
    b.appends.push_back(
        {"proposals/p" + std::to_string(stream), std::nullopt, {LifecycleEvent(stream, step, i)}});
  }
  return b;
}

struct BigLog {
  fs::path dir = TempPath("1m");
  std::unique_ptr<storage::RocksDbEventLog> log;
  BigLog() {
    fs::remove_all(dir);
    storage::RocksDbEventLog::Options o;
    o.sync = false;
    log = std::move(*storage::RocksDbEventLog::Open(dir.string(), o));
    for (std::uint64_t n = 0; n < kBigLogEvents; n += kBatch) (void)log->Append(LifecycleBatch(n));
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
    state.PauseTiming();  // freeing the states is not replaying, as below
    states = {};
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.GetHead().seq));
}
BENCHMARK(BM_ReplayInstances)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// Every projection rebuilt from the same log, as `expertflow rebuild --projection all` rebuilds
// them before writing: the instance states with their stored views serialised, and the stage
// statistics from scratch (on a second thread, side by side).
void BM_RebuildAllProjections(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  static const engine::DefinitionSet definitions = std::move(*workflows::BuiltinDefinitions());
  std::size_t view_bytes = 0;
  for (auto _ : state) {
    engine::StageStatistics stats(definitions, workflows::Builtin());
    auto rebuilt = engine::RebuildInMemory(log, &stats);
    if (!rebuilt || stats.checkpoint() != log.GetHead().seq) state.SkipWithError("rebuild failed");
    for (const auto& [stream, view] : rebuilt->views) view_bytes += view.size();
    benchmark::DoNotOptimize(rebuilt);
    // Freeing the rebuilt projections (~100k states, ~0.4 s with glibc's malloc) is not part of
    // rebuilding them: the command writes them and exits.
    state.PauseTiming();
    rebuilt = {};
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.GetHead().seq));
  state.counters["view_bytes"] = static_cast<double>(view_bytes / state.iterations());
}
BENCHMARK(BM_RebuildAllProjections)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// The stage statistics alone, from scratch: the longer half of the rebuild above.
void BM_RebuildStageStatistics(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  static const engine::DefinitionSet definitions = std::move(*workflows::BuiltinDefinitions());
  for (auto _ : state) {
    engine::StageStatistics stats(definitions, workflows::Builtin());
    if (!stats.CatchUp(log)) state.SkipWithError("stage statistics failed");
    benchmark::DoNotOptimize(stats);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.GetHead().seq));
}
BENCHMARK(BM_RebuildStageStatistics)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_AsOfStream100(benchmark::State& state) {
  auto& log = *TheBigLog().log;
  for (auto _ : state) {
    engine::InstanceState s;
    auto events = log.ReadStream("proposals/hot", 1, 100);
    for (const auto& e : *events) (void)engine::EvolveRecord(s, e.record);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_AsOfStream100)->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace expertflow

BENCHMARK_MAIN();
