// The sequencer's promises: group commit, nothing acknowledged that is not written, timers that
// fire once and survive restarts, idempotent repeats, and state rebuilt from the log.
#include <gmock/gmock.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kAssoc = P("assoc-05", "association_member");
const Principal kUmc = P("umc-05", "umc_lead");

json Draft(int n = 0) {
  return {{"title", "Предложение " + std::to_string(n)},
          {"topic", "teaching_materials"},
          {"summary", "Методические материалы"}};
}

// A create command for an industry proposal, as an association drafts one.
engine::Submission DraftBy(const Principal& actor) {
  engine::Submission s;
  s.command.kind = engine::Command::Kind::kCreate;
  s.command.collection = "proposals";
  s.command.workflow = "industry_proposal";
  s.command.workflow_version = 1;  // the flows below are version 1's
  s.command.name = "create";
  s.command.actor = actor;
  s.command.payload = Draft();
  return s;
}

// An in-memory log behind a test's own append: every read goes to `inner`.
class ForwardingLog : public engine::EventLog {
 public:
  engine::Head GetHead() const override { return inner.GetHead(); }
  Result<std::uint64_t> StreamVersion(std::string_view s) const override {
    return inner.StreamVersion(s);
  }
  Result<std::vector<engine::StoredEvent>> ReadStream(std::string_view s, std::uint64_t v,
                                                      std::size_t m) const override {
    return inner.ReadStream(s, v, m);
  }
  Result<void> ForEach(std::uint64_t f, std::uint64_t t,
                       const engine::EventVisitor& v) const override {
    return inner.ForEach(f, t, v);
  }
  Result<std::optional<std::string>> Get(engine::Space sp, std::string_view k) const override {
    return inner.Get(sp, k);
  }
  Result<std::vector<std::pair<std::string, std::string>>> Scan(engine::Space sp,
                                                                std::string_view f,
                                                                std::string_view t,
                                                                std::size_t m) const override {
    return inner.Scan(sp, f, t, m);
  }
  engine::MemoryEventLog inner;
};

// An in-memory log whose appends take a while, as a disk sync does: commands that arrive during
// one append must share the next.
class SlowLog final : public ForwardingLog {
 public:
  Result<engine::AppendResult> Append(const engine::AppendBatch& batch) override {
    if (before_append) before_append();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ++appends;
    return inner.Append(batch);
  }
  std::atomic<int> appends{0};
  std::function<void()> before_append;  // runs on the writer thread before each append
};

TEST(Sequencer, ShouldShareOneDurableWriteAmongConcurrentCommands) {
  SlowLog log;
  World world(&log);
  constexpr int kThreads = 32;
  constexpr int kEach = 5;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (world.Create("proposals", "industry_proposal", kAssoc, Draft(t * 100 + i), 1)) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  auto stats = world.sequencer().Stats();
  EXPECT_EQ(stats.commands, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LT(stats.batches, stats.commands) << "commands waiting together share a write";
  EXPECT_EQ(log.GetHead().seq, static_cast<std::uint64_t>(kThreads * kEach));
  auto verified = engine::Verify(log);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok);
}

