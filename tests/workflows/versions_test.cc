// Two versions of one workflow side by side: instances keep the version they were created with.
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

const Principal kAssoc = P("assoc-05", "association_member");
const Principal kUmc = P("umc-05", "umc_lead");

// A version 3 fixture (the real version 2 of seed 001 is loaded too): v1 plus a
// `request_clarification` command in umc_review that sends the proposal back with a question, and a
// shorter expertise of 20 days.
void AddV2(engine::DefinitionSet& set) {
  json doc = set.Find("industry_proposal", 1)->document;
  doc["version"] = 3;
  doc["states"]["clarification"] = {{"stage", "association"}};
  doc["commands"].push_back({{"name", "request_clarification"},
                             {"from", {"umc_review"}},
                             {"roles", {"umc_lead"}},
                             {"by", {"umc"}},
                             {"to", "clarification"},
                             {"event", "ClarificationRequested"},
                             {"payload", {{"question", {{"type", "text"}, {"required", true}}}}}});
  doc["commands"].push_back({{"name", "answer"},
                             {"from", {"clarification"}},
                             {"roles", {"association_member"}},
                             {"by", {"association"}},
                             {"to", "umc_review"},
                             {"event", "ClarificationAnswered"},
                             {"payload", {{"answer", {{"type", "text"}, {"required", true}}}}}});
  doc["deadlines"][0]["after"] = "P20D";
  auto def = engine::LoadDefinition(doc.dump());
  ASSERT_TRUE(def) << def.error().message;
  ASSERT_TRUE(set.Add(std::move(*def)));
}

json Draft() { return {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}}; }

TEST(WorkflowVersions, ShouldRunInstancesOfTwoVersionsSideBySide) {
  // given an instance created under v1, before v2 was loaded
  engine::MemoryEventLog log;
  std::string old_id;
  {
    World v1_only(&log);
    auto r = v1_only.Create("proposals", "industry_proposal", kAssoc, Draft(), 1);
    ASSERT_ACCEPTED(r);
    old_id = r->instance.id;
    ASSERT_ACCEPTED(v1_only.Act("proposals", old_id, "submit_to_umc", kAssoc));
  }
  // when the service restarts with v2 loaded as well
  World world(&log, AddV2);
  auto fresh = world.Create("proposals", "industry_proposal", kAssoc, Draft());
  ASSERT_ACCEPTED(fresh);
  ASSERT_ACCEPTED(world.Act("proposals", fresh->instance.id, "submit_to_umc", kAssoc));

  // then new instances follow v2 and the old one keeps v1
  EXPECT_EQ(fresh->instance.workflow_version, 3u);
  EXPECT_EQ(world.Get("proposals", old_id).workflow_version, 1u);
  ASSERT_ACCEPTED(world.Act("proposals", fresh->instance.id, "request_clarification", kUmc,
                            {{"question", "Уточните сроки"}}));
  EXPECT_EQ(world.Get("proposals", fresh->instance.id).state, "clarification");
  EXPECT_REJECTED(world.Act("proposals", old_id, "request_clarification", kUmc,
                            {{"question", "Уточните сроки"}}),
                  kValidationFailed);
  // The old instance's expertise keeps v1's 30 days.
  ASSERT_ACCEPTED(world.Act("proposals", old_id, "send_to_expertise", kUmc,
                            {{"experts", {{"fumo", {"fumo-09.00.00"}}}}}));
  EXPECT_EQ(world.Get("proposals", old_id).timers.at("expertise"),
            world.clock().Now() + std::chrono::days(30));
}

}  // namespace
}  // namespace expertflow::testing
