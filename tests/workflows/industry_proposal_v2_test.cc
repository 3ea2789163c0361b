// Given/when/then tests of the industry route, version 2: seed 001 as written (issue 16). The
// association's positions (§5.1) go into one draft the UMC forms with it (§5.2, §4.3.2); the
// expertise is by the FUMOs of the proposal's УГПС, IRPO and the industry's business community,
// its key employer first (§5.3, §1.3.3, annex); the UMC decides on the conclusions; approbation on
// the base of the UMC and the FTPO (§6.1); the ministry (§6.2); teacher training (§6.3); the
// yearly plan of industry events at the FTPO (§6.4).
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kAssoc = P("assoc-01", "association_member");  // nuclear industry, Ozersk (Ural)
const Principal kUmc = P("umc-01", "umc_lead");
const Principal kOtherAssoc = P("assoc-12", "association_member");
const Principal kOtherUmc = P("umc-12", "umc_lead");
const Principal kFumo14 = P("fumo-14.00.00", "fumo_expert");
const Principal kFumo09 = P("fumo-09.00.00", "fumo_expert");
const Principal kKeyEmployer = P("business-key-01", "business_expert");
const Principal kRspp = P("business-rspp", "business_expert");
const Principal kIrpo = P("irpo", "irpo_staff");
const Principal kFtpo = P("ftpo-nnovgorod", "ftpo_coordinator");
const Principal kWrongFtpo = P("ftpo-kaluga", "ftpo_coordinator");
const Principal kMinistry = P("ministry", "ministry_official");

json Draft() {
  return {{"title", "Единый отраслевой подход к подготовке операторов"},
          {"topic", "unified_training_approach"},
          {"summary", "Проект предложений УМЦ при участии ассоциации"},
          {"ugps", {"14.00.00"}}};
}

json Experts() {
  return {{"experts", {{"fumo", {"fumo-14.00.00"}}, {"business", {"business-rspp"}}}}};
}

std::vector<std::string> Orgs(const engine::Round& r) {
  std::vector<std::string> out;
  for (const auto& p : r.parties) out.push_back(p.org);
  return out;
}

class IndustryV2 : public ::testing::Test {
 protected:
  std::string DaysAhead(int n) {
    return engine::FormatRfc3339(world_.clock().Now() + days(n)).substr(0, 10);
  }
  std::string Created(const Principal& by = kAssoc, json draft = Draft()) {
    auto r = world_.Create("proposals", "industry_proposal", by, std::move(draft));
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    if (r) {
      EXPECT_EQ(r->instance.workflow_version, 2u) << "a new proposal is on version 2";
    }
    return r ? r->instance.id : "";
  }
  std::string InUmcReview() {
    std::string id = Created();
    EXPECT_TRUE(world_.Act("proposals", id, "submit_to_umc", kAssoc));
    return id;
  }
  std::string InExpertise() {
    std::string id = InUmcReview();
    auto r = world_.Act("proposals", id, "send_to_expertise", kUmc, Experts());
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString() + r.error().details.dump());
    return id;
  }
  void ConcludeAll(const std::string& id, const std::string& verdict) {
    for (const auto& p : {kFumo14, kIrpo, kKeyEmployer, kRspp}) {
      auto r = world_.Act("proposals", id, "submit_conclusion", p, {{"verdict", verdict}});
      ASSERT_ACCEPTED(r);
    }
  }
  std::string InUmcDecision() {
    std::string id = InExpertise();
    ConcludeAll(id, "approve");
    return id;
  }
  std::string InApprobation() {
    std::string id = InUmcDecision();
    EXPECT_TRUE(world_.Act("proposals", id, "start_approbation", kUmc,
                           {{"plan", "Апробация на базе УМЦ и ФТПО, два потока"}}));
    return id;
  }
  void RecordApprobation(const std::string& id, const std::string& umc, const std::string& ftpo) {
    EXPECT_TRUE(world_.Act("proposals", id, "record_approbation", kUmc,
                           {{"outcome", umc}, {"report", "Часть УМЦ"}}));
    EXPECT_TRUE(world_.Act("proposals", id, "record_approbation", kFtpo,
                           {{"outcome", ftpo}, {"report", "Часть ФТПО"}}));
  }
  std::string InDissemination() {
    std::string id = InApprobation();
    RecordApprobation(id, "successful", "successful");
    EXPECT_TRUE(world_.Act("proposals", id, "approve", kMinistry));
    return id;
  }
  json Course(const std::string& number) {
    return {{"number", number},
            {"programme", "Повышение квалификации преподавателей"},
            {"starts_on", DaysAhead(10)},
            {"ends_on", DaysAhead(20)},
            {"places", 25}};
  }
  std::string StateOf(const std::string& id) { return world_.Get("proposals", id).state; }
  std::string FieldOf(const Result<CommandResult>& r) {
    return r ? "" : r.error().details["errors"][0]["field"].get<std::string>();
  }
  World world_;
};