// An in-memory log whose asynchronous appends wait until the test lets them through, one by one
// or all failed at once (as a disk does to the writes chained on a failed one): the sequencer's
// pipelining, made deterministic.
class HeldLog final : public ForwardingLog {
 public:
  Result<engine::AppendResult> Append(const engine::AppendBatch& batch) override {
    return inner.Append(batch);
  }
  void AppendAsync(engine::AppendBatch batch, engine::AppendCallback done) override {
    std::unique_lock lock(mu_);
    if (!hold_) {
      lock.unlock();
      return done(inner.Append(batch));
    }
    held_.emplace_back(std::move(batch), std::move(done));
    cv_.notify_all();
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void WaitUntilHeld(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_.size() >= n; });
  }
  // Writes the held batches in order and answers them.
  void ReleaseAll() { Finish(true); }
  // Fails every held batch: the first write failed, the rest were chained on it.
  void FailAll() { Finish(false); }

 private:
  // In order, as a log writes: a batch handed over while the held ones are being written waits
  // behind them (and is written with them, or fails with them).
  void Finish(bool ok) {
    while (true) {
      std::vector<std::pair<engine::AppendBatch, engine::AppendCallback>> held;
      {
        std::lock_guard lock(mu_);
        held.swap(held_);
        if (held.empty()) {
          hold_ = false;
          return;
        }
      }
      for (auto& [batch, done] : held) {
        done(ok ? inner.Append(batch)
                : Result<engine::AppendResult>(engine::Fail(ErrorCode::kUnavailable, "disk")));
      }
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::vector<std::pair<engine::AppendBatch, engine::AppendCallback>> held_;
};

engine::Submission ActOn(const std::string& id, const std::string& command, const Principal& actor,
                         json payload = json::object()) {
  engine::Submission s;
  s.command.kind = engine::Command::Kind::kAct;
  s.command.collection = "proposals";
  s.command.instance_id = id;
  s.command.name = command;
  s.command.actor = actor;
  s.command.payload = std::move(payload);
  return s;
}

const json kExperts = {{"experts", {{"fumo", {"fumo-09.00.00"}}, {"business", {"business-rspp"}}}}};

TEST(Sequencer, ShouldDecideTheNextBatchOnTheLastOneWhileItsWriteIsUnderWay) {
  HeldLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;
  log.Hold();
  // given a submission whose write has not finished
  auto submitted = world.sequencer().Submit(ActOn(id, "submit_to_umc", kAssoc));
  log.WaitUntilHeld(1);
  // when the UMC sends it to expertise, which only a submitted proposal allows
  auto sent = world.sequencer().Submit(ActOn(id, "send_to_expertise", kUmc, kExperts));
  // then the second batch is decided on the first one's effects and handed to the log before
  // the first is durable, while readers still see only what is durable
  log.WaitUntilHeld(2);
  EXPECT_EQ(world.Get("proposals", id).state, "drafting");
  log.ReleaseAll();
  ASSERT_ACCEPTED(submitted.get());
  ASSERT_ACCEPTED(sent.get());
  EXPECT_EQ(world.Get("proposals", id).state, "expertise");
  EXPECT_EQ(world.Get("proposals", id).version, 3u);
  auto verified = engine::Verify(log);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok);
}

// Answers are made when the log reports the write (Settle), each with its instance as it stood
// right after that command, also where later commands of the same batch changed it again, and
// where a refused group in between was rolled back.
TEST(Sequencer, ShouldAnswerEachCommandOfABatchWithTheInstanceRightAfterIt) {
  HeldLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;
  auto retitle = [&](const std::string& title) {
    return ActOn(id, "update", kAssoc, {{"title", title}});
  };
  // given two batches held in flight, so that what follows queues up for one batch
  log.Hold();
  auto first = world.sequencer().Submit(retitle("первый"));
  log.WaitUntilHeld(1);
  auto second = world.sequencer().Submit(retitle("второй"));
  log.WaitUntilHeld(2);
  auto c = world.sequencer().Submit(retitle("в"));
  std::promise<Result<std::vector<CommandResult>>> refused_group, group;
  world.sequencer().SubmitGroup(
      {retitle("отменено"), ActOn(id, "no_such_command", kAssoc)},
      [&](Result<std::vector<CommandResult>> r) { refused_group.set_value(std::move(r)); });
  auto d = world.sequencer().Submit(retitle("г"));
  world.sequencer().SubmitGroup({retitle("д1"), retitle("д2")},
                                [&](Result<std::vector<CommandResult>> r) {
                                  group.set_value(std::move(r));
                                });
  // when the log lets them through
  log.ReleaseAll();
  // then every answer carries the instance right after its own command
  auto title = [](const CommandResult& r) { return r.instance.fields["title"]; };
  auto r1 = first.get(), r2 = second.get(), rc = c.get(), rd = d.get();
  ASSERT_ACCEPTED(r1);
  ASSERT_ACCEPTED(r2);
  ASSERT_ACCEPTED(rc);
  ASSERT_ACCEPTED(rd);
  EXPECT_EQ(title(*r1), "первый");
  EXPECT_EQ(r1->instance.version, 2u);
  EXPECT_EQ(title(*r2), "второй");
  EXPECT_EQ(title(*rc), "в");
  EXPECT_EQ(rc->instance.version, 4u);
  auto refused = refused_group.get_future().get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kValidationFailed) << refused.error().ToString();
  EXPECT_EQ(title(*rd), "г");
  EXPECT_EQ(rd->instance.version, 5u);
  auto rg = group.get_future().get();
  ASSERT_TRUE(rg) << rg.error().ToString();
  ASSERT_EQ(rg->size(), 2u);
  EXPECT_EQ(title((*rg)[0]), "д1");
  EXPECT_EQ((*rg)[0].instance.version, 6u);
  EXPECT_EQ(title((*rg)[1]), "д2");
  EXPECT_EQ((*rg)[1].instance.version, 7u);
  EXPECT_EQ(world.Get("proposals", id).version, 7u);
  EXPECT_EQ(world.Get("proposals", id).fields["title"], "д2");
}

