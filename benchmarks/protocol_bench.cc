// Issue 15: registering a protocol of seed 003's size (2,493 assignments) as one durable group on
// RocksDB, and the discipline table over 100,000 assignments. Both read seed 003 as the tests
// register it (tests/fixtures/protocols/seed003.json): a real protocol, not an invented one.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>

#include "engine/log/memory_event_log.h"
#include "engine/projections/discipline.h"
#include "engine/runtime/protocols.h"
#include "engine/runtime/sequencer.h"
#include "storage/rocksdb_event_log.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::days;

const json& Seed003() {
  static const json kBody = [] {
    std::ifstream in(std::string(EXPERTFLOW_SOURCE_DIR) + "/tests/fixtures/protocols/seed003.json");
    return json::parse(in);
  }();
  return kBody;
}

// Seed 003 under another number: registering the same body again is another protocol.
json Seed003Numbered(std::uint64_t n) {
  json body = Seed003();
  body["number"] = body["number"].get<std::string>() + "-" + std::to_string(n);
  return body;
}

const engine::Principal kMinistry{"ministry", "ministry_official", "bench"};

// A sequencer on `log` with the built-in definitions, registry and routing.
struct World {
  explicit World(std::unique_ptr<engine::EventLog> l, engine::Clock& c)
      : log(std::move(l)),
        definitions(std::move(*workflows::BuiltinDefinitions())),
        routing(workflows::BuiltinRouting()),
        clock(c),
        sequencer(*log, definitions, workflows::Builtin(), routing, clock, ids) {
    (void)sequencer.Start();
  }
  ~World() { sequencer.Stop(); }

  // Plans and submits `body` as one group, as POST /api/v1/protocols does; the results.
  engine::Result<std::vector<engine::CommandResult>> Register(const json& body) {
    auto plan = engine::PlanProtocol(body, kMinistry, workflows::Builtin(), ids);
    if (!plan) return std::unexpected(plan.error());
    std::promise<engine::Result<std::vector<engine::CommandResult>>> done;
    auto future = done.get_future();
    sequencer.SubmitGroup(std::move(plan->group),
                          [&done](auto r) { done.set_value(std::move(r)); });
    return future.get();
  }

  std::unique_ptr<engine::EventLog> log;
  engine::DefinitionSet definitions;
  engine::RoutingTable routing;
  engine::Clock& clock;
  engine::RandomIdGenerator ids;
  engine::Sequencer sequencer;
};