TEST_F(IndustryV2, ShouldRouteTheKeyEmployerOfTheIndustryAndRecordTheAuthor) {
  std::string id = Created();
  const InstanceState s = world_.Get("proposals", id);
  EXPECT_EQ(s.participants.at("author"), "assoc-01");
  EXPECT_EQ(s.participants.at("umc"), "umc-01");
  EXPECT_EQ(s.participants.at("key_employer"), "business-key-01");
  EXPECT_EQ(s.participants.at("ftpo"), "ftpo-nnovgorod") << "§6.5: Ural is Nizhny Novgorod's";
  const engine::Organization* employer = workflows::Builtin().FindOrganization("business-key-01");
  ASSERT_NE(employer, nullptr);
  EXPECT_EQ(employer->kind, "business");
  EXPECT_EQ(employer->name, "Государственная корпорация по атомной энергии «Росатом»");
  std::string by_umc = Created(kUmc);
  EXPECT_EQ(world_.Get("proposals", by_umc).participants.at("author"), "umc-01");
  EXPECT_REJECTED(world_.Create("proposals", "industry_proposal", kFumo14, Draft()), kForbidden);
  json twice = Draft();
  twice["positions"] = {"p1", "p1"};
  auto r = world_.Create("proposals", "industry_proposal", kUmc, twice);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "positions[1]");
}

TEST_F(IndustryV2, ShouldKeepTheAssociationsDraftItsOwnUntilSubmitted) {
  std::string id = Created();
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kUmc, {{"title", "УМЦ правит"}}),
                  kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "withdraw", kUmc), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_expertise", kUmc, Experts()), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kAssoc, {{"title", "Уточнено"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_to_umc", kAssoc));
  EXPECT_EQ(StateOf(id), "umc_review");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kUmc, {{"summary", "Сведено УМЦ"}}));
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kAssoc, {{"title", "x"}}), kForbidden);
}

TEST_F(IndustryV2, ShouldLetTheUmcSendItsOwnDraftStraightToExpertise) {
  std::string id = Created(kUmc);
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kAssoc, {{"title", "x"}}), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_to_umc", kAssoc), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "send_to_expertise", kOtherUmc, Experts()),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "send_to_expertise", kUmc, Experts()));
  EXPECT_EQ(StateOf(id), "expertise");
}

