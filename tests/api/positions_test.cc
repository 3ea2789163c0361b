// Issue 16, seed 001 §5.1–§5.2 over the API: a proposal names the positions it consolidates and
// moves them on in the same write, or writes nothing; a position is never consolidated alone.
#include "tests/api/api_harness.h"

namespace expertflow::testing {
namespace {

json Position() {
  return {{"payload", {{"title", "Позиция"}, {"topic", "infrastructure"}, {"summary", "s"}}}};
}

json Proposal(const json& positions) {
  return {{"workflow", "industry_proposal"},
          {"payload",
           {{"title", "Проект предложений"},
            {"topic", "infrastructure"},
            {"summary", "s"},
            {"ugps", {"14.00.00"}},
            {"positions", positions}}}};
}

TEST(ApiPositions, AProposalConsolidatesItsPositionsOrWritesNothing) {
  ApiWorld w;
  const std::string assoc = w.Token("assoc-01", "association_member");
  const std::string umc = w.Token("umc-01", "umc_lead");
  const std::string other_umc = w.Token("umc-12", "umc_lead");
  auto make = [&](bool send) {
    auto r = w.Post("/api/v1/positions", assoc, Position());
    EXPECT_EQ(r.status, 201) << r.text;
    const std::string id = r.body["id"];
    if (send) {
      EXPECT_EQ(w.Post("/api/v1/positions/" + id + "/commands", assoc, {{"command", "send_to_umc"}})
                    .status,
                200);
    }
    return id;
  };
  const std::string sent = make(true), drafting = make(false);
  auto refused = [&](const Reply& r, const std::string& field) {
    EXPECT_EQ(r.status, 422) << r.text;
    EXPECT_EQ(r.body["errors"][0]["field"], field) << r.text;
  };
  const std::uint64_t head = w.Head();
  // A position still in the association's hands, one that does not exist, one named twice, and
  // one of another industry's UMC (which does not see it): each refuses the whole request.
  refused(w.Post("/api/v1/proposals", umc, Proposal({sent, drafting})), "positions[1]");
  refused(w.Post("/api/v1/proposals", umc, Proposal({"nothing-here"})), "positions[0]");
  refused(w.Post("/api/v1/proposals", umc, Proposal({sent, sent})), "positions[1]");
  refused(w.Post("/api/v1/proposals", other_umc, Proposal({sent})), "positions[0]");
  EXPECT_EQ(w.Head(), head) << "a refused consolidation writes nothing";
  EXPECT_EQ(w.Get("/api/v1/positions/" + sent, assoc).body["state"], "submitted");
  // Posted alone, consolidate is refused: it is the proposal's to record.
  EXPECT_EQ(w.Post("/api/v1/positions/" + sent + "/commands", umc,
                   {{"command", "consolidate"}, {"payload", {{"proposal", "x"}}}})
                .status,
            403);
  auto created = w.Post("/api/v1/proposals", umc, Proposal({sent}));
  ASSERT_EQ(created.status, 201) << created.text;
  const std::string id = created.body["id"];
  EXPECT_EQ(created.body["fields"]["positions"], json({sent}));
  EXPECT_EQ(created.body["participants"]["author"], "umc-01");
  auto position = w.Get("/api/v1/positions/" + sent, assoc);
  EXPECT_EQ(position.body["state"], "consolidated");
  EXPECT_EQ(position.body["fields"]["proposal"], id);
  // A position goes into one proposal only.
  refused(w.Post("/api/v1/proposals", umc, Proposal({sent})), "positions[0]");
}

TEST(ApiPositions, ARepeatWithTheSameKeyAnswersTheFirstConsolidation) {
  ApiWorld w;
  const std::string assoc = w.Token("assoc-01", "association_member");
  const std::string umc = w.Token("umc-01", "umc_lead");
  auto r = w.Post("/api/v1/positions", assoc, Position());
  ASSERT_EQ(r.status, 201) << r.text;
  const std::string pos = r.body["id"];
  ASSERT_EQ(
      w.Post("/api/v1/positions/" + pos + "/commands", assoc, {{"command", "send_to_umc"}}).status,
      200);
  const std::map<std::string, std::string> key = {{"idempotency-key", "consolidate-1"}};
  auto first = w.Post("/api/v1/proposals", umc, Proposal({pos}), key);
  ASSERT_EQ(first.status, 201) << first.text;
  const std::uint64_t head = w.Head();
  // The response was lost; the client sends it again. The position is consolidated by now.
  auto again = w.Post("/api/v1/proposals", umc, Proposal({pos}), key);
  EXPECT_EQ(again.status, 201) << again.text;
  EXPECT_EQ(again.body["id"], first.body["id"]);
  EXPECT_EQ(w.Head(), head) << "a repeat writes nothing";
}

}  // namespace
}  // namespace expertflow::testing
