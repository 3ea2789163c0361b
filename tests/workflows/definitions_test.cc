#include "workflows/definitions.h"

#include <gtest/gtest.h>

#include <set>

namespace expertflow::workflows {
namespace {

TEST(BuiltinDefinitions, LoadsTheFourWorkflowsOfRecord) {
  auto set = BuiltinDefinitions();
  ASSERT_TRUE(set) << set.error().message;
  struct Expect {
    const char* id;
    const char* collection;
    const char* initial;
    std::uint32_t version;  // v2: protocols as written (issue 15), seeds 000 and 001 (issue 16)
  };
  for (const Expect& e : {Expect{"industry_proposal", "proposals", "drafting", 2},
                          Expect{"fgos_proposal", "proposals", "drafting", 2},
                          Expect{"protocol_assignment", "assignments", "assigned", 2},
                          Expect{"agreement", "agreements", "draft", 2}}) {
    const engine::Definition* def = set->Latest(e.id);
    ASSERT_NE(def, nullptr) << e.id;
    EXPECT_EQ(def->version, e.version);
    EXPECT_NE(set->Find(e.id, 1), nullptr) << "version 1 stays loaded for its instances";
    EXPECT_EQ(def->collection, e.collection);
    EXPECT_EQ(def->create.to, e.initial);
  }
  EXPECT_EQ(set->InCollection("proposals").size(), 2u);
}

TEST(BuiltinDefinitions, IndustryProposalHasTheStagesOfWorkflowsMd) {
  auto set = BuiltinDefinitions();
  ASSERT_TRUE(set);
  const engine::Definition* def = set->Find("industry_proposal", 1);
  std::vector<std::pair<std::string, std::string>> states;
  for (const auto& s : def->states) states.emplace_back(s.name, s.stage);
  EXPECT_EQ(states,
            (std::vector<std::pair<std::string, std::string>>{{"drafting", "association"},
                                                              {"umc_review", "umc"},
                                                              {"expertise", "expertise"},
                                                              {"approbation", "approbation"},
                                                              {"ministry_review", "ministry"},
                                                              {"dissemination", "dissemination"},
                                                              {"scaled", "scaled"},
                                                              {"rejected", "rejected"},
                                                              {"withdrawn", "withdrawn"}}));
  EXPECT_EQ(def->CommandsIn("umc_review"),
            (std::vector<std::string>{"update", "return_to_association", "send_to_expertise",
                                      "withdraw"}));
}

// Version 2 keeps version 1's stage names, so stage statistics count both versions alike; a
// state new in version 2 maps onto one of them (umc_decision is the UMC's stage).
TEST(BuiltinDefinitions, IndustryProposalV2MapsItsStatesOntoVersion1Stages) {
  auto set = BuiltinDefinitions();
  ASSERT_TRUE(set);
  std::set<std::string> v1;
  for (const auto& s : set->Find("industry_proposal", 1)->states) v1.insert(s.stage);
  for (const auto& s : set->Find("industry_proposal", 2)->states)
    EXPECT_TRUE(v1.contains(s.stage)) << s.name << " has stage " << s.stage;
  EXPECT_EQ(set->Find("industry_proposal", 2)->FindState("umc_decision")->stage, "umc");
}

}  // namespace
}  // namespace expertflow::workflows
