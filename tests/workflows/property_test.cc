// A property test: thousands of random commands (fixed seed) from right and wrong actors, with
// time moving on, never break an invariant, and replaying the log gives exactly the live state.
#include <algorithm>
#include <random>
#include <set>

#include "engine/projections/rebuild.h"
#include "engine/projections/stage_stats.h"
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

class RandomDriver {
 public:
  RandomDriver(World& world, std::uint64_t seed) : world_(world), rng_(seed) {}

  void Step() {
    int dice = Pick(100);
    if (dice < 12 || ids_.empty()) return CreateOne();
    if (dice < 16) {
      world_.Advance(std::chrono::hours(1 + Pick(24 * 20)));
      return;
    }
    auto [collection, id] = ids_[Pick(ids_.size())];
    auto s = world_.Get(collection, id);
    const engine::Definition* def = world_.definitions().Find(s.workflow, s.workflow_version);
    ASSERT_NE(def, nullptr);
    std::vector<const engine::CommandSpec*> specs;
    for (const auto& c : def->commands) specs.push_back(&c);
    const engine::CommandSpec* spec = specs[Pick(specs.size())];
    // Mostly a command valid now, from someone entitled to it.
    if (Pick(100) < 75) {
      auto names = def->CommandsIn(s.state);
      if (!names.empty()) spec = def->FindCommand(names[Pick(names.size())], s.state);
    }
    // The registry retires seldom: an organisation or group lives on through many changes.
    if (spec->name == "retire" && (def->id == "organization" || def->id == "group") && Pick(6)) {
      const std::string other = def->id == "group" ? (Pick(2) ? "add_member" : "remove_member")
                                                   : (Pick(2) ? "rename" : "update");
      if (const auto* alt = def->FindCommand(other, s.state)) spec = alt;
    }
    Principal actor = Pick(100) < 80 ? EntitledActor(*def, s, *spec) : RandomActor();
    json payload = Payload(spec->payload, spec->partial);
    if (!spec->list_item.empty()) payload[spec->list_item] = Member(id);
    if (def->id == "organization" && spec->name == "update") {
      payload["region_code"] = Pick(4) ? "52" : "00";  // "00" is no region: refused
      if (Pick(4)) payload.erase("ugps");              // a random text is no group code
    }
    auto r = world_.Act(collection, id, spec->name, actor, payload);
    if (r)
      ++accepted_;
    else
      ++rejected_;
  }

  void CheckInvariants() {
    for (const auto& [collection, id] : ids_) {
      auto s = world_.Get(collection, id);
      const engine::Definition* def = world_.definitions().Find(s.workflow, s.workflow_version);
      ASSERT_NE(def, nullptr);
      const engine::StateSpec* st = def->FindState(s.state);
      ASSERT_NE(st, nullptr) << s.state;
      auto events = world_.log().ReadStream(s.Stream(), 1, 1 << 20);
      ASSERT_TRUE(events);
      ASSERT_EQ(s.version, events->size()) << "version counts the stream's events";
      EXPECT_EQ(s.round.has_value(), st->round.has_value() && !st->terminal)
          << s.Stream() << " " << s.state;
      if (st->terminal) {
        EXPECT_TRUE(s.timers.empty()) << "a closed instance has no deadline running";
        if (terminal_versions_.contains(s.Stream())) {
          EXPECT_EQ(terminal_versions_[s.Stream()], s.version) << "a terminal state is final";
        }
        terminal_versions_[s.Stream()] = s.version;
      }
      for (const auto& [name, due] : s.timers) {
        auto dl = std::find_if(def->deadlines.begin(), def->deadlines.end(),
                               [&](const engine::DeadlineSpec& d) { return d.name == name; });
        ASSERT_NE(dl, def->deadlines.end());
        EXPECT_NE(std::find(dl->while_in.begin(), dl->while_in.end(), s.state), dl->while_in.end())
            << name << " runs only in its states";
      }
    }
  }

  std::size_t accepted() const { return accepted_; }
  std::size_t rejected() const { return rejected_; }
  const std::vector<std::pair<std::string, std::string>>& ids() const { return ids_; }