TEST_F(IndustryV2, ShouldBeWithdrawnByItsAuthorBeforeSubmissionAndByTheUmcAfter) {
  std::string draft = Created();
  EXPECT_REJECTED(world_.Act("proposals", draft, "withdraw", kOtherAssoc), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", draft, "withdraw", kAssoc, {{"comment", "Снято"}}));
  EXPECT_EQ(StateOf(draft), "withdrawn");
  std::string reviewed = InUmcReview();
  EXPECT_REJECTED(world_.Act("proposals", reviewed, "withdraw", kAssoc), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", reviewed, "withdraw", kUmc));
  EXPECT_EQ(StateOf(reviewed), "withdrawn");
  std::string decided = InUmcDecision();
  ASSERT_ACCEPTED(world_.Act("proposals", decided, "return_to_association", kUmc,
                             {{"comment", "Переработать с учётом заключений"}}));
  EXPECT_EQ(StateOf(decided), "drafting");
  ASSERT_ACCEPTED(world_.Act("proposals", decided, "submit_to_umc", kAssoc));
  ASSERT_ACCEPTED(world_.Act("proposals", decided, "send_to_expertise", kUmc, Experts()));
  ConcludeAll(decided, "revise");
  EXPECT_EQ(StateOf(decided), "umc_decision");
  ASSERT_ACCEPTED(
      world_.Act("proposals", decided, "withdraw", kUmc, {{"comment", "Замечания не устранимы"}}));
  EXPECT_EQ(StateOf(decided), "withdrawn");
  EXPECT_REJECTED(world_.Act("proposals", decided, "update", kUmc, {{"title", "x"}}),
                  kInvalidTransition);
}

TEST_F(IndustryV2, ShouldReturnOnlyTheAssociationsDraftToIt) {
  std::string id = InUmcReview();
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_association", kUmc), kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "return_to_association", kUmc,
                             {{"comment", "Уточнить позиции"}}));
  EXPECT_EQ(StateOf(id), "drafting");
  std::string own = Created(kUmc);
  ASSERT_ACCEPTED(world_.Act("proposals", own, "send_to_expertise", kUmc, Experts()));
  ASSERT_ACCEPTED(
      world_.Act("proposals", own, "recall_from_expertise", kUmc, {{"comment", "Отозвано"}}));
  EXPECT_EQ(StateOf(own), "umc_review");
  EXPECT_REJECTED(world_.Act("proposals", own, "return_to_association", kUmc,
                             {{"comment", "Нет черновика ассоциации"}}),
                  kInvalidTransition);
}

TEST_F(IndustryV2, ShouldSendToTheFumosOfTheProposalsGroupsIrpoAndTheBusinessCommunity) {
  json no_groups = Draft();
  no_groups.erase("ugps");
  std::string bare = Created(kAssoc, no_groups);
  ASSERT_ACCEPTED(world_.Act("proposals", bare, "submit_to_umc", kAssoc));
  auto r = world_.Act("proposals", bare, "send_to_expertise", kUmc, Experts());
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "experts.fumo");

  json two = Draft();
  two["ugps"] = {"14.00.00", "09.00.00"};
  std::string id = Created(kAssoc, two);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_to_umc", kAssoc));
  r = world_.Act("proposals", id, "send_to_expertise", kUmc, Experts());
  EXPECT_REJECTED(r, kValidationFailed);  // every group's FUMO gives its conclusion
  EXPECT_EQ(FieldOf(r), "experts.fumo");
  r = world_.Act("proposals", id, "send_to_expertise", kUmc,
                 {{"experts", {{"fumo", {"fumo-14.00.00", "fumo-09.00.00", "fumo-15.00.00"}}}}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "experts.fumo[2]");
  r = world_.Act("proposals", id, "send_to_expertise", kUmc,
                 {{"experts",
                   {{"fumo", {"fumo-14.00.00", "fumo-09.00.00"}},
                    {"business", {"business-rspp", "business-rspp"}}}}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "experts.business[1]");
  ASSERT_ACCEPTED(world_.Act(
      "proposals", id, "send_to_expertise", kUmc,
      {{"experts",
        {{"fumo", {"fumo-14.00.00", "fumo-09.00.00"}}, {"business", {"business-rspp"}}}}}));
  const InstanceState s = world_.Get("proposals", id);
  ASSERT_TRUE(s.round);
  EXPECT_EQ(Orgs(*s.round), (std::vector<std::string>{"fumo-14.00.00", "fumo-09.00.00", "irpo",
                                                      "business-key-01", "business-rspp"}));
}

TEST_F(IndustryV2, ShouldLeaveTheDecisionToTheUmcWhateverTheConclusions) {
  std::string id = InExpertise();
  EXPECT_REJECTED(
      world_.Act("proposals", id, "submit_conclusion", kFumo09, {{"verdict", "approve"}}),
      kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kFumo14, {{"verdict", "reject"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", kIrpo, {{"verdict", "revise"}}));
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kRspp, {{"verdict", "approve"}}));
  EXPECT_EQ(StateOf(id), "expertise") << "the key employer's conclusion is still awaited";
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kKeyEmployer, {{"verdict", "approve"}}));
  EXPECT_EQ(StateOf(id), "umc_decision") << "no verdict decides: the UMC does, having them all";
  EXPECT_EQ(world_.EventTypes("proposals", id).back(), "ExpertiseCompleted");
  // The UMC may go on to approbation, or back to rework with the conclusions in hand.
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kUmc, {{"summary", "Учтены замечания"}}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "send_to_expertise", kUmc, Experts()));
  EXPECT_EQ(world_.Get("proposals", id).round->number, 2u);
}