TEST(Sequencer, ShouldFailWhatWasDecidedOnAWriteThatFailed) {
  HeldLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;
  const auto head = log.GetHead();
  log.Hold();
  auto submitted = world.sequencer().Submit(ActOn(id, "submit_to_umc", kAssoc));
  log.WaitUntilHeld(1);
  auto sent = world.sequencer().Submit(ActOn(id, "send_to_expertise", kUmc, kExperts));
  log.WaitUntilHeld(2);
  // when the first write fails
  log.FailAll();
  // then neither is acknowledged, memory keeps the durable state, and the next command is
  // decided on that state again
  EXPECT_REJECTED(submitted.get(), kUnavailable);
  EXPECT_REJECTED(sent.get(), kUnavailable);
  EXPECT_EQ(log.GetHead(), head);
  EXPECT_EQ(world.Get("proposals", id).state, "drafting");
  EXPECT_REJECTED(world.Act("proposals", id, "send_to_expertise", kUmc, kExperts),
                  kInvalidTransition);
  ASSERT_ACCEPTED(world.Act("proposals", id, "submit_to_umc", kAssoc));
  ASSERT_ACCEPTED(world.Act("proposals", id, "send_to_expertise", kUmc, kExperts));
  EXPECT_EQ(world.Get("proposals", id).state, "expertise");
  auto verified = engine::Verify(log);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok);
}

TEST(Sequencer, ShouldDoNothingWhileIdleOnTheSystemClock) {
  // given a sequencer on the system clock with nothing to do
  engine::MemoryEventLog log;
  auto definitions = workflows::BuiltinDefinitions();
  ASSERT_TRUE(definitions);
  const engine::RoutingTable routing = workflows::BuiltinRouting();
  engine::SystemClock clock;
  engine::RandomIdGenerator ids;
  engine::Sequencer sequencer(log, *definitions, workflows::Builtin(), routing, clock, ids);
  ASSERT_TRUE(sequencer.Start());
  ASSERT_ACCEPTED(sequencer.Submit(DraftBy(kAssoc)).get());
  // when time passes after one command
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // then it has decided and written nothing more (an empty batch would wake it again at once)
  EXPECT_EQ(sequencer.Stats().batches, 1u);
  EXPECT_EQ(log.GetHead().seq, 1u);
  sequencer.Stop();
}