 private:
  std::size_t Pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  void CreateOne() {
    static const std::vector<std::pair<std::string, std::string>> kinds = {
        {"proposals", "industry_proposal"},     {"proposals", "fgos_proposal"},
        {"assignments", "protocol_assignment"}, {"agreements", "agreement"},
        {"organizations", "organization"},      {"groups", "group"},
        {"positions", "industry_position"},     {"event_plans", "industry_events_plan"}};
    auto [collection, workflow] = kinds[Pick(kinds.size())];
    // Version 1 agreements, industry and FGOS proposals keep being created beside version 2
    // ones (issue 16: both run in one server), with a version 1 body.
    std::uint32_t version = 0;
    if ((workflow == "agreement" || workflow == "industry_proposal" ||
         workflow == "fgos_proposal") &&
        Pick(3) == 0)
      version = 1;
    const engine::Definition* def = version ? world_.definitions().Find(workflow, version)
                                            : world_.definitions().Latest(workflow);
    json payload = Payload(def->create.payload, false);
    Principal actor;
    if (workflow == "industry_proposal" || workflow == "industry_position") {
      actor = P(Num("assoc-", 22), "association_member");
      // The UMC drafts version 2 proposals too (seed 001 §5.2).
      if (workflow == "industry_proposal" && version == 0 && Pick(2))
        actor = P("umc-" + std::string(actor.org).substr(6), "umc_lead");
    } else if (workflow == "industry_events_plan") {
      actor = P(Num("umc-", 22), "umc_lead");
    } else if (workflow == "fgos_proposal") {
      // Version 2: a RUMO's proposal, or the FUMO's own (of its group, or now and then of
      // another: refused), of any kind (a RUMO's list is refused).
      actor = version == 0 && Pick(3) == 0 ? P("fumo-09.00.00", "fumo_expert")
                                           : P("rumo-52", "rumo_member");
      payload["ugps"] = actor.org == "fumo-09.00.00" && Pick(8) == 0 ? "15.00.00" : "09.00.00";
    } else if (workflow == "protocol_assignment") {
      actor = P("ministry", "ministry_official");
      payload["issuer"] = "ministry";
      payload["assignee"] = Pick(2) ? "roiv-52" : "roiv-77";
      // Often an organisation the run registered (or retired): routing reads the registry as
      // the batch stands.
      if (!registered_.empty() && Pick(2))
        payload["assignee"] = registered_[Pick(registered_.size())];
    } else if (workflow == "organization") {
      actor = P("admin", "admin");
      // Now and then an id used before (refused), a region that is none (refused).
      payload["id"] = !registered_.empty() && Pick(8) == 0
                          ? registered_[Pick(registered_.size())]
                          : "college-52-p" + std::to_string(Pick(100000));
      payload["kind"] = Pick(10) ? "college" : "cluster";  // a cluster's id must say so
      payload["region_code"] = Pick(10) ? "52" : "00";
      payload.erase("ugps");
      payload.erase("embedded");
    } else if (workflow == "group") {
      actor = P("admin", "admin");
      payload["id"] = "g" + std::to_string(Pick(100000));
      payload.erase("embedded");
      payload["members"] = json::array();
      for (std::size_t i = Pick(3); i > 0; --i) payload["members"].push_back(Member(""));
    } else {
      payload["fumo"] = "fumo-09.00.00";
      payload["rumo"] = Pick(2) ? "rumo-52" : "rumo-77";
      actor = P(payload["rumo"], "rumo_member");
    }

    if (Pick(10) == 0) actor = RandomActor();
    auto r = world_.Create(collection, workflow, actor, payload, version);
    if (r) {
      ids_.emplace_back(collection, r->instance.id);
      if (workflow == "organization") registered_.push_back(r->instance.id);
      if (workflow == "group") groups_.push_back(r->instance.id);
      ++accepted_;
    } else {
      ++rejected_;
    }
  }

  // A member to add to or remove from a group: an organisation of the run or of the embedded
  // registry, another group, or the group itself (refused).
  std::string Member(const std::string& group) {
    const std::size_t dice = Pick(10);
    if (dice < 4 && !registered_.empty()) return registered_[Pick(registered_.size())];
    if (dice < 6 && !groups_.empty()) return "group:" + groups_[Pick(groups_.size())];
    if (dice < 7 && !group.empty()) return "group:" + group;
    return Pick(2) ? "roiv-52" : "roiv-77";
  }