TEST_F(IndustryV2, ShouldReportTheNormsOverdueWithTheExpertsAwaited) {
  const engine::Definition* def = world_.definitions().Find("industry_proposal", 2);
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->parameters["expertise_norm"]["value"], "P30D");
  EXPECT_NE(def->parameters["expertise_norm"]["source"].get<std::string>().find("not a regulation"),
            std::string::npos);
  std::string id = InExpertise();
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kFumo14, {{"verdict", "approve"}}));
  world_.Advance(days(30) + std::chrono::seconds(1));
  EXPECT_EQ(world_.EventTypes("proposals", id).back(), "ExpertiseOverdue");
  EXPECT_EQ(StateOf(id), "expertise") << "a norm is reported; it moves nothing";
  auto events = world_.log().ReadStream("proposals/" + id, 1, 1000);
  ASSERT_TRUE(events);
  const json data = engine::DecodeRecord(events->back().record)->data;
  EXPECT_EQ(data["pending"], json({"irpo", "business-key-01", "business-rspp"}));
}

TEST_F(IndustryV2, ShouldLetAnExpertAskForMoreTimeAndTheUmcGrantIt) {
  std::string id = InExpertise();
  const engine::Timestamp norm = world_.Get("proposals", id).timers.at("expertise");
  auto r = world_.Act("proposals", id, "request_extension", kIrpo,
                      {{"until", DaysAhead(45)}, {"reason", "Нужен отзыв центра"}});
  ASSERT_ACCEPTED(r);
  EXPECT_REJECTED(world_.Act("proposals", id, "request_extension", kFumo09,
                             {{"until", DaysAhead(45)}, {"reason", "x"}}),
                  kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kFumo14, {{"verdict", "approve"}}));
  EXPECT_REJECTED(world_.Act("proposals", id, "request_extension", kFumo14,
                             {{"until", DaysAhead(45)}, {"reason", "x"}}),
                  kForbidden);  // an expert that concluded needs no more time
  r = world_.Act("proposals", id, "grant_extension", kUmc,
                 {{"expert", "fumo-14.00.00"}, {"until", DaysAhead(45)}});
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "expert");
  EXPECT_REJECTED(world_.Act("proposals", id, "grant_extension", kIrpo,
                             {{"expert", "irpo"}, {"until", DaysAhead(45)}}),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "grant_extension", kUmc,
                             {{"expert", "irpo"}, {"until", DaysAhead(45)}}));
  const engine::Timestamp extended = world_.Get("proposals", id).timers.at("expertise");
  EXPECT_LT(norm, extended);
  EXPECT_EQ(extended, *engine::ParseDeadline(DaysAhead(45))) << "the end of that Moscow day";
  // A shorter grant does not pull the due time back.
  ASSERT_ACCEPTED(world_.Act("proposals", id, "grant_extension", kUmc,
                             {{"expert", "business-rspp"}, {"until", DaysAhead(35)}}));
  EXPECT_EQ(world_.Get("proposals", id).timers.at("expertise"), extended);
  EXPECT_REJECTED(world_.Act("proposals", id, "refuse_extension", kUmc, {{"expert", "irpo"}}),
                  kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "refuse_extension", kUmc,
                             {{"expert", "irpo"}, {"comment", "Срок не продлевается"}}));
  world_.Advance(days(31));
  EXPECT_NE(world_.EventTypes("proposals", id).back(), "ExpertiseOverdue")
      << "the norm's day passed within the extension";
  world_.Advance(days(15));
  EXPECT_EQ(world_.EventTypes("proposals", id).back(), "ExpertiseOverdue");
}

TEST_F(IndustryV2, ShouldArmAnOverdueNormAgainWhenAnExtensionIsGrantedLate) {
  std::string id = InExpertise();
  world_.Advance(days(31));
  EXPECT_FALSE(world_.Get("proposals", id).timers.contains("expertise"));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "grant_extension", kUmc,
                             {{"expert", "irpo"}, {"until", DaysAhead(10)}}));
  EXPECT_TRUE(world_.Get("proposals", id).timers.contains("expertise"));
  auto past = world_.Act("proposals", id, "grant_extension", kUmc,
                         {{"expert", "irpo"}, {"until", DaysAhead(0)}});
  EXPECT_REJECTED(past, kValidationFailed);  // an extension ends tomorrow at the earliest
}

