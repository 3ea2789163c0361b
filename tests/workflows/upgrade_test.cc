// Issue 16: a store written by a binary that knew version 1 of every workflow, with instances in
// every state, opened by a binary that also knows version 2. Each old instance goes on to a
// terminal state under version 1; new ones follow the newest version; stage statistics count both.
#include "engine/projections/stage_stats.h"
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kAssoc = P("assoc-01", "association_member");
const Principal kUmc = P("umc-01", "umc_lead");
const Principal kFtpo = P("ftpo-nnovgorod", "ftpo_coordinator");
const Principal kMinistry = P("ministry", "ministry_official");
const Principal kRumo = P("rumo-52", "rumo_member");
const Principal kFumo = P("fumo-09.00.00", "fumo_expert");
const Principal kRumoExpert = P("rumo-74", "rumo_member");

// The binary before the upgrade: version 1 of everything.
void Version1Only(engine::DefinitionSet& set) {
  engine::DefinitionSet kept;
  for (const engine::Definition* d : set.All()) {
    if (d->version == 1) {
      ASSERT_TRUE(kept.Add(*d));
    }
  }
  set = std::move(kept);
}

json IndustryDraft() {
  return {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}, {"ugps", {"14.00.00"}}};
}
json FgosDraft() {
  return {{"title", "t"}, {"ugps", "09.00.00"}, {"standard", "s"}, {"summary", "s"}};
}
json AgreementDraft() {
  return {{"fumo", "fumo-09.00.00"}, {"rumo", "rumo-52"}, {"ugps", "09.00.00"}, {"city", "c"}};
}

std::string Later(World& w, int n) {
  return engine::FormatRfc3339(w.clock().Now() + days(n)).substr(0, 10);
}

// One step of version 1 from the instance's state towards its end, as its rightful actors.
bool StepV1(World& w, const std::string& collection, const std::string& id) {
  const InstanceState s = w.Get(collection, id);
  EXPECT_EQ(s.workflow_version, 1u) << collection << "/" << id << " keeps version 1";
  auto act = [&](const std::string& command, const Principal& p, json payload = json::object()) {
    auto r = w.Act(collection, id, command, p, std::move(payload));
    EXPECT_TRUE(r) << s.workflow << " " << s.state << " " << command << ": "
                   << (r ? "" : r.error().ToString());
    return r.has_value();
  };
  auto round = [&](const std::string& command, json payload) {
    for (const auto& party : s.round->parties) {
      if (!party.acted && !act(command, P(party.org, party.role), payload)) return false;
    }
    return true;
  };
  if (s.workflow == "industry_proposal") {
    if (s.state == "drafting") return act("submit_to_umc", kAssoc);
    if (s.state == "umc_review")
      return act("send_to_expertise", kUmc, {{"experts", {{"fumo", {"fumo-14.00.00"}}}}});
    if (s.state == "expertise") return round("submit_conclusion", {{"verdict", "approve"}});
    if (s.state == "approbation")
      return act("record_approbation", kFtpo, {{"outcome", "successful"}, {"report", "r"}});
    if (s.state == "ministry_review") return act("approve", kMinistry);
    if (s.state == "dissemination") {
      return act("record_training", kFtpo, {{"programme", "p"}, {"teachers_trained", 12}}) &&
             act("complete", kFtpo);
    }
  }
  if (s.workflow == "fgos_proposal") {
    if (s.state == "drafting") return act("submit_to_fumo", kRumo);
    if (s.state == "fumo_review" && s.rounds == 0)
      return act("open_expertise", kFumo, {{"experts", {"rumo-74"}}});
    if (s.state == "fumo_review") return act("send_to_ministry", kFumo);
    if (s.state == "expertise") return round("submit_conclusion", {{"verdict", "approve"}});
    if (s.state == "ministry_review") return act("approve", kMinistry);
  }
  if (s.workflow == "agreement") {
    if (s.state == "draft") return round("sign", json::object());
    if (s.state == "amending") {
      const std::string proposer = s.participants.at("proposer");
      return act("withdraw_amendment",
                 P(proposer, proposer.starts_with("fumo") ? "fumo_expert" : "rumo_member"));
    }
    if (s.state == "active")
      return act("notify_termination", kFumo, {{"effective_date", Later(w, 40)}});
    if (s.state == "terminating") return w.Advance(days(41)) > 0;
  }
  ADD_FAILURE() << "no version 1 step for " << s.workflow << " in " << s.state;
  return false;
}

bool Terminal(World& w, const std::string& collection, const std::string& id) {
  const InstanceState s = w.Get(collection, id);
  const engine::Definition* def = w.definitions().Find(s.workflow, s.workflow_version);
  return def != nullptr && def->FindState(s.state)->terminal;
}

