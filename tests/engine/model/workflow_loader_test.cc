#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model/workflow.h"

namespace expertflow::engine {
namespace {

using ::testing::HasSubstr;

// A small valid definition; each refusal test breaks one thing in it.
nlohmann::json Valid() {
  return nlohmann::json::parse(R"({
    "workflow": "memo", "version": 1, "collection": "memos", "routing": "memo",
    "participants": {"author": ["umc_lead"], "reviewers": ["fumo_expert"]},
    "create": {"roles": ["umc_lead"], "by": ["author"], "to": "draft", "event": "MemoDrafted",
               "payload": {"title": {"type": "string", "required": true}}},
    "states": {
      "draft": {"stage": "drafting"},
      "review": {"stage": "review", "round": {"command": "conclude", "event": "ReviewClosed",
                 "outcomes": [{"all_equal": "yes", "to": "done"}, {"to": "draft"}]}},
      "done": {"stage": "done", "terminal": true}
    },
    "commands": [
      {"name": "send", "from": ["draft"], "roles": ["umc_lead"], "by": ["author"], "to": "review",
       "event": "MemoSent",
       "payload": {"reviewers": {"type": "array", "items": {"type": "org", "org_kind": "fumo"}}},
       "opens_round": [{"payload": "/reviewers", "role": "fumo_expert"}]},
      {"name": "conclude", "from": ["review"], "roles": ["fumo_expert"], "by": ["round"],
       "event": "Concluded", "vote_field": "verdict",
       "payload": {"verdict": {"type": "string", "required": true, "enum": ["yes", "no"]}}}
    ],
    "deadlines": [{"name": "review", "while_in": ["review"], "after": "P30D", "event": "Late"}]
  })");
}

std::string Refusal(const nlohmann::json& doc) {
  auto r = LoadDefinition(doc.dump());
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
  return r.error().message;
}

TEST(LoadDefinition, AcceptsAValidDefinition) {
  auto r = LoadDefinition(Valid().dump());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, "memo");
  EXPECT_EQ(r->create.to, "draft");
  ASSERT_EQ(r->deadlines.size(), 1u);
  EXPECT_EQ(r->deadlines[0].after, std::chrono::days(30));
  EXPECT_EQ(r->FindState("review")->round->outcomes.size(), 2u);
}

TEST(LoadDefinition, RefusesTextThatIsNotAnObject) {
  EXPECT_THAT(Refusal(nlohmann::json::array()), HasSubstr("not a JSON object"));
  EXPECT_FALSE(LoadDefinition("{not json"));
}

TEST(LoadDefinition, RefusesATransitionToAnUnknownState) {
  auto d = Valid();
  d["commands"][0]["to"] = "limbo";
  EXPECT_THAT(Refusal(d), HasSubstr("unknown state \"limbo\""));
}

TEST(LoadDefinition, RefusesACommandFromAnUnknownState) {
  auto d = Valid();
  d["commands"][0]["from"] = {"nowhere"};
  EXPECT_THAT(Refusal(d), HasSubstr("unknown state \"nowhere\""));
}

TEST(LoadDefinition, RefusesAnUnreachableState) {
  auto d = Valid();
  d["states"]["orphan"] = {{"stage", "x"}, {"terminal", true}};
  EXPECT_THAT(Refusal(d), HasSubstr("state \"orphan\" is unreachable"));
}

TEST(LoadDefinition, RefusesACommandWithNoRoles) {
  auto d = Valid();
  d["commands"][0]["roles"] = nlohmann::json::array();
  EXPECT_THAT(Refusal(d), HasSubstr("command \"send\" has no roles"));
}

TEST(LoadDefinition, RefusesAnUnknownRole) {
  auto d = Valid();
  d["commands"][0]["roles"] = {"janitor"};
  EXPECT_THAT(Refusal(d), HasSubstr("unknown role \"janitor\""));
}

TEST(LoadDefinition, RefusesADeadlineWithNoTarget) {
  auto d = Valid();
  d["deadlines"][0].erase("after");
  EXPECT_THAT(Refusal(d), HasSubstr("needs exactly one target"));
}

TEST(LoadDefinition, RefusesADeadlineThatIsNotADuration) {
  auto d = Valid();
  d["deadlines"][0]["after"] = "P1M";
  EXPECT_THAT(Refusal(d), HasSubstr("not a duration"));
}

TEST(LoadDefinition, RefusesADeadlineInAnUnknownState) {
  auto d = Valid();
  d["deadlines"][0]["while_in"] = {"limbo"};
  EXPECT_THAT(Refusal(d), HasSubstr("unknown state \"limbo\""));
}

