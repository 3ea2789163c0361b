// Builds a store of N events through the real command path (the sequencer: decide, evolve, views,
// timers), for the figures that need a realistic full store: the peak memory of `expertflow serve`
// holding it, its start, the `expertflow rebuild` of its projections, and HTTP on a store that is
// not empty. A fixture, not a figure: the log is opened with sync=false, so building it costs
// CPU, not the disk's sync latency.
//
// Every industry proposal walks its whole life (drafted, updated, submitted, sent to expertise,
// each party's conclusion, approbation, the ministry's approval, trainings, scaled), about 16
// events, by the organisations the routing assigned. The first --pool proposals, by assoc-05,
// stay in drafting so that HTTP clients can update and read them; their ids go to --ids.
//
// Usage: expertflow_bench_store --data DIR --events N [--pool 1000] [--ids FILE] [--threads 16]
// Prints one JSON line: {"events", "instances", "commands", "refused", "seconds"}.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/runtime/sequencer.h"
#include "storage/rocksdb_event_log.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow {
namespace {

using nlohmann::json;

// The time the store's events carry; `serve --clock manual --clock-start` this time fires none of
// the deadlines they armed.
constexpr const char* kClockStart = "2026-01-12T09:00:00Z";

struct Args {
  std::string data;
  std::uint64_t events = 0;
  std::size_t pool = 1000;
  std::string ids;
  int threads = 16;
};

class Builder {
 public:
  Builder(engine::Sequencer& seq, const engine::EventLog& log, const engine::Directory& dir)
      : seq_(seq), log_(log) {
    for (const auto* o : dir.Organizations("association")) associations_.push_back(o->id);
  }

  std::optional<engine::CommandResult> Send(engine::Command c) {
    engine::Submission sub;
    sub.command = std::move(c);
    auto r = seq_.Submit(std::move(sub)).get();
    ++commands_;
    if (!r) {
      if (refused_++ == 0) std::cerr << "refused: " << r.error().message << "\n";
      return std::nullopt;
    }
    return std::move(*r);
  }

  std::optional<engine::CommandResult> Create(const std::string& assoc, std::uint64_t n) {
    engine::Command c;
    c.kind = engine::Command::Kind::kCreate;
    c.collection = "proposals";
    c.workflow = "industry_proposal";
    c.name = "create";
    c.actor = {assoc, "association_member", "bench"};
    c.payload = {
        {"title", "Единый отраслевой подход к практической подготовке № " + std::to_string(n)},
        {"topic", "unified_training_approach"},
        {"summary",
         "Позиция отраслевой ассоциации, сформированная по итогам обсуждения с "
         "работодателями"},
        {"ugps", {"15.00.00"}}};
    auto r = Send(std::move(c));
    if (r) ++instances_;
    return r;
  }

  std::optional<engine::CommandResult> Act(const std::string& id, const std::string& name,
                                           const std::string& org, const std::string& role,
                                           json payload = json::object()) {
    engine::Command c;
    c.collection = "proposals";
    c.instance_id = id;
    c.name = name;
    c.actor = {org, role, "bench"};
    c.payload = std::move(payload);
    return Send(std::move(c));
  }