TEST(Upgrade, ShouldFinishVersion1InstancesUnderVersion1WhileNewOnesFollowVersion2) {
  engine::MemoryEventLog log;
  // Every non-terminal state of each workflow that has a version 2, reached under version 1.
  std::vector<std::tuple<std::string, std::string, std::string>> old;  // collection, id, state
  engine::Timestamp then;
  {
    World v1(&log, Version1Only);
    ASSERT_EQ(v1.definitions().Latest("industry_proposal")->version, 1u);
    auto drive = [&](const std::string& collection, const std::string& workflow,
                     const Principal& by, const json& draft, const std::string& until) {
      auto r = v1.Create(collection, workflow, by, draft);
      ASSERT_TRUE(r) << r.error().ToString();
      while (v1.Get(collection, r->instance.id).state != until) {
        ASSERT_TRUE(StepV1(v1, collection, r->instance.id)) << workflow << " to " << until;
      }
      old.emplace_back(collection, r->instance.id, until);
    };
    for (const char* state : {"drafting", "umc_review", "expertise", "approbation",
                              "ministry_review", "dissemination"}) {
      drive("proposals", "industry_proposal", kAssoc, IndustryDraft(), state);
    }
    for (const char* state : {"drafting", "fumo_review", "expertise", "ministry_review"}) {
      drive("proposals", "fgos_proposal", kRumo, FgosDraft(), state);
    }
    for (const char* state : {"draft", "active", "terminating"}) {
      drive("agreements", "agreement", kFumo, AgreementDraft(), state);
    }
    // An amendment under way, and an expertise half concluded.
    drive("agreements", "agreement", kFumo, AgreementDraft(), "active");
    ASSERT_ACCEPTED(v1.Act("agreements", std::get<1>(old.back()), "propose_amendment", kRumo,
                           {{"text", "Дополнить раздел 2"}}));
    std::get<2>(old.back()) = "amending";
    ASSERT_ACCEPTED(v1.Act("proposals", std::get<1>(old[2]), "submit_conclusion",
                           P("fumo-14.00.00", "fumo_expert"), {{"verdict", "approve"}}));
    then = v1.clock().Now();
  }

  // The upgraded binary opens the same store.
  World w(&log, nullptr, then);
  for (const char* id : {"industry_proposal", "agreement"})
    ASSERT_GE(w.definitions().Latest(id)->version, 2u) << id;
  for (const auto& [collection, id, state] : old) {
    const InstanceState s = w.Get(collection, id);
    EXPECT_EQ(s.state, state) << "the upgrade changes no instance";
    EXPECT_EQ(s.workflow_version, 1u);
  }
  // New instances follow the newest version, beside the old ones.
  auto fresh = w.Create("proposals", "industry_proposal", kAssoc, IndustryDraft());
  ASSERT_ACCEPTED(fresh);
  EXPECT_EQ(fresh->instance.workflow_version, 2u);
  EXPECT_TRUE(fresh->instance.participants.contains("key_employer"));
  ASSERT_ACCEPTED(w.Act("proposals", fresh->instance.id, "submit_to_umc", kAssoc));
  ASSERT_ACCEPTED(w.Act("proposals", fresh->instance.id, "send_to_expertise", kUmc,
                        {{"experts", {{"fumo", {"fumo-14.00.00"}}}}}));
  auto agreement = w.Create("agreements", "agreement", kFumo, AgreementDraft());
  ASSERT_ACCEPTED(agreement);
  EXPECT_EQ(agreement->instance.workflow_version, 2u);
  // A version 1 command that version 2 no longer has is still the old instance's.
  const std::string in_dissemination = std::get<1>(old[5]);
  ASSERT_ACCEPTED(w.Act("proposals", in_dissemination, "record_training", kFtpo,
                        {{"programme", "p"}, {"teachers_trained", 3}}));
  EXPECT_REJECTED(w.Act("proposals", fresh->instance.id, "record_training", kFtpo,
                        {{"programme", "p"}, {"teachers_trained", 3}}),
                  kValidationFailed);

  // Each old instance goes on to its end under version 1.
  for (const auto& [collection, id, state] : old) {
    for (int steps = 0; !Terminal(w, collection, id); ++steps) {
      ASSERT_LT(steps, 20) << collection << "/" << id << " from " << state;
      ASSERT_TRUE(StepV1(w, collection, id)) << collection << "/" << id << " from " << state;
    }
    EXPECT_EQ(w.Get(collection, id).workflow_version, 1u);
  }
  EXPECT_EQ(w.Get("proposals", std::get<1>(old[0])).state, "scaled");
  EXPECT_EQ(w.Get("agreements", std::get<1>(old.back())).state, "terminated");

  // Stage statistics count both versions in the stages they share: the new proposal is in
  // expertise beside the six old ones that passed through it.
  engine::StageStatistics stats(w.definitions(), workflows::Builtin());
  ASSERT_TRUE(stats.CatchUp(log));
  std::vector<InstanceState> current;
  w.sequencer().ForEachInstance([&](const InstanceState& s) {
    current.push_back(s);
    return true;
  });
  const json r = stats.Stages(
      {.workflow = "industry_proposal", .from = {}, .to = {}, .group_by = {}}, current);
  std::map<std::string, json> stages;
  for (const auto& s : r["stages"]) stages[s["stage"]] = s;
  EXPECT_EQ(stages["expertise"]["entered"], 7);
  EXPECT_EQ(stages["expertise"]["wip"], 1);
  EXPECT_EQ(stages["scaled"]["entered"], 6);
  EXPECT_EQ(stages["association"]["entered"], 7);
  // Replay equals live for every instance, old and new.
  for (const auto& s : current) EXPECT_EQ(w.Replay(s.collection, s.id), s) << s.Stream();
}

}  // namespace
}  // namespace expertflow::testing