TEST(Sequencer, ShouldAcknowledgeNothingWhenTheWriteFails) {
  engine::MemoryEventLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;
  const auto head = log.GetHead();

  log.FailNextAppends(1);
  auto failed = world.Act("proposals", id, "submit_to_umc", kAssoc);
  EXPECT_REJECTED(failed, kUnavailable);
  EXPECT_EQ(log.GetHead(), head);
  EXPECT_EQ(world.Get("proposals", id).state, "drafting") << "memory keeps the durable state";
  EXPECT_EQ(world.Get("proposals", id).version, 1u);

  ASSERT_ACCEPTED(world.Act("proposals", id, "submit_to_umc", kAssoc));
  EXPECT_EQ(world.Get("proposals", id).state, "umc_review");
}

// Two submit_to_umc of one instance in one batch: the second is refused because of the first.
// When the batch's write fails, the first was never written, so the second must not be told the
// instance is in umc_review: both get the storage error.
TEST(Sequencer, ShouldNotRefuseOnEffectsOfAWriteThatFailed) {
  SlowLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;

  // given the writer held inside an append while two commands queue behind it
  std::promise<void> entered, release;
  auto release_future = release.get_future().share();
  std::atomic<bool> first{true};
  log.before_append = [&] {
    if (first.exchange(false)) {
      entered.set_value();
      release_future.wait();
    }
  };
  engine::Submission other = DraftBy(kAssoc);
  other.command.payload = Draft(1);
  auto held = world.sequencer().Submit(std::move(other));
  entered.get_future().wait();
  auto submit = [&] {
    engine::Submission s;
    s.command.collection = "proposals";
    s.command.instance_id = id;
    s.command.name = "submit_to_umc";
    s.command.actor = kAssoc;
    return world.sequencer().Submit(std::move(s));
  };
  auto a = submit();
  auto b = submit();
  // when both that append and the next fail
  log.inner.FailNextAppends(2);
  release.set_value();

  // then nobody is told anything but "unavailable", and the instance is where it was
  EXPECT_REJECTED(held.get(), kUnavailable);
  EXPECT_REJECTED(a.get(), kUnavailable);
  EXPECT_REJECTED(b.get(), kUnavailable);
  EXPECT_EQ(world.Get("proposals", id).state, "drafting");
  ASSERT_ACCEPTED(world.Act("proposals", id, "submit_to_umc", kAssoc));
}

TEST(Sequencer, ShouldDecideLaterCommandsOfABatchOnTheEarlierOnesEffects) {
  SlowLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;
  // Two updates that both expect version 1: exactly one wins, whichever batch they land in.
  std::vector<std::future<Result<CommandResult>>> futures;
  for (int i = 0; i < 2; ++i) {
    engine::Submission s;
    s.command.collection = "proposals";
    s.command.instance_id = id;
    s.command.name = "update";
    s.command.actor = kAssoc;
    s.command.payload = {{"title", "v" + std::to_string(i)}};
    s.command.expected_version = 1;
    futures.push_back(world.sequencer().Submit(std::move(s)));
  }
  int accepted = 0, conflicts = 0;
  for (auto& f : futures) {
    auto r = f.get();
    if (r)
      ++accepted;
    else if (r.error().code == ErrorCode::kVersionConflict)
      ++conflicts;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(conflicts, 1);
  EXPECT_EQ(world.Get("proposals", id).version, 2u);
}

TEST(Sequencer, ShouldKeepTimersAcrossARestartAndFireThemOnce) {
  engine::MemoryEventLog log;
  World world(&log);
  auto created = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(created);
  const std::string id = created->instance.id;
  ASSERT_ACCEPTED(world.Act("proposals", id, "submit_to_umc", kAssoc));
  ASSERT_ACCEPTED(world.Act("proposals", id, "send_to_expertise", kUmc,
                            {{"experts", {{"fumo", {"fumo-09.00.00"}}}}}));
  const auto before = world.Get("proposals", id);

  world.Restart();
  EXPECT_EQ(world.Get("proposals", id), before) << "state comes back from the stored view";
  EXPECT_EQ(world.Advance(days(31)), 1u);
  world.Restart();
  EXPECT_EQ(world.Advance(days(1)), 0u) << "a fired timer does not fire again after a restart";
  auto types = world.EventTypes("proposals", id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "ExpertiseOverdue"), 1);
}