TEST_F(IndustryV2, ShouldApprobateOnTheBaseOfTheUmcAndTheFtpo) {
  std::string id = InUmcDecision();
  EXPECT_REJECTED(world_.Act("proposals", id, "start_approbation", kUmc), kValidationFailed);
  EXPECT_REJECTED(world_.Act("proposals", id, "start_approbation", kFtpo, {{"plan", "p"}}),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "start_approbation", kUmc, {{"plan", "План"}}));
  EXPECT_EQ(Orgs(*world_.Get("proposals", id).round),
            (std::vector<std::string>{"umc-01", "ftpo-nnovgorod"}));
  EXPECT_REJECTED(world_.Act("proposals", id, "record_approbation", kWrongFtpo,
                             {{"outcome", "successful"}, {"report", "r"}}),
                  kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "record_approbation", kFtpo,
                             {{"outcome", "successful"}, {"report", "Часть ФТПО"}}));
  EXPECT_EQ(StateOf(id), "approbation") << "the UMC's part is still to come";
  ASSERT_ACCEPTED(world_.Act("proposals", id, "record_approbation", kUmc,
                             {{"outcome", "successful"}, {"report", "Часть УМЦ"}}));
  EXPECT_EQ(StateOf(id), "ministry_review") << "§6.2: successful approbation goes to the ministry";

  std::string failed = InApprobation();
  RecordApprobation(failed, "successful", "unsuccessful");
  EXPECT_EQ(StateOf(failed), "umc_review");
}

TEST_F(IndustryV2, ShouldBeDecidedByTheMinistry) {
  std::string id = InApprobation();
  RecordApprobation(id, "successful", "successful");
  EXPECT_REJECTED(world_.Act("proposals", id, "approve", kUmc), kForbidden);
  EXPECT_REJECTED(world_.Act("proposals", id, "reject", kMinistry), kValidationFailed);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "return_for_revision", kMinistry, {{"comment", "Доработать"}}));
  EXPECT_EQ(StateOf(id), "umc_review");
  std::string rejected = InApprobation();
  RecordApprobation(rejected, "successful", "successful");
  ASSERT_ACCEPTED(world_.Act("proposals", rejected, "reject", kMinistry, {{"comment", "Нет"}}));
  EXPECT_EQ(StateOf(rejected), "rejected");
}

TEST_F(IndustryV2, ShouldTrainTeachersInPlannedCoursesBeforeItIsScaled) {
  std::string id = InDissemination();
  EXPECT_REJECTED(world_.Act("proposals", id, "complete", kFtpo), kInvalidTransition);
  EXPECT_REJECTED(world_.Act("proposals", id, "plan_course", kUmc, Course("1")), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "plan_course", kFtpo, Course("1")));
  auto r = world_.Act("proposals", id, "plan_course", kFtpo, Course("1"));
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "number");
  json backwards = Course("2");
  backwards["ends_on"] = DaysAhead(5);
  r = world_.Act("proposals", id, "plan_course", kFtpo, backwards);
  EXPECT_REJECTED(r, kValidationFailed);
  EXPECT_EQ(FieldOf(r), "ends_on");
  ASSERT_ACCEPTED(world_.Act("proposals", id, "plan_course", kFtpo, Course("2")));
  r = world_.Act("proposals", id, "record_course_result", kFtpo,
                 {{"number", "3"}, {"teachers_trained", 20}});
  EXPECT_REJECTED(r, kValidationFailed);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "record_course_result", kFtpo,
                 {{"number", "1"}, {"teachers_trained", 24}, {"regions", {"74", "66"}}}));
  EXPECT_REJECTED(world_.Act("proposals", id, "record_course_result", kFtpo,
                             {{"number", "1"}, {"teachers_trained", 1}}),
                  kValidationFailed);
  // Course 2 has no result yet.
  EXPECT_REJECTED(world_.Act("proposals", id, "complete", kFtpo), kInvalidTransition);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "record_course_result", kFtpo,
                             {{"number", "2"}, {"teachers_trained", 25}}));
  ASSERT_ACCEPTED(world_.Act("proposals", id, "complete", kFtpo));
  EXPECT_EQ(StateOf(id), "scaled");
  EXPECT_EQ(world_.Get("proposals", id).fields["courses"], json({"1", "2"}));
}

