// Appends to a RocksDB event log forever, printing each acknowledged head seq on its own line
// after Append returns. The crash test kills it at a random moment (tests/storage/crash_test.cc).
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "storage/rocksdb_event_log.h"

int main(int argc, char** argv) {
  using namespace expertflow;
  if (argc != 3) {
    std::fprintf(stderr, "usage: log_crash_child DIR SEED\n");
    return 2;
  }
  auto log = storage::RocksDbEventLog::Open(argv[1], {});
  if (!log) {
    std::fprintf(stderr, "open: %s\n", log.error().ToString().c_str());
    return 1;
  }
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  for (std::uint64_t n = 0;; ++n) {
    engine::AppendBatch batch;
    const int parts = 1 + static_cast<int>(rng() % 4);
    for (int p = 0; p < parts; ++p) {
      engine::StreamAppend part{"proposals/s" + std::to_string(rng() % 50), std::nullopt, {}};
      const int events = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < events; ++e) {
        engine::NewEvent ev;
        ev.type = "ProposalUpdated";
        ev.occurred_at = engine::Timestamp(std::chrono::seconds(1760000000 + n));
        ev.actor = {"umc-05", "umc_lead", "t"};
        ev.command = "update";
        ev.command_id = "c" + std::to_string(n);
        ev.data = R"({"payload":{"summary":")" + std::string(100 + rng() % 400, 'x') + R"("}})";
        part.events.push_back(std::move(ev));
      }
      batch.appends.push_back(std::move(part));
    }
    batch.writes.push_back(
        {engine::Space::kViews, "batch/" + std::to_string(n), std::to_string(n)});
    auto r = (*log)->Append(batch);
    if (!r) {
      std::fprintf(stderr, "append: %s\n", r.error().ToString().c_str());
      return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(r->head.seq));
    std::fflush(stdout);
  }
}