TEST(Sequencer, ShouldRebuildStatesFromTheLogWhenViewsAreMissing) {
  engine::MemoryEventLog log;
  World world(&log);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = world.Create("proposals", "industry_proposal", kAssoc, Draft(i), 1);
    ASSERT_ACCEPTED(r);
    ids.push_back(r->instance.id);
  }
  ASSERT_ACCEPTED(world.Act("proposals", ids[0], "submit_to_umc", kAssoc));
  ASSERT_ACCEPTED(world.Act("proposals", ids[0], "send_to_expertise", kUmc,
                            {{"experts", {{"fumo", {"fumo-09.00.00"}}}}}));
  std::vector<InstanceState> live;
  for (const auto& id : ids) live.push_back(world.Get("proposals", id));

  // Throw the views away behind the sequencer's back, then restart.
  engine::AppendBatch drop;
  auto views = log.Scan(engine::Space::kViews, "", "", 1000);
  ASSERT_TRUE(views);
  for (const auto& [key, value] : *views)
    drop.writes.push_back({engine::Space::kViews, key, std::nullopt});
  ASSERT_TRUE(log.Append(drop));
  world.Restart();
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(world.Get("proposals", ids[i]), live[i]);
  // The rebuilt views are stored again, byte for byte what the live system wrote.
  auto stored = log.Get(engine::Space::kViews, engine::Sequencer::ViewKey("proposals/" + ids[0]));
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(**stored, engine::StateToJson(live[0]).dump());
  EXPECT_EQ(world.Advance(days(31)), 1u) << "the timer index is rebuilt too";
}

// The views follow the log from a checkpoint written a few views a batch. A batch carrying some
// of them that fails must not leave the checkpoint claiming them: a crash after the checkpoint's
// seq is stored must still find every instance whole.
TEST(Sequencer, ShouldNotLetACheckpointCoverViewsAFailedWriteLost) {
  engine::MemoryEventLog log;
  World world = World::WithViewCheckpoints(log, 3, 1);
  std::vector<std::string> ids;
  auto create = [&](int n) {
    auto r = world.Create("proposals", "industry_proposal", kAssoc, Draft(n), 1);
    ASSERT_ACCEPTED(r);
    ids.push_back(r->instance.id);
  };
  for (int i = 0; i < 3; ++i) create(i);
  // Three events: a checkpoint of three views begins, one a batch; the first batch fails. The
  // next two batches would carry the other two views and the checkpoint's seq: that seq must not
  // be stored, since one of the views is not.
  log.FailNextAppends(1);
  EXPECT_FALSE(world.Create("proposals", "industry_proposal", kAssoc, Draft(3), 1));
  create(4);
  create(5);
  const ViewsOnDisk right_after = ViewsStored(log);
  // Checkpoints go on: one completes later.
  for (int i = 6; i < 20; ++i) create(i);
  const ViewsOnDisk later = ViewsStored(log);
  ASSERT_TRUE(later.covers.has_value());
  EXPECT_GT(std::stoull(*later.covers), 3u);
  EXPECT_EQ(std::to_string(world.sequencer().Stats().views_checkpoint_seq), *later.covers);
  std::vector<InstanceState> live;
  for (const auto& id : ids) live.push_back(world.Get("proposals", id));

  // A crash at either moment loses nothing (instances created after it are in the log too).
  for (const ViewsOnDisk& crash : {right_after, later}) {
    world.sequencer().Stop();
    RestoreViews(log, crash);
    world.Restart();
    for (std::size_t i = 0; i < ids.size(); ++i)
      EXPECT_EQ(world.Get("proposals", ids[i]), live[i]) << "crash at head " << crash.head;
  }
}