// --- positions (§5.1) -------------------------------------------------------------------------

json Position() {
  return {{"title", "Позиция по инфраструктурным листам"},
          {"topic", "infrastructure"},
          {"summary", "Обобщение предложений участников кластеров"}};
}

class Positions : public IndustryV2 {
 protected:
  std::string Sent() {
    auto r = world_.Create("positions", "industry_position", kAssoc, Position());
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    if (!r) return "";
    EXPECT_TRUE(world_.Act("positions", r->instance.id, "send_to_umc", kAssoc));
    return r->instance.id;
  }
  // The group POST /api/v1/proposals makes of a proposal that names positions.
  Result<std::vector<CommandResult>> Consolidate(const std::vector<std::string>& positions,
                                                 const Principal& by) {
    std::vector<engine::Submission> group(1);
    group[0].command.kind = engine::Command::Kind::kCreate;
    group[0].command.collection = "proposals";
    group[0].command.workflow = "industry_proposal";
    group[0].command.instance_id = "prop-1";
    group[0].command.name = "create";
    group[0].command.actor = by;
    group[0].command.payload = Draft();
    group[0].command.payload["positions"] = positions;
    for (const auto& p : positions) {
      engine::Submission s;
      s.command.kind = engine::Command::Kind::kAct;
      s.command.collection = "positions";
      s.command.instance_id = p;
      s.command.name = "consolidate";
      s.command.actor = by;
      s.command.payload = {{"proposal", "prop-1"}};
      group.push_back(std::move(s));
    }
    std::promise<Result<std::vector<CommandResult>>> done;
    auto answer = done.get_future();
    world_.sequencer().SubmitGroup(
        group, [&done](Result<std::vector<CommandResult>> r) { done.set_value(std::move(r)); });
    return answer.get();
  }
};

TEST_F(Positions, ShouldBeTheAssociationsAndGoToItsUmc) {
  EXPECT_REJECTED(world_.Create("positions", "industry_position", kUmc, Position()), kForbidden);
  auto r = world_.Create("positions", "industry_position", kAssoc, Position());
  ASSERT_ACCEPTED(r);
  const std::string id = r->instance.id;
  EXPECT_EQ(r->instance.participants.at("umc"), "umc-01");
  EXPECT_REJECTED(world_.Act("positions", id, "update", kUmc, {{"title", "x"}}), kForbidden);
  ASSERT_ACCEPTED(world_.Act("positions", id, "update", kAssoc, {{"title", "Уточнено"}}));
  ASSERT_ACCEPTED(world_.Act("positions", id, "send_to_umc", kAssoc));
  EXPECT_REJECTED(
      world_.Act("positions", id, "return_to_association", kOtherUmc, {{"comment", "x"}}),
      kForbidden);
  ASSERT_ACCEPTED(world_.Act("positions", id, "return_to_association", kUmc,
                             {{"comment", "Дополнить обоснование"}}));
  ASSERT_ACCEPTED(world_.Act("positions", id, "send_to_umc", kAssoc));
  EXPECT_REJECTED(world_.Act("positions", id, "decline", kUmc), kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("positions", id, "decline", kUmc, {{"comment", "Вне компетенции"}}));
  EXPECT_EQ(world_.Get("positions", id).state, "declined");
  std::string withdrawn = Sent();
  ASSERT_ACCEPTED(world_.Act("positions", withdrawn, "withdraw", kAssoc));
  EXPECT_EQ(world_.Get("positions", withdrawn).state, "withdrawn");
}

