#pragma once

// A small world for given/when/then tests of the workflows of record: the real definitions, the
// real reference data and routing, the sequencer on an in-memory log, and a manual clock.

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "engine/log/memory_event_log.h"
#include "engine/projections/rebuild.h"
#include "engine/runtime/protocols.h"
#include "engine/runtime/sequencer.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow::testing {

using engine::CommandResult;
using engine::ErrorCode;
using engine::InstanceState;
using engine::Principal;
using engine::Result;
using nlohmann::json;

inline Principal P(std::string org, std::string role) {
  return Principal{std::move(org), std::move(role), "tok-" + org};
}

class SequentialIds final : public engine::IdGenerator {
 public:
  std::string NewId() override {
    char buf[16];
    std::snprintf(buf, sizeof buf, "t%06d", ++n_);
    return buf;
  }

 private:
  int n_ = 0;
};

class World {
 public:
  // `extra` may add definitions (a v2 fixture) before the sequencer starts.
  explicit World(engine::EventLog* log = nullptr,
                 const std::function<void(engine::DefinitionSet&)>& extra = nullptr,
                 engine::Timestamp start = *engine::ParseRfc3339("2026-01-12T09:00:00Z"),
                 engine::SequencerOptions options = {})
      : owned_log_(log ? nullptr : std::make_unique<engine::MemoryEventLog>()),
        log_(log ? *log : *owned_log_),
        clock_(start),
        definitions_(Load(extra)),
        routing_(workflows::BuiltinRouting()),
        options_(options),
        sequencer_(std::make_unique<engine::Sequencer>(log_, definitions_, workflows::Builtin(),
                                                       routing_, clock_, ids_, options_)) {
    auto started = sequencer_->Start();
    EXPECT_TRUE(started) << (started ? "" : started.error().message);
  }

  // A world on `log` whose view checkpoints begin every `every` events and write `chunk` views a
  // batch (small numbers make many of them begin and end within a test).
  static World WithViewCheckpoints(engine::EventLog& log, std::uint64_t every, std::size_t chunk) {
    engine::SequencerOptions options;
    options.view_checkpoint_events = every;
    options.view_checkpoint_chunk = chunk;
    return World(&log, nullptr, *engine::ParseRfc3339("2026-01-12T09:00:00Z"), options);
  }

  // `version` pins the definition version (0: the newest).
  Result<CommandResult> Create(const std::string& collection, const std::string& workflow,
                               const Principal& actor, json payload, std::uint32_t version = 0) {
    engine::Submission s;
    s.command.kind = engine::Command::Kind::kCreate;
    s.command.collection = collection;
    s.command.workflow = workflow;
    s.command.workflow_version = version;
    s.command.name = "create";
    s.command.actor = actor;
    s.command.payload = std::move(payload);
    return sequencer_->Submit(std::move(s)).get();
  }

  Result<CommandResult> Act(const std::string& collection, const std::string& id,
                            const std::string& command, const Principal& actor,
                            json payload = json::object(),
                            std::optional<std::uint64_t> expected_version = std::nullopt) {
    engine::Submission s;
    s.command.kind = engine::Command::Kind::kAct;
    s.command.collection = collection;
    s.command.instance_id = id;
    s.command.name = command;
    s.command.actor = actor;
    s.command.payload = std::move(payload);
    s.command.expected_version = expected_version;
    return sequencer_->Submit(std::move(s)).get();
  }

  // POST /api/v1/protocols without HTTP: plans the body and submits it as one group. Answers the
  // plan (the protocol's and the assignments' ids) once it is durable.
  Result<engine::ProtocolPlan> RegisterProtocol(const json& body, const Principal& by) {
    auto plan = engine::PlanProtocol(body, by, workflows::Builtin(), ids_);
    if (!plan) return std::unexpected(plan.error());
    std::promise<Result<std::vector<CommandResult>>> done;
    auto answer = done.get_future();
    sequencer_->SubmitGroup(plan->group, [&done](Result<std::vector<CommandResult>> r) {
      done.set_value(std::move(r));
    });
    auto r = answer.get();
    if (!r) return std::unexpected(r.error());
    plan->group.clear();
    return std::move(*plan);
  }

  // Moves the manual clock and fires every timer that fell due; answers how many fired.
  std::uint64_t Advance(engine::Duration d) {
    clock_.Advance(d);
    auto fired = sequencer_->FireDueTimers();
    EXPECT_TRUE(fired);
    return fired ? *fired : 0;
  }