TEST(LoadDefinition, RefusesAnUnknownParticipantInBy) {
  auto d = Valid();
  d["commands"][0]["by"] = {"stranger"};
  EXPECT_THAT(Refusal(d), HasSubstr("unknown participant \"stranger\""));
}

TEST(LoadDefinition, RefusesEnteringARoundStateWithoutOpeningARound) {
  auto d = Valid();
  d["commands"][0].erase("opens_round");
  EXPECT_THAT(Refusal(d), HasSubstr("without opening one"));
}

TEST(LoadDefinition, RefusesARoundPointerOutsideThePayload) {
  auto d = Valid();
  d["commands"][0]["opens_round"][0]["payload"] = "/experts";
  EXPECT_THAT(Refusal(d), HasSubstr("is not in the payload"));
}

TEST(LoadDefinition, RefusesAVoteFieldOutsideThePayload) {
  auto d = Valid();
  d["commands"][1]["vote_field"] = "opinion";
  EXPECT_THAT(Refusal(d), HasSubstr("vote field \"opinion\""));
}

TEST(LoadDefinition, RefusesAnOutcomeListWithoutAFallback) {
  auto d = Valid();
  d["states"]["review"]["round"]["outcomes"] = {{{"all_equal", "yes"}, {"to", "done"}}};
  EXPECT_THAT(Refusal(d), HasSubstr("the last outcome must have no condition"));
}

TEST(LoadDefinition, RefusesACommandDefinedTwiceInOneState) {
  auto d = Valid();
  d["commands"].push_back(d["commands"][0]);
  EXPECT_THAT(Refusal(d), HasSubstr("defined twice in state \"draft\""));
}

TEST(LoadDefinition, RefusesACommandInATerminalState) {
  auto d = Valid();
  d["commands"][0]["from"] = {"draft", "done"};
  EXPECT_THAT(Refusal(d), HasSubstr("acts in terminal state \"done\""));
}

TEST(LoadDefinition, RefusesAnOpenStateWhereNothingCanHappen) {
  auto d = Valid();
  d["states"]["stuck"] = {{"stage", "x"}};
  d["commands"][0]["to_by"] = {{"field", "kind"}, {"cases", {{"a", "review"}, {"b", "stuck"}}}};
  d["commands"][0].erase("to");
  d["commands"][0]["payload"]["kind"] = {
      {"type", "string"}, {"required", true}, {"enum", {"a", "b"}}};
  EXPECT_THAT(Refusal(d), HasSubstr("state \"stuck\" is not terminal but no command acts in it"));
}

TEST(LoadDefinition, RefusesAnUnknownFieldType) {
  auto d = Valid();
  d["create"]["payload"]["title"]["type"] = "blob";
  EXPECT_THAT(Refusal(d), HasSubstr("unknown field type \"blob\""));
}

TEST(LoadDefinition, RefusesAToByWithoutACaseForEveryValue) {
  auto d = Valid();
  d["commands"][0].erase("to");
  d["commands"][0]["to_by"] = {{"field", "kind"}, {"cases", {{"a", "review"}}}};
  d["commands"][0]["payload"]["kind"] = {
      {"type", "string"}, {"required", true}, {"enum", {"a", "b"}}};
  EXPECT_THAT(Refusal(d), HasSubstr("no case for \"b\""));
}

TEST(LoadDefinition, RefusesAMissingVersionOrRouting) {
  auto d = Valid();
  d.erase("version");
  EXPECT_THAT(Refusal(d), HasSubstr("\"version\""));
  d = Valid();
  d.erase("routing");
  EXPECT_THAT(Refusal(d), HasSubstr("missing \"routing\""));
}

TEST(DefinitionSet, KeepsVersionsSideBySide) {
  DefinitionSet set;
  auto v1 = LoadDefinition(Valid().dump());
  auto doc = Valid();
  doc["version"] = 2;
  auto v2 = LoadDefinition(doc.dump());
  ASSERT_TRUE(v1 && v2);
  ASSERT_TRUE(set.Add(*v1));
  ASSERT_TRUE(set.Add(*v2));
  EXPECT_FALSE(set.Add(*v2)) << "the same version twice";
  EXPECT_EQ(set.Latest("memo")->version, 2u);
  EXPECT_EQ(set.Find("memo", 1)->version, 1u);
  EXPECT_EQ(set.InCollection("memos").size(), 1u);
  EXPECT_EQ(set.All().size(), 2u);
}

}  // namespace
}  // namespace expertflow::engine