  std::string Num(const std::string& prefix, int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(Pick(n)) + 1);
    return prefix + buf;
  }

  Principal EntitledActor(const engine::Definition& def, const InstanceState& s,
                          const engine::CommandSpec& spec) {
    std::vector<Principal> candidates;
    for (const auto& slot : spec.by) {
      if (slot == "round" || slot == "round_pending") {
        if (!s.round) continue;
        for (const auto& p : s.round->parties) candidates.push_back(P(p.org, p.role));
      } else if (auto org = s.participants.find(slot); org != s.participants.end()) {
        for (const auto& role : def.participants.at(slot)) {
          if (std::find(spec.roles.begin(), spec.roles.end(), role) != spec.roles.end()) {
            candidates.push_back(P(org->second, role));
          }
        }
      }
    }
    if (candidates.empty()) return RandomActor();
    return candidates[Pick(candidates.size())];
  }

  Principal RandomActor() {
    static const std::vector<Principal> pool = {P("umc-05", "umc_lead"),
                                                P("assoc-05", "association_member"),
                                                P("fumo-09.00.00", "fumo_expert"),
                                                P("irpo", "irpo_staff"),
                                                P("ministry", "ministry_official"),
                                                P("rumo-52", "rumo_member"),
                                                P("roiv-52", "region_official"),
                                                P("ftpo-kaluga", "ftpo_coordinator"),
                                                P("business-rspp", "business_expert"),
                                                P("irpo", "auditor")};
    return pool[Pick(pool.size())];
  }

  json Value(const engine::FieldSpec& f) {
    const auto& t = f.type;
    if (!f.enum_values.empty()) return f.enum_values[Pick(f.enum_values.size())];
    if (t == "string" || t == "text") return "значение " + std::to_string(Pick(1000));
    if (t == "integer") return f.minimum ? *f.minimum + static_cast<long long>(Pick(10)) : 1;
    if (t == "boolean") return Pick(2) == 1;
    if (t == "date") {
      auto day = engine::MoscowDate(world_.clock().Now() + std::chrono::days(31 + Pick(60)));
      return engine::FormatRfc3339(engine::Timestamp(std::chrono::sys_days(day))).substr(0, 10);
    }
    if (t == "datetime") return engine::FormatRfc3339(world_.clock().Now());
    if (t == "ugps") return Pick(2) ? "09.00.00" : "15.00.00";
    if (t == "org") {
      auto orgs = workflows::Builtin().Organizations(f.org_kind);
      return orgs[Pick(orgs.size())]->id;
    }
    if (t == "array") {
      json out = json::array();
      std::set<std::string> seen;
      std::size_t n = std::max<std::size_t>(f.min_items, 1 + Pick(2));
      for (std::size_t i = 0; i < n; ++i) {
        json v = Value(f.items.front());
        if (v.is_string() && !seen.insert(v.get<std::string>()).second) continue;
        out.push_back(v);
      }
      return out;
    }
    if (t == "object") return Payload(f.properties, false);
    if (t == "deadline") {
      if (Pick(2))
        return {
            {"due", engine::FormatRfc3339(world_.clock().Now() + std::chrono::days(Pick(40) + 1))}};
      return {
          {"recurring",
           {{"every", "week"},
            {"weekday", "friday"},
            {"time", "18:00"},
            {"until",
             engine::FormatRfc3339(world_.clock().Now() + std::chrono::days(60)).substr(0, 10)}}}};
    }
    return nullptr;
  }

  json Payload(const std::vector<engine::FieldSpec>& spec, bool partial) {
    json out = json::object();
    for (const auto& f : spec) {
      if ((f.required && !partial) || Pick(3) == 0) out[f.name] = Value(f);
    }
    if (Pick(25) == 0) out["unexpected"] = 1;  // sometimes wrong on purpose
    return out;
  }

  World& world_;
  std::mt19937_64 rng_;
  std::vector<std::pair<std::string, std::string>> ids_;
  std::vector<std::string> registered_, groups_;  // organisations and groups the run created
  std::map<std::string, std::uint64_t> terminal_versions_;
  std::size_t accepted_ = 0;
  std::size_t rejected_ = 0;
};