TEST(Sequencer, ShouldAnswerARepeatedIdempotencyKeyWithTheFirstResult) {
  World world;
  auto submit = [&](std::string digest) {
    engine::Submission s = DraftBy(kAssoc);
    s.idempotency_key = "tok-assoc-05:key-1";
    s.request_digest = std::move(digest);
    return world.sequencer().Submit(std::move(s)).get();
  };
  auto first = submit("digest-a");
  ASSERT_ACCEPTED(first);
  const auto head = world.log().GetHead();
  auto again = submit("digest-a");
  ASSERT_ACCEPTED(again);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->instance.id, first->instance.id);
  ASSERT_EQ(again->events.size(), 1u);
  EXPECT_EQ(again->events[0].record, first->events[0].record);
  EXPECT_EQ(world.log().GetHead(), head) << "a repeat appends nothing";
  EXPECT_REJECTED(submit("digest-b"), kIdempotencyKeyReused);
  EXPECT_EQ(world.log().GetHead(), head);
}

// A keyed draft by the association, as the API scopes keys ("org|role|token|key").
engine::Submission KeyedDraft(std::string key, std::string digest) {
  engine::Submission s = DraftBy(kAssoc);
  s.idempotency_key = "assoc-05|association_member|tok|" + key;
  s.request_digest = std::move(digest);
  return s;
}

const engine::Timestamp kT0 = *engine::ParseRfc3339("2026-01-12T09:00:00Z");

engine::SequencerOptions Retention(engine::Duration retention, std::size_t page = 512) {
  engine::SequencerOptions o;
  o.idempotency_retention = retention;
  o.idempotency_purge_page = page;
  return o;
}

TEST(Sequencer, ShouldAnswerARepeatUntilTheRetentionEndsAndTreatTheKeyAsNewAfter) {
  World world(nullptr, nullptr, kT0, Retention(std::chrono::hours(24)));
  auto first = world.sequencer().Submit(KeyedDraft("k", "a")).get();
  ASSERT_ACCEPTED(first);
  // at the retention's last second the first answer still stands, and another body is refused
  world.Advance(std::chrono::hours(24));
  auto repeat = world.sequencer().Submit(KeyedDraft("k", "a")).get();
  ASSERT_ACCEPTED(repeat);
  EXPECT_TRUE(repeat->replayed);
  EXPECT_EQ(repeat->instance.id, first->instance.id);
  EXPECT_REJECTED(world.sequencer().Submit(KeyedDraft("k", "b")).get(), kIdempotencyKeyReused);
  // a second later the key is new: the request is decided again
  world.Advance(std::chrono::seconds(1));
  auto fresh = world.sequencer().Submit(KeyedDraft("k", "b")).get();
  ASSERT_ACCEPTED(fresh);
  EXPECT_FALSE(fresh->replayed);
  EXPECT_NE(fresh->instance.id, first->instance.id);
}

TEST(Sequencer, ShouldPurgeIdempotencyRecordsPastTheirRetentionAndNoOthers) {
  World world(nullptr, nullptr, kT0, Retention(std::chrono::hours(24)));
  ASSERT_ACCEPTED(world.sequencer().Submit(KeyedDraft("old", "a")).get());
  world.Advance(std::chrono::hours(2));
  ASSERT_ACCEPTED(world.sequencer().Submit(KeyedDraft("young", "a")).get());
  const std::string old_key = KeyedDraft("old", "a").idempotency_key;
  const std::string young_key = KeyedDraft("young", "a").idempotency_key;
  // when the manual clock passes the first record's retention and a purge pass runs
  world.Advance(std::chrono::hours(23));  // T0+25h: "old" expired at T0+24h, "young" at T0+26h
  // then the old record is gone and the young one kept, and it still answers its repeat
  EXPECT_EQ(world.log().Get(engine::Space::kIdempotency, old_key).value(), std::nullopt);
  EXPECT_NE(world.log().Get(engine::Space::kIdempotency, young_key).value(), std::nullopt);
  EXPECT_EQ(world.sequencer().Stats().idempotency_purged, 1u);
  auto repeat = world.sequencer().Submit(KeyedDraft("young", "a")).get();
  ASSERT_ACCEPTED(repeat);
  EXPECT_TRUE(repeat->replayed);
}

