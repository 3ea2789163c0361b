// Decisions that guard the engine against what a store may hold and against abuse: a state the
// definition lacks is refused, not dereferenced; a state holds at most the definition's limit of
// events before only a command that moves on is taken.
#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

const Principal kAssoc = P("assoc-01", "association_member");
const Principal kUmc = P("umc-01", "umc_lead");
const Principal kFumo = P("fumo-14.00.00", "fumo_expert");

// Whatever state a store holds, a command on it is an answer, not a signal.
TEST(Decide, ShouldRefuseACommandOnAStateTheDefinitionLacks) {
  auto definitions = workflows::BuiltinDefinitions();
  ASSERT_TRUE(definitions);
  const engine::RoutingTable routing = workflows::BuiltinRouting();
  InstanceState s;
  s.id = "x";
  s.collection = "proposals";
  s.workflow = "industry_proposal";
  s.workflow_version = 1;
  s.version = 3;
  s.state = "limbo";
  s.participants = {{"association", "assoc-01"}, {"umc", "umc-01"}};
  s.round = engine::Round{1, {{"fumo-14.00.00", "fumo_expert", false, ""}}};
  engine::Command c;
  c.collection = "proposals";
  c.instance_id = "x";
  c.name = "submit_conclusion";
  c.actor = kFumo;
  c.payload = {{"verdict", "approve"}};
  engine::DecideContext ctx{*engine::ParseRfc3339("2026-01-12T09:00:00Z"), *definitions,
                            workflows::Builtin(), routing};
  auto r = engine::Decide(&s, c, ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  // A round in a state whose definition has none: the round step is not closed on it.
  s.state = "umc_review";
  c.name = "send_to_expertise";
  c.actor = kUmc;
  c.payload = {{"experts", {{"fumo", {"fumo-14.00.00"}}}}};
  EXPECT_TRUE(engine::Decide(&s, c, ctx));
}


TEST(Decide, ShouldTakeOnlyACommandThatMovesOnOnceAStateHoldsItsLimit) {
  auto definitions = workflows::BuiltinDefinitions();
  ASSERT_TRUE(definitions);
  const engine::RoutingTable routing = workflows::BuiltinRouting();
  const engine::Definition* def = definitions->Find("industry_proposal", 1);
  ASSERT_NE(def, nullptr);
  ASSERT_EQ(def->max_commands_per_state, 1000u);
  InstanceState s;
  s.id = "x";
  s.collection = "proposals";
  s.workflow = "industry_proposal";
  s.workflow_version = 1;
  s.state = "drafting";
  s.participants = {{"association", "assoc-01"}, {"umc", "umc-01"}, {"ftpo", "ftpo-nnovgorod"}};
  s.fields = engine::Fields::FromJson(
      {{"title", "t"}, {"topic", "standard_programme"}, {"summary", "s"}});
  s.state_entered_version = 1;
  s.version = 1000;  // 999 events in drafting
  engine::Command update;
  update.collection = "proposals";
  update.instance_id = "x";
  update.name = "update";
  update.actor = kAssoc;
  update.payload = {{"summary", "again"}};
  engine::DecideContext ctx{*engine::ParseRfc3339("2026-01-12T09:00:00Z"), *definitions,
                            workflows::Builtin(), routing};
  EXPECT_TRUE(engine::Decide(&s, update, ctx)) << "the 1000th is still taken";
  s.version = 1001;
  auto refused = engine::Decide(&s, update, ctx);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidTransition) << refused.error().message;
  engine::Command submit = update;
  submit.name = "submit_to_umc";
  submit.payload = json::object();
  EXPECT_TRUE(engine::Decide(&s, submit, ctx)) << "moving on is always taken";
}

}  // namespace
}  // namespace expertflow::testing