TEST(Property, RandomCommandsKeepInvariantsAndReplayEqualsLiveState) {
  engine::MemoryEventLog log;
  // View checkpoints every few events, a few views a batch: many of them begin and end during
  // the run, each spread over several batches.
  World world = World::WithViewCheckpoints(log, 13, 5);
  RandomDriver driver(world, /*seed=*/20241023);
  std::vector<ViewsOnDisk> crashes;  // the stored views at moments along the run
  // The stage statistics follow the log as the live server does: in steps, while it grows.
  engine::StageStatistics live_stats(world.definitions(), workflows::Builtin());
  constexpr int kSteps = 3000;
  for (int i = 0; i < kSteps; ++i) {
    driver.Step();
    if (i % 100 == 99) {
      driver.CheckInvariants();
      if (i % 700 == 699) crashes.push_back(ViewsStored(log));
      ASSERT_TRUE(live_stats.CatchUp(log));
      // The last save is 500 steps before the end: the resumed copy must catch up from it.
      if (i % 500 == 499 && i < kSteps - 500) {
        ASSERT_TRUE(live_stats.Save(log));
      }
    }
    if (::testing::Test::HasFailure()) FAIL() << "at step " << i;
  }
  driver.CheckInvariants();
  EXPECT_GT(driver.accepted(), kSteps / 4) << "the driver must exercise the workflows";
  EXPECT_GT(driver.rejected(), kSteps / 20) << "and their refusals";
  std::map<std::uint32_t, int> agreement_versions;
  for (const auto& [collection, id] : driver.ids()) {
    if (collection == "agreements")
      ++agreement_versions[world.Get(collection, id).workflow_version];
  }
  EXPECT_GT(agreement_versions[1], 0) << "version 1 agreements run beside version 2 ones";
  EXPECT_GT(agreement_versions[2], 0);
  // And version 1 FGOS proposals beside version 2 ones, some of those the FUMO's own, some of
  // them through an expertise the FUMO concluded in.
  std::map<std::uint32_t, int> fgos_versions;
  int fgos_by_fumo = 0, fgos_reviewed = 0;
  for (const auto& [collection, id] : driver.ids()) {
    const InstanceState s = world.Get(collection, id);
    if (s.workflow != "fgos_proposal") continue;
    ++fgos_versions[s.workflow_version];
    if (s.workflow_version == 2 && s.created_by == "fumo-09.00.00") ++fgos_by_fumo;
    if (s.workflow_version == 2 &&
        std::binary_search(s.concluded.begin(), s.concluded.end(), "fumo-09.00.00"))
      ++fgos_reviewed;
  }
  EXPECT_GT(fgos_versions[1], 0) << "version 1 FGOS proposals run beside version 2 ones";
  EXPECT_GT(fgos_versions[2], 0);
  EXPECT_GT(fgos_by_fumo, 0);
  EXPECT_GT(fgos_reviewed, 0);

  // Replaying the whole log through evolve gives exactly the live states.
  std::map<std::string, InstanceState> replayed;
  auto r = log.ForEach(1, log.GetHead().seq,
                       [&](std::uint64_t, const engine::Hash&, std::string_view rec) {
                         auto e = engine::DecodeRecord(rec);
                         EXPECT_TRUE(e);
                         EXPECT_TRUE(engine::EvolveRecord(replayed[e->stream], rec));
                         return true;
                       });
  ASSERT_TRUE(r);
  for (const auto& [collection, id] : driver.ids()) {
    EXPECT_EQ(replayed[collection + "/" + id], world.Get(collection, id))
        << collection << "/" << id;
    // The stored form written without a DOM is the DOM's text, for every state the run made.
    const InstanceState& s = replayed[collection + "/" + id];
    EXPECT_EQ(engine::StateToText(s), engine::StateToJson(s).dump()) << collection << "/" << id;
  }
  // Routing read the registry as it stood when each command was decided: every assignment given
  // to an organisation the run registered came after its registration and before its retirement,
  // and no group ever held itself.
  std::set<std::string> active, known;
  std::size_t assigned_to_registered = 0;
  ASSERT_TRUE(log.ForEach(
      1, log.GetHead().seq, [&](std::uint64_t seq, const engine::Hash&, std::string_view rec) {
        auto e = engine::DecodeRecord(rec);
        const std::string id = e->stream.substr(e->stream.find('/') + 1);
        if (e->type == "OrganizationRegistered") active.insert(id), known.insert(id);
        if (e->type == "OrganizationRetired") active.erase(id);
        if (e->stream.starts_with("assignments/") && e->data.contains("created")) {
          const std::string a = e->data["payload"].value("assignee", "");
          if (known.contains(a) || a.starts_with("college-52-p")) {
            ++assigned_to_registered;
            EXPECT_TRUE(active.contains(a)) << "seq " << seq << " assigns " << a;
          }
        }
        if (e->type == "GroupMemberAdded") {
          EXPECT_NE(e->data["payload"].value("member", ""), "group:" + id);
        }
        return true;
      }));
  EXPECT_GT(assigned_to_registered, 0u) << "the run must assign work to registered organisations";
  EXPECT_GT(known.size(), 10u);
  auto verified = engine::Verify(log);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->reason;

  // A fresh replay of the stage statistics answers byte for byte what the live one does.
  ASSERT_TRUE(live_stats.CatchUp(log));
  engine::StageStatistics rebuilt_stats(world.definitions(), workflows::Builtin());
  ASSERT_TRUE(rebuilt_stats.CatchUp(log));
  std::vector<InstanceState> current;
  for (const auto& [collection, id] : driver.ids()) current.push_back(world.Get(collection, id));
  for (const char* workflow : {"industry_proposal", "fgos_proposal", "protocol_assignment",
                               "agreement", "industry_position", "industry_events_plan"}) {
    for (const char* group_by : {"", "umc", "industry", "federal_district"}) {
      engine::StageStatistics::Query q{workflow, std::nullopt, std::nullopt, group_by};
      EXPECT_EQ(live_stats.Stages(q, current).dump(), rebuilt_stats.Stages(q, current).dump())
          << workflow << " by " << group_by;
    }
  }

  // A rebuild of every projection in one read of the log gives byte for byte the views, the timer
  // index and the stage statistics the live system wrote.
  // Stopping writes the views changed since the last checkpoint.
  world.sequencer().Stop();
  EXPECT_EQ(ViewsStored(log).covers, std::to_string(log.GetHead().seq));
  auto views_before = log.Scan(engine::Space::kViews, "", "", 1 << 20);
  auto timers_before = log.Scan(engine::Space::kTimers, "", "", 1 << 20);
  ASSERT_TRUE(views_before && timers_before);
  // The live statistics, saved incrementally along the run and once more now.
  ASSERT_TRUE(live_stats.Save(log));
  auto stats_before = log.Scan(engine::Space::kAnalytics, "stages/", "stages0", 1 << 20);
  ASSERT_TRUE(stats_before);
  // What an older version of the projection might have left: the rebuild must remove it.
  ASSERT_TRUE(log.Append({{}, {{engine::Space::kAnalytics, "stages/s/retired/x", "[]"}}, {}}));
  engine::StageStatistics one_read(world.definitions(), workflows::Builtin());
  auto report = engine::RebuildInstanceViews(log, &one_read);
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->views_changed, 0u);
  EXPECT_EQ(report->views_removed, 0u);
  EXPECT_EQ(report->instances, driver.ids().size());
  EXPECT_EQ(*log.Scan(engine::Space::kViews, "", "", 1 << 20), *views_before);
  EXPECT_EQ(*log.Scan(engine::Space::kTimers, "", "", 1 << 20), *timers_before);
  EXPECT_EQ(one_read.checkpoint(), log.GetHead().seq);
  EXPECT_EQ(*log.Get(engine::Space::kAnalytics, "stages/s/retired/x"), std::nullopt);
  EXPECT_EQ(*log.Scan(engine::Space::kAnalytics, "stages/", "stages0", 1 << 20), *stats_before)
      << "the rebuilt statistics must be stored byte for byte as the live ones were";
  // What the rebuild saved loads into a copy that answers as the fresh replay does.
  engine::StageStatistics loaded(world.definitions(), workflows::Builtin());
  ASSERT_TRUE(loaded.Load(log));
  EXPECT_EQ(loaded.checkpoint(), log.GetHead().seq);
  for (const char* workflow : {"industry_proposal", "fgos_proposal", "protocol_assignment",
                               "agreement", "industry_position", "industry_events_plan"}) {
    for (const char* group_by : {"", "umc", "industry", "federal_district"}) {
      engine::StageStatistics::Query q{workflow, std::nullopt, std::nullopt, group_by};
      const std::string expected = rebuilt_stats.Stages(q, current).dump();
      EXPECT_EQ(one_read.Stages(q, current).dump(), expected) << workflow << " by " << group_by;
      EXPECT_EQ(loaded.Stages(q, current).dump(), expected) << workflow << " by " << group_by;
    }
  }

  // A crash at any of the moments kept along the run loses nothing: a start replays onto the
  // views stored then what they lack, answers exactly the live states, and writes those views.
  ASSERT_EQ(crashes.size(), 4u);
  int behind = 0;
  for (const ViewsOnDisk& then : crashes) {
    ASSERT_TRUE(then.covers.has_value());
    if (std::stoull(*then.covers) < then.head) ++behind;
    RestoreViews(log, then);
    world.Restart();
    for (std::size_t i = 0; i < driver.ids().size(); ++i) {
      const auto& [collection, id] = driver.ids()[i];
      EXPECT_EQ(world.Get(collection, id), current[i])
          << collection << "/" << id << " after a crash at head " << then.head;
    }
    world.sequencer().Stop();
    EXPECT_EQ(*log.Scan(engine::Space::kViews, "", "", 1 << 20), *views_before);
  }
  EXPECT_GT(behind, 0) << "some crash must have left the views behind the log";
}

}  // namespace
}  // namespace expertflow::testing