  // One proposal through its whole life on the current definition (industry_proposal v2, seed
  // 001 §5.3, §6.1, §6.2): the association drafts and submits, the UMC consolidates and sends it
  // to the FUMO of its УГПС, IRPO and the key employer, every expert concludes, the UMC and the
  // FTPO approbate it, the ministry approves, the FTPO trains teachers in one course and
  // completes it. About 16 events a proposal.
  void Lifecycle(std::uint64_t n) {
    const std::string& assoc = associations_[n % associations_.size()];
    auto created = Create(assoc, n);
    if (!created) return;
    const std::string id = created->instance.id;
    auto p = created->instance.participants;
    Act(id, "update", assoc, "association_member", {{"summary", "Уточнённая позиция ассоциации"}});
    Act(id, "update", assoc, "association_member",
        {{"attachments", {{{"name", "Обоснование.pdf"}, {"uri", "https://example.org/d/" + id}}}}});
    Act(id, "submit_to_umc", assoc, "association_member");
    Act(id, "update", p["umc"], "umc_lead", {{"summary", "Позиция, согласованная с МЦК"}});
    auto sent = Act(id, "send_to_expertise", p["umc"], "umc_lead",
                    {{"experts", {{"fumo", {"fumo-15.00.00"}}}}});
    if (sent && sent->instance.round) {
      for (const auto& party : sent->instance.round->parties) {
        Act(id, "submit_conclusion", party.org, party.role,
            {{"verdict", "approve"}, {"comment", "Экспертное заключение: поддержать"}});
      }
    }
    Act(id, "start_approbation", p["umc"], "umc_lead",
        {{"plan", "Апробация на базе МЦК и ФТПО, два потока"}});
    Act(id, "record_approbation", p["umc"], "umc_lead",
        {{"outcome", "successful"}, {"report", "Отчёт МЦК об апробации"}});
    Act(id, "record_approbation", p["ftpo"], "ftpo_coordinator",
        {{"outcome", "successful"}, {"report", "Отчёт об апробации в ФТПО"}});
    Act(id, "approve", "ministry", "ministry_official");
    Act(id, "plan_course", p["ftpo"], "ftpo_coordinator",
        {{"number", "1"},
         {"programme", "Повышение квалификации педагогов"},
         {"starts_on", "2026-02-02"},
         {"ends_on", "2026-02-13"},
         {"places", 25}});
    Act(id, "record_course_result", p["ftpo"], "ftpo_coordinator",
        {{"number", "1"}, {"teachers_trained", 20 + static_cast<int>(n % 5)}});
    Act(id, "complete", p["ftpo"], "ftpo_coordinator");
  }

  bool Full(std::uint64_t target) const { return log_.GetHead().seq >= target; }

  std::atomic<std::uint64_t> commands_{0}, refused_{0}, instances_{0};

 private:
  engine::Sequencer& seq_;
  const engine::EventLog& log_;
  std::vector<std::string> associations_;
};

int Run(const Args& a) {
  storage::RocksDbEventLog::Options options;
  options.sync = false;
  auto log = storage::RocksDbEventLog::Open(a.data, options);
  if (!log) {
    std::cerr << "cannot open " << a.data << ": " << log.error().message << "\n";
    return 1;
  }
  auto definitions = workflows::BuiltinDefinitions();
  if (!definitions) {
    std::cerr << definitions.error().message << "\n";
    return 1;
  }
  const auto routing = workflows::BuiltinRouting();
  engine::ManualClock clock(*engine::ParseRfc3339(kClockStart));
  engine::RandomIdGenerator ids;
  engine::Sequencer seq(**log, *definitions, workflows::Builtin(), routing, clock, ids);
  if (auto r = seq.Start(); !r) {
    std::cerr << r.error().ToString() << "\n";
    return 1;
  }
  Builder b(seq, **log, workflows::Builtin());
  const auto start = std::chrono::steady_clock::now();

  std::ofstream pool_ids;
  if (!a.ids.empty()) pool_ids.open(a.ids);
  for (std::size_t i = 0; i < a.pool; ++i) {
    auto r = b.Create("assoc-05", i);
    if (!r) return 1;
    if (pool_ids) pool_ids << r->instance.id << "\n";
  }
  pool_ids.close();

  std::atomic<std::uint64_t> next{a.pool};
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&] {
      while (!b.Full(a.events)) b.Lifecycle(next++);
    });
  }
  for (auto& t : threads) t.join();
  seq.Stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << json{{"events", (*log)->GetHead().seq},
                    {"instances", b.instances_.load()},
                    {"commands", b.commands_.load()},
                    {"refused", b.refused_.load()},
                    {"seconds", seconds}}
                   .dump()
            << std::endl;
  return b.refused_ == 0 ? 0 : 1;
}

}  // namespace
}  // namespace expertflow

int main(int argc, char** argv) {
  expertflow::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--data")
      a.data = v;
    else if (k == "--events")
      a.events = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--pool")
      a.pool = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--ids")
      a.ids = v;
    else if (k == "--threads")
      a.threads = std::atoi(v.c_str());
  }
  if (a.data.empty() || a.events == 0) {
    std::cerr << "usage: expertflow_bench_store --data DIR --events N [--pool 1000] [--ids FILE] "
                 "[--threads 16]\n";
    return 2;
  }
  return expertflow::Run(a);
}