TEST(Sequencer, ShouldPurgeAPageABatchUntilThePassHasReadEveryRecord) {
  World world(nullptr, nullptr, kT0, Retention(std::chrono::hours(24), /*page=*/2));
  for (int i = 0; i < 5; ++i) {
    ASSERT_ACCEPTED(world.sequencer().Submit(KeyedDraft("k" + std::to_string(i), "a")).get());
  }
  auto stored = [&] {
    return world.log().Scan(engine::Space::kIdempotency, "", "", 100).value().size();
  };
  ASSERT_EQ(stored(), 5u);
  // each batch after the retention reads two records and deletes what has expired
  world.Advance(std::chrono::hours(25));
  EXPECT_EQ(stored(), 3u);
  world.Advance(std::chrono::seconds(1));
  EXPECT_EQ(stored(), 1u);
  world.Advance(std::chrono::seconds(1));
  EXPECT_EQ(stored(), 0u);
  EXPECT_EQ(world.sequencer().Stats().idempotency_purged, 5u);
}

TEST(Sequencer, ShouldNotPurgeARecordThatTheSameBatchWritesAgain) {
  World world(nullptr, nullptr, kT0, Retention(std::chrono::hours(24)));
  ASSERT_ACCEPTED(world.sequencer().Submit(KeyedDraft("k", "a")).get());
  // the clock passes the retention with no batch in between: the next batch both begins a purge
  // pass that finds the expired record and writes the key again for a new request
  world.clock().Advance(std::chrono::hours(25));
  auto fresh = world.sequencer().Submit(KeyedDraft("k", "b")).get();
  ASSERT_ACCEPTED(fresh);
  EXPECT_FALSE(fresh->replayed);
  // the new record stands (a delete after it in the same write would have erased it)
  auto stored = world.log().Get(engine::Space::kIdempotency, KeyedDraft("k", "b").idempotency_key);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  auto repeat = world.sequencer().Submit(KeyedDraft("k", "b")).get();
  ASSERT_ACCEPTED(repeat);
  EXPECT_TRUE(repeat->replayed);
  EXPECT_EQ(repeat->instance.id, fresh->instance.id);
}

TEST(Sequencer, ShouldRefuseWritesAfterStop) {
  World world;
  world.sequencer().Stop();
  EXPECT_REJECTED(world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1), kUnavailable);
}

TEST(Sequencer, ShouldPinTheWorkflowVersionOfEachInstance) {
  World world;
  auto r = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.workflow_version, 1u);
}

// A record holds four-digit years: a clock past 9999 must not write one nobody can read back.
TEST(Sequencer, ShouldRefuseToDecideAtATimeNoRecordCanHold) {
  World world;
  world.clock().Set(engine::kLastRecordableTime);
  ASSERT_ACCEPTED(world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1));
  const auto head = world.log().GetHead();
  world.clock().Advance(std::chrono::seconds(1));
  EXPECT_REJECTED(world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1), kUnavailable);
  EXPECT_EQ(world.log().GetHead(), head);
  EXPECT_TRUE(engine::Verify(world.log()).value().ok);
}

// Business time never goes backwards: not when a clock is set back, not across a restart.
TEST(Sequencer, ShouldNeverDecideBeforeTheLastEventsTime) {
  World world;
  auto first = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(first);
  const auto then = world.clock().Now();
  world.clock().Set(then - days(3));
  auto second = world.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
  ASSERT_ACCEPTED(second);
  EXPECT_EQ(second->instance.created_at, then) << "not three days before the event before it";
  world.clock().Set(then - days(5));
  world.Restart();
  EXPECT_EQ(world.clock().Now(), then) << "a manual clock restarted behind the log moves forward";
}

}  // namespace
}  // namespace expertflow::testing
