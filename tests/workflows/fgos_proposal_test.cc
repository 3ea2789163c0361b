// Given/when/then tests of the RUMO proposal on a draft FGOS (seed 000 §4.2a, WORKFLOWS.md),
// version 1: its instances run on it still (version 2 is fgos_proposal_v2_test.cc).
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

const Principal kRumo = P("rumo-52", "rumo_member");
const Principal kRumo2 = P("rumo-74", "rumo_member");
const Principal kRumo3 = P("rumo-66", "rumo_member");
const Principal kFumo = P("fumo-09.00.00", "fumo_expert");
const Principal kOtherFumo = P("fumo-15.00.00", "fumo_expert");
const Principal kMinistry = P("ministry", "ministry_official");

json Draft() {
  return {{"title", "Предложения к проекту ФГОС"},
          {"ugps", "09.00.00"},
          {"standard", "ФГОС СПО 09.02.07 Информационные системы и программирование"},
          {"summary", "Дополнить перечень профессиональных модулей"}};
}

class FgosProposal : public ::testing::Test {
 protected:
  std::string Created() {
    auto r = world_.Create("proposals", "fgos_proposal", kRumo, Draft(), 1);
    EXPECT_TRUE(r) << r.error().ToString();
    if (r) {
      EXPECT_EQ(r->instance.workflow_version, 1u);
    }
    return r ? r->instance.id : "";
  }
  std::string InFumoReview() {
    std::string id = Created();
    EXPECT_TRUE(world_.Act("proposals", id, "submit_to_fumo", kRumo));
    return id;
  }
  std::string InMinistryReview() {
    std::string id = InFumoReview();
    EXPECT_TRUE(world_.Act("proposals", id, "send_to_ministry", kFumo));
    return id;
  }
  std::string StateOf(const std::string& id) { return world_.Get("proposals", id).state; }
  World world_;
};

TEST_F(FgosProposal, ShouldRouteToTheFumoOfTheGroup) {
  auto r = world_.Create("proposals", "fgos_proposal", kRumo, Draft(), 1);
  ASSERT_ACCEPTED(r);
  EXPECT_EQ(r->instance.participants.at("rumo"), "rumo-52");
  EXPECT_EQ(r->instance.participants.at("fumo"), "fumo-09.00.00");
  EXPECT_EQ(r->instance.state, "drafting");
}

TEST_F(FgosProposal, ShouldRejectCreationByOthersOrWithABadGroup) {
  EXPECT_REJECTED(world_.Create("proposals", "fgos_proposal", kFumo, Draft(), 1), kForbidden);
  json bad = Draft();
  bad["ugps"] = "9.00";
  EXPECT_REJECTED(world_.Create("proposals", "fgos_proposal", kRumo, bad, 1), kValidationFailed);
}

TEST_F(FgosProposal, ShouldNeedTheWorkflowNamedInASharedCollection) {
  engine::Submission s;
  s.command.kind = engine::Command::Kind::kCreate;
  s.command.collection = "proposals";
  s.command.name = "create";
  s.command.actor = kRumo;
  s.command.payload = Draft();
  auto r = world_.sequencer().Submit(std::move(s)).get();
  EXPECT_REJECTED(r, kValidationFailed);
}

TEST_F(FgosProposal, ShouldUpdateAndWithdrawWhileDrafting) {
  std::string id = Created();
  ASSERT_ACCEPTED(world_.Act("proposals", id, "update", kRumo, {{"summary", "Новая редакция"}}));
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kRumo, {{"ugps", "15.00.00"}}),
                  kValidationFailed);
  EXPECT_REJECTED(world_.Act("proposals", id, "update", kRumo2, {{"summary", "x"}}), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", id, "withdraw", kRumo));
  EXPECT_EQ(StateOf(id), "withdrawn");
}

TEST_F(FgosProposal, ShouldSubmitToFumoAndBeReturned) {
  std::string id = InFumoReview();
  EXPECT_EQ(StateOf(id), "fumo_review");
  EXPECT_REJECTED(world_.Act("proposals", id, "return_to_rumo", kOtherFumo, {{"comment", "x"}}),
                  kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "return_to_rumo", kFumo, {{"comment", "Доработать"}}));
  EXPECT_EQ(StateOf(id), "drafting");
}

TEST_F(FgosProposal, ShouldRunExpertiseWithTheInvitedRumosAndReturnToFumo) {
  std::string id = InFumoReview();
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", {"rumo-74", "rumo-66"}}}));
  EXPECT_EQ(StateOf(id), "expertise");
  EXPECT_REJECTED(world_.Act("proposals", id, "submit_conclusion", kRumo, {{"verdict", "approve"}}),
                  kForbidden);
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo2, {{"verdict", "approve"}}));
  EXPECT_EQ(StateOf(id), "expertise");
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "submit_conclusion", kRumo3, {{"verdict", "revise"}}));
  EXPECT_EQ(StateOf(id), "fumo_review");
}

TEST_F(FgosProposal, ShouldRefuseExpertiseWithoutRumoExperts) {
  std::string id = InFumoReview();
  EXPECT_REJECTED(
      world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", json::array()}}),
      kValidationFailed);
  EXPECT_REJECTED(
      world_.Act("proposals", id, "open_expertise", kFumo, {{"experts", {"fumo-15.00.00"}}}),
      kValidationFailed);
}

TEST_F(FgosProposal, ShouldDeclineWithAComment) {
  std::string id = InFumoReview();
  ASSERT_ACCEPTED(
      world_.Act("proposals", id, "decline", kFumo, {{"comment", "Не относится к ФГОС"}}));
  EXPECT_EQ(StateOf(id), "declined");
}

TEST_F(FgosProposal, ShouldBeAcceptedReturnedOrRejectedByTheMinistry) {
  std::string a = InMinistryReview();
  EXPECT_REJECTED(world_.Act("proposals", a, "approve", kFumo), kForbidden);
  ASSERT_ACCEPTED(world_.Act("proposals", a, "approve", kMinistry));
  EXPECT_EQ(StateOf(a), "accepted");
  std::string b = InMinistryReview();
  ASSERT_ACCEPTED(
      world_.Act("proposals", b, "return_for_revision", kMinistry, {{"comment", "Уточнить"}}));
  EXPECT_EQ(StateOf(b), "fumo_review");
  std::string c = InMinistryReview();
  ASSERT_ACCEPTED(world_.Act("proposals", c, "reject", kMinistry, {{"comment", "Отклонено"}}));
  EXPECT_EQ(StateOf(c), "rejected");
  EXPECT_EQ(world_.Replay("proposals", c), world_.Get("proposals", c));
}

}  // namespace
}  // namespace expertflow::testing
