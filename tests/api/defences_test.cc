// The router's defences (issue 21): retried registrations, out-of-range numbers, paged histories,
// a bounded pool for heavy reads, the last recordable second, tokens only for roles an
// organisation holds.
#include <gmock/gmock.h>

#include "tests/api/api_fixture.h"

namespace expertflow::testing {
namespace {

// A retried registration (a lost answer, a double click) registers nothing twice.
TEST_F(Api, ProtocolRegistrationHonoursItsIdempotencyKey) {
  json protocol = AllRegionsProtocol("Д05-2");
  auto first = w_.Post("/api/v1/protocols", ministry_, protocol, {{"idempotency-key", "reg-1"}});
  ASSERT_EQ(first.status, 201) << first.text;
  const auto head = w_.Head();
  auto again = w_.Post("/api/v1/protocols", ministry_, protocol, {{"idempotency-key", "reg-1"}});
  ASSERT_EQ(again.status, 201) << again.text;
  EXPECT_EQ(again.body, first.body) << "the first answer again";
  EXPECT_EQ(w_.Head(), head) << "not one more assignment";
  protocol["number"] = "Д05-3";
  ExpectProblem(w_.Post("/api/v1/protocols", ministry_, protocol, {{"idempotency-key", "reg-1"}}),
                422, "idempotency_key_reused");
  EXPECT_EQ(w_.Head(), head);
}

// Numbers past what a seq or a version can be are refused, never wrapped round to 1.
TEST_F(Api, RefusesOutOfRangeNumbers) {
  for (const char* target :
       {"/api/v1/events?after=18446744073709551615", "/api/v1/audit/export?after=18446744073709551615",
        "/api/v1/events?after=9007199254740992", "/api/v1/workflows/industry_proposal?version=4294967297",
        "/api/v1/proposals?limit=18446744073709551617"}) {
    ExpectProblem(w_.Get(target, auditor_), 400, "bad_request");
  }
  EXPECT_EQ(w_.Get("/api/v1/events?after=9007199254740991", auditor_).status, 200);
}

// A history is read a page at a time, however long it grew.
TEST_F(Api, PagesAnInstancesHistory) {
  const std::string id = Create(assoc_);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(w_.Post("/api/v1/proposals/" + id + "/commands", assoc_,
                      {{"command", "update"}, {"payload", {{"summary", "s" + std::to_string(i)}}}})
                  .status,
              200);
  }
  auto whole = w_.Get("/api/v1/proposals/" + id + "/events", umc_);
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body["events"].size(), 5u);
  EXPECT_TRUE(whole.body["next_after"].is_null());
  auto page = w_.Get("/api/v1/proposals/" + id + "/events?limit=2", umc_);
  EXPECT_EQ(page.body["events"].size(), 2u);
  EXPECT_EQ(page.body["next_after"], 2);
  auto rest = w_.Get("/api/v1/proposals/" + id + "/events?after=2&limit=2", umc_);
  EXPECT_EQ(rest.body["events"][0]["version"], 3);
  EXPECT_EQ(rest.body["next_after"], 4);
  auto last = w_.Get("/api/v1/proposals/" + id + "/events?after=4", umc_);
  EXPECT_EQ(last.body["events"].size(), 1u);
  EXPECT_TRUE(last.body["next_after"].is_null());
  EXPECT_EQ(w_.Get("/api/v1/proposals/" + id + "/events?after=9", umc_).body["events"].size(), 0u);
  ExpectProblem(w_.Get("/api/v1/proposals/" + id + "/events?limit=1001", umc_), 400,
                "bad_request");
}

// Verification, exports and statistics hold memory while they run: past the pool's bound the
// next one is told to come back, not given a thread of its own. (The export without a limit is
// streamed a piece at a time as the client reads: it holds one piece, and is not pooled.)
TEST_F(Api, AnswersBusyWhenTooMuchHeavyWorkIsUnderWay) {
  api::RouterOptions options;
  options.offload = [](std::function<void()>) { return false; };
  api::Router router(w_.sequencer(), w_.log(), w_.tokens(), w_.metrics(), options);
  const std::string id = Create(assoc_);
  for (const std::string& target : std::vector<std::string>{"/api/v1/audit/verify", "/api/v1/audit/export?limit=10",
                             "/api/v1/stats/stages", "/api/v1/proposals/" + id + "/verify"}) {
    api::HttpRequest req;
    req.method = "GET";
    req.target = target;
    req.headers["authorization"] = "Bearer " + auditor_;
    api::HttpResponse got;
    router.Handle(req, [&](api::HttpResponse r) { got = std::move(r); });
    EXPECT_EQ(got.status, 503) << target << ": " << got.body;
    EXPECT_NE(std::find(got.headers.begin(), got.headers.end(),
                        std::pair<std::string, std::string>{"Retry-After", "1"}),
              got.headers.end());
  }
}

// The test clock cannot carry time past what a record holds, nor take a duration whose parts
// repeat.
TEST_F(Api, TheTestClockStopsAtTheLastRecordableSecond) {
  const std::string clock = "/api/v1/admin/clock";
  ExpectProblem(w_.Post(clock, w_.admin(), {{"advance", "P100000D100000D"}}), 422,
                "validation_failed");
  ExpectProblem(w_.Post(clock, w_.admin(), {{"set", "10000-01-01T00:00:00Z"}}), 422,
                "validation_failed");
  ASSERT_EQ(w_.Post(clock, w_.admin(), {{"set", "9999-12-31T23:59:59Z"}}).status, 200);
  ExpectProblem(w_.Post(clock, w_.admin(), {{"advance", "PT1S"}}), 422, "validation_failed");
  auto created = w_.Post("/api/v1/proposals", assoc_, Draft());
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_EQ(created.body["created_at"], "9999-12-31T23:59:59Z");
  auto verified = w_.Get("/api/v1/audit/verify", auditor_);
  EXPECT_EQ(verified.body["ok"], true) << verified.text;
  EXPECT_EQ(w_.Get("/api/v1/proposals/" + created.body["id"].get<std::string>() + "?as_of=9999-12-31T23:59:59Z", umc_).status, 200);
}

// A role its organisation cannot hold would borrow another kind's rights: an IRPO principal in a
// region's role reads everything IRPO reads.
TEST(Tokens, AreIssuedOnlyForARoleTheOrganisationHolds) {
  ApiWorld w;
  for (auto [org, role] : {std::pair{"irpo", "region_official"}, std::pair{"umc-07", "irpo_staff"},
                           std::pair{"roiv-52", "ministry_official"}}) {
    auto r = w.Post("/api/v1/tokens", w.admin(), {{"org", org}, {"role", role}});
    EXPECT_EQ(r.status, 422) << org << " as " << role << ": " << r.text;
    EXPECT_EQ(r.body["errors"][0]["field"], "role");
  }
  EXPECT_EQ(w.Post("/api/v1/tokens", w.admin(), {{"org", "roiv-52"}, {"role", "region_official"}})
                .status,
            201);
  EXPECT_EQ(w.Post("/api/v1/tokens", w.admin(), {{"org", "chamber"}, {"role", "auditor"}}).status,
            201)
      << "auditors and admins may come from outside the registry";
}

}  // namespace
}  // namespace expertflow::testing