TEST_F(Positions, ShouldGoIntoOneProposalTogetherWithItsCreation) {
  std::string a = Sent(), b = Sent();
  auto drafting = world_.Create("positions", "industry_position", kAssoc, Position());
  ASSERT_ACCEPTED(drafting);
  // A position not sent to the UMC refuses the whole group: nothing is written.
  auto refused = Consolidate({a, drafting->instance.id}, kUmc);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidTransition);
  EXPECT_FALSE(world_.sequencer().Find("proposals", "prop-1"));
  EXPECT_EQ(world_.Get("positions", a).state, "submitted");
  // Another industry's UMC may not consolidate them.
  EXPECT_FALSE(Consolidate({a, b}, kOtherUmc));
  auto r = Consolidate({a, b}, kUmc);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(world_.Get("proposals", "prop-1").fields["positions"], json({a, b}));
  EXPECT_EQ(world_.Get("positions", a).state, "consolidated");
  EXPECT_EQ(world_.Get("positions", b).fields["proposal"], "prop-1");
}

// --- the yearly plan of industry events at the FTPO (§6.4) ------------------------------------

json Plan() {
  return {{"year", 2027},
          {"events",
           {{{"title", "Отраслевой семинар"}, {"month", 3}, {"format", "seminar"}},
            {{"title", "Конференция УМЦ"}, {"month", 10}, {"format", "conference"}}}}};
}

TEST_F(IndustryV2, ShouldAgreeThePlanOfEventsAmongUmcAssociationAndFtpo) {
  EXPECT_REJECTED(world_.Create("event_plans", "industry_events_plan", kFtpo, Plan()), kForbidden);
  json empty = Plan();
  empty["events"] = json::array();
  EXPECT_REJECTED(world_.Create("event_plans", "industry_events_plan", kUmc, empty),
                  kValidationFailed);
  auto r = world_.Create("event_plans", "industry_events_plan", kUmc, Plan());
  ASSERT_ACCEPTED(r);
  const std::string id = r->instance.id;
  EXPECT_EQ(r->instance.participants.at("ftpo"), "ftpo-nnovgorod");
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "update", kAssoc, {{"year", 2027}}));
  EXPECT_REJECTED(world_.Act("event_plans", id, "submit_for_agreement", kAssoc), kForbidden);
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "submit_for_agreement", kUmc));
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "agree", kUmc, {{"verdict", "agree"}}));
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "agree", kAssoc, {{"verdict", "agree"}}));
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "agree", kFtpo,
                             {{"verdict", "revise"}, {"comment", "Март занят"}}));
  EXPECT_EQ(world_.Get("event_plans", id).state, "drafting") << "one party asks to revise";
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "submit_for_agreement", kUmc));
  for (const auto& p : {kUmc, kAssoc, kFtpo})
    ASSERT_ACCEPTED(world_.Act("event_plans", id, "agree", p, {{"verdict", "agree"}}));
  EXPECT_EQ(world_.Get("event_plans", id).state, "in_effect");
  EXPECT_REJECTED(world_.Act("event_plans", id, "record_event", kFtpo,
                             {{"title", "Семинар"}, {"held_on", DaysAhead(3)}}),
                  kValidationFailed);
  EXPECT_REJECTED(world_.Act("event_plans", id, "record_event", kOtherAssoc,
                             {{"title", "Семинар"}, {"held_on", DaysAhead(0)}}),
                  kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("event_plans", id, "record_event", kFtpo,
                 {{"title", "Семинар"}, {"held_on", DaysAhead(0)}, {"participants", 40}}));
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "amend", kUmc, {{"comment", "Добавить конкурс"}}));
  EXPECT_EQ(world_.Get("event_plans", id).state, "drafting");
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "submit_for_agreement", kUmc));
  for (const auto& p : {kUmc, kAssoc, kFtpo})
    ASSERT_ACCEPTED(world_.Act("event_plans", id, "agree", p, {{"verdict", "agree"}}));
  EXPECT_REJECTED(world_.Act("event_plans", id, "close", kUmc), kValidationFailed);
  ASSERT_ACCEPTED(world_.Act("event_plans", id, "close", kUmc, {{"summary", "План выполнен"}}));
  EXPECT_EQ(world_.Get("event_plans", id).state, "closed");
  auto other = world_.Create("event_plans", "industry_events_plan", kAssoc, Plan());
  ASSERT_ACCEPTED(other);
  EXPECT_REJECTED(
      world_.Act("event_plans", other->instance.id, "abandon", kAssoc, {{"comment", "x"}}),
      kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("event_plans", other->instance.id, "abandon", kUmc, {{"comment", "Дубликат"}}));
}

}  // namespace
}  // namespace expertflow::testing