  InstanceState Get(const std::string& collection, const std::string& id) {
    auto s = sequencer_->Find(collection, id);
    EXPECT_TRUE(s) << collection << "/" << id;
    return s ? *s : InstanceState{};
  }

  // The types of the instance's events, oldest first, read back from the log.
  std::vector<std::string> EventTypes(const std::string& collection, const std::string& id) {
    std::vector<std::string> out;
    auto events = log_.ReadStream(collection + "/" + id, 1, 100000);
    EXPECT_TRUE(events);
    for (const auto& e : *events) out.push_back(engine::DecodeRecord(e.record)->type);
    return out;
  }

  // Replays the instance's stream from the log through evolve alone.
  InstanceState Replay(const std::string& collection, const std::string& id) {
    InstanceState s;
    auto events = log_.ReadStream(collection + "/" + id, 1, 100000);
    EXPECT_TRUE(events);
    for (const auto& e : *events) {
      EXPECT_TRUE(engine::EvolveRecord(s, e.record));
    }
    return s;
  }

  // Stops the sequencer and starts a new one on the same log: a restart.
  void Restart() {
    sequencer_->Stop();
    sequencer_ = std::make_unique<engine::Sequencer>(log_, definitions_, workflows::Builtin(),
                                                     routing_, clock_, ids_, options_);
    auto started = sequencer_->Start();
    EXPECT_TRUE(started) << (started ? "" : started.error().message);
  }

  engine::EventLog& log() { return log_; }
  engine::ManualClock& clock() { return clock_; }
  engine::Sequencer& sequencer() { return *sequencer_; }
  const engine::DefinitionSet& definitions() const { return definitions_; }

 private:
  static engine::DefinitionSet Load(const std::function<void(engine::DefinitionSet&)>& extra) {
    auto set = workflows::BuiltinDefinitions();
    EXPECT_TRUE(set) << (set ? "" : set.error().message);
    engine::DefinitionSet out = set ? std::move(*set) : engine::DefinitionSet{};
    if (extra) extra(out);
    return out;
  }

  std::unique_ptr<engine::MemoryEventLog> owned_log_;
  engine::EventLog& log_;
  engine::ManualClock clock_;
  SequentialIds ids_;
  engine::DefinitionSet definitions_;
  engine::RoutingTable routing_;
  engine::SequencerOptions options_;
  std::unique_ptr<engine::Sequencer> sequencer_;
};

// The stored instance views and the seq they cover, as a crash at this moment would leave them.
struct ViewsOnDisk {
  std::vector<std::pair<std::string, std::string>> views;
  std::optional<std::string> covers;
  std::uint64_t head = 0;  // the log's head then
};

inline ViewsOnDisk ViewsStored(const engine::EventLog& log) {
  auto views = log.Scan(engine::Space::kViews, "i/", "i0", 1 << 20);
  auto covers = log.Get(engine::Space::kAnalytics, engine::kInstanceViewsSeqKey);
  EXPECT_TRUE(views && covers);
  return {views ? *views : decltype(ViewsOnDisk::views){}, covers ? *covers : std::nullopt,
          log.GetHead().seq};
}

// Puts back the views as they were (a crash then): newer ones go, older ones return.
inline void RestoreViews(engine::EventLog& log, const ViewsOnDisk& then) {
  engine::AppendBatch batch;
  auto now = log.Scan(engine::Space::kViews, "i/", "i0", 1 << 20);
  ASSERT_TRUE(now);
  for (const auto& [key, value] : *now)
    batch.writes.push_back({engine::Space::kViews, key, std::nullopt});
  for (const auto& [key, value] : then.views)
    batch.writes.push_back({engine::Space::kViews, key, value});
  batch.writes.push_back(
      {engine::Space::kAnalytics, std::string(engine::kInstanceViewsSeqKey), then.covers});
  ASSERT_TRUE(log.Append(batch));
}

// Asserts a rejection with `code`, e.g. EXPECT_REJECTED(r, kForbidden).
#define EXPECT_REJECTED(result, code_name)                                              \
  do {                                                                                  \
    const auto& r_ = (result);                                                          \
    ASSERT_FALSE(r_.has_value()) << "expected " #code_name ", got state " << r_->state; \
    EXPECT_EQ(r_.error().code, ::expertflow::engine::ErrorCode::code_name)              \
        << r_.error().ToString();                                                       \
  } while (0)

#define ASSERT_ACCEPTED(result)                                                               \
  do {                                                                                        \
    const auto& r_ = (result);                                                                \
    ASSERT_TRUE(r_.has_value()) << r_.error().ToString() << " " << r_.error().details.dump(); \
  } while (0)

}  // namespace expertflow::testing