// Each iteration: seed 003 planned (2,493 assignment creates and the protocol's) and appended as
// one durable group on RocksDB, the sync included; timed from the body to the acknowledgement.
void BM_RegisterProtocol2400(benchmark::State& state) {
  const fs::path dir =
      fs::temp_directory_path() / ("expertflow-protocol-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  storage::RocksDbEventLog::Options options;
  options.create_if_missing = true;
  auto log = storage::RocksDbEventLog::Open(dir.string(), options);
  if (!log) {
    state.SkipWithError("cannot open the log");
    return;
  }
  // The protocol's own date, so that its deadlines are armed as on the day it was signed.
  engine::ManualClock clock(*engine::ParseRfc3339("2023-06-20T10:00:00+03:00"));
  {
    World world(std::move(*log), clock);
    std::uint64_t n = 0, assignments = 0;
    for (auto _ : state) {
      auto r = world.Register(Seed003Numbered(n++));
      if (!r) {
        state.SkipWithError(r.error().message.c_str());
        break;
      }
      assignments = r->size() - 1;
    }
    state.counters["assignments"] = static_cast<double>(assignments);
    state.counters["assignments_per_s"] = benchmark::Counter(
        static_cast<double>(assignments * state.iterations()), benchmark::Counter::kIsRate);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_RegisterProtocol2400)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);

// 41 registrations of seed 003 (102,213 assignments) on the in-memory log at the protocol's
// date, then, eight weeks on, one report from three regions in four, on every kind of deadline
// (four in five dated the day after the meeting, one in five in August: late for most dates;
// half of those returned and sent again), all accepted by the ministry. The table is asked
// for on 1 September 2023, when the weekly and daily series have ten and seventy-odd periods due.
struct DisciplineWorld {
  engine::ManualClock clock{*engine::ParseRfc3339("2023-06-20T10:00:00+03:00")};
  World world{std::make_unique<engine::MemoryEventLog>(), clock};
  std::vector<engine::InstanceState> assignments;
  engine::Timestamp now{};
  std::uint64_t commands = 0, refused = 0;
  std::string first_refusal;

  DisciplineWorld() {
    std::vector<engine::CommandResult> created;
    for (std::uint64_t n = 0; n < 41; ++n) {
      auto r = world.Register(Seed003Numbered(n));
      if (!r) continue;
      for (auto& c : *r) {
        if (c.instance.collection == "assignments") created.push_back(std::move(c));
      }
    }
    clock.Advance(days(56));
    std::minstd_rand rng(20230620);
    auto act = [&](const std::string& id, const char* command, const engine::Principal& actor,
                   json payload) {
      engine::Submission sub;
      sub.command.collection = "assignments";
      sub.command.instance_id = id;
      sub.command.name = command;
      sub.command.actor = actor;
      sub.command.payload = std::move(payload);
      return world.sequencer.Submit(std::move(sub));
    };
    auto letter = [](const char* date) {
      return json{{"text", "Информация представлена"},
                  {"letter", {{"number", "01-12/1"}, {"date", date}}}};
    };
    // Rounds of one command per assignment, all in flight at once.
    std::vector<std::pair<const engine::CommandResult*, int>> plan;
    for (const auto& c : created) {
      // The regions of the group report; the employers' collective (one in 2,493) is left open.
      if (!c.instance.participants.at("assignee").starts_with("roiv-")) continue;
      const int dice = static_cast<int>(rng() % 100);
      if (dice < 75) plan.emplace_back(&c, dice);
    }
    for (int round = 0; round < 4; ++round) {
      std::vector<std::future<engine::Result<engine::CommandResult>>> pending;
      for (const auto& [c, dice] : plan) {
        const engine::Principal region{c->instance.participants.at("assignee"), "region_official",
                                       "bench"};
        const bool returned = dice < 8;
        const char* date = dice < 15 ? "2023-08-10" : "2023-06-21";
        if (round == 0)
          pending.push_back(act(c->instance.id, "submit_report", region, letter(date)));
        if (round == 1) {
          pending.push_back(returned
                                ? act(c->instance.id, "return_report", kMinistry,
                                      {{"comment", "Неполная информация"}})
                                : act(c->instance.id, "accept_report", kMinistry, json::object()));
        }
        if (round == 2 && returned) {
          pending.push_back(act(c->instance.id, "submit_report", region, letter("2023-08-14")));
        }
        if (round == 3 && returned)
          pending.push_back(act(c->instance.id, "accept_report", kMinistry, json::object()));
      }
      for (auto& f : pending) {
        ++commands;
        auto r = f.get();
        if (r) continue;
        ++refused;
        if (first_refusal.empty()) first_refusal = r.error().ToString();
      }
    }
    world.sequencer.ForEachInstance([&](const engine::InstanceState& s) {
      if (s.collection == "assignments") assignments.push_back(s);
      return true;
    });
    now = *engine::ParseRfc3339("2023-09-01T12:00:00+03:00");
  }
};

// The table of GET /api/v1/stats/discipline over every assignment: arg 0 by assignee, 1 by
// protocol, 2 by decision with the drill-down list of the 102,213 assignments.
void BM_Discipline100k(benchmark::State& state) {
  static DisciplineWorld* world = new DisciplineWorld();  // built once for every arg
  engine::DisciplineQuery q;
  q.group_by = state.range(0) == 0 ? "assignee" : state.range(0) == 1 ? "protocol" : "decision";
  q.assignments = state.range(0) == 2;
  std::size_t rows = 0;
  for (auto _ : state) {
    json table = engine::Discipline(world->assignments, q, workflows::Builtin(), world->now);
    rows = table["items"].size();
    benchmark::DoNotOptimize(table);
  }
  state.counters["assignments"] = static_cast<double>(world->assignments.size());
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["report_commands"] = static_cast<double>(world->commands);
  state.counters["refused"] = static_cast<double>(world->refused);
  if (world->refused) state.SetLabel("first refusal: " + world->first_refusal);
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(world->assignments.size()));
}
BENCHMARK(BM_Discipline100k)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

}  // namespace
}  // namespace expertflow
