// The REST contract of API.md, driven through the router without sockets.
#include <gmock/gmock.h>

#include "tests/api/api_fixture.h"

namespace expertflow::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(Api, HealthzNeedsNoToken) {
  auto r = w_.Get("/healthz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(w_.Get("/readyz", "").status, 200);
  auto m = w_.Get("/metrics", "");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.text, HasSubstr("expertflow_events_appended_total"));
}

// Reads are never behind (they come from the sequencer's states); the stored views are, until
// their next checkpoint, and an operator sees by how much (what a start after a crash replays).
TEST_F(Api, MetricsTellHowFarTheStoredViewsAreBehind) {
  ASSERT_EQ(w_.Post("/api/v1/proposals", assoc_, Draft()).status, 201);
  auto m = w_.Get("/metrics", "");
  EXPECT_THAT(m.text, HasSubstr("expertflow_log_head_seq 1\n"));
  EXPECT_THAT(m.text,
              HasSubstr("expertflow_projection_lag_events{projection=\"instance_views\"} 0\n"));
  EXPECT_THAT(
      m.text,
      HasSubstr("expertflow_projection_lag_events{projection=\"instance_views_stored\"} 1\n"));
}

// Every durable write is counted in the write-time histogram, so an operator sees the disk's
// share of a command's latency (issue 19): cumulative buckets whose +Inf is the count.
TEST_F(Api, MetricsCountEveryDurableWriteInTheWriteTimeHistogram) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(w_.Post("/api/v1/proposals", assoc_, Draft()).status, 201);
  const std::string text = w_.Get("/metrics", "").text;
  std::vector<std::uint64_t> cumulative;
  const std::string prefix = "expertflow_batch_write_seconds_bucket{le=\"";
  for (std::size_t at = text.find(prefix); at != std::string::npos;
       at = text.find(prefix, at + 1)) {
    const std::size_t value = text.find("} ", at) + 2;
    cumulative.push_back(std::stoull(text.substr(value, text.find('\n', value) - value)));
  }
  ASSERT_EQ(cumulative.size(), engine::kWriteBucketsMicros.size() + 1);
  EXPECT_TRUE(std::is_sorted(cumulative.begin(), cumulative.end()));
  EXPECT_EQ(cumulative.back(), 3u);
  EXPECT_THAT(text, HasSubstr("expertflow_batch_write_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("expertflow_batch_write_seconds_bucket{le=\"0.0005\"}"));
}

TEST_F(Api, ShouldCreateWithLocationETagAndView) {
  auto r = w_.Post("/api/v1/proposals", assoc_, Draft());
  ASSERT_EQ(r.status, 201) << r.text;
  const std::string id = r.body["id"];
  EXPECT_EQ(r.headers["Location"], "/api/v1/proposals/" + id);
  EXPECT_EQ(r.headers["ETag"], "\"1\"");
  for (const char* k : {"id", "collection", "workflow", "workflow_version", "state", "version",
                        "created_at", "updated_at", "stage_entered_at", "participants", "awaiting",
                        "deadline", "fields", "allowed_commands"}) {
    EXPECT_TRUE(r.body.contains(k)) << k;
  }
  EXPECT_EQ(r.body["participants"]["umc"], "umc-05");
  EXPECT_EQ(r.body["allowed_commands"], json({"update", "submit_to_umc", "withdraw"}));
  auto g = w_.Get("/api/v1/proposals/" + id, umc_);
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.headers["ETag"], "\"1\"");
  // Version 2 (seed 001 §5.2): before the association submits, its draft is its own.
  EXPECT_EQ(g.body["allowed_commands"], json::array());
}

TEST_F(Api, ShouldRunACommandAndAnswerItsEvents) {
  const std::string id = Create(assoc_);
  auto r = w_.Post("/api/v1/proposals/" + id + "/commands", assoc_,
                   {{"command", "submit_to_umc"}, {"expected_version", 1}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["state"], "umc_review");
  EXPECT_EQ(r.body["version"], 2);
  ASSERT_EQ(r.body["events"].size(), 1u);
  const auto& e = r.body["events"][0];
  EXPECT_EQ(e["type"], "ProposalSubmittedToUmc");
  EXPECT_EQ(e["seq"], 2);
  EXPECT_EQ(e["actor"]["org"], "assoc-05");
  EXPECT_EQ(e["command"], "submit_to_umc");
  EXPECT_EQ(e["hash"].get<std::string>().size(), 64u);
  auto history = w_.Get("/api/v1/proposals/" + id + "/events", irpo_);
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.body["events"].size(), 2u);
  EXPECT_EQ(history.body["events"][1]["prev_hash"], history.body["events"][0]["hash"]);
}

TEST_F(Api, MissingOrRevokedTokenIsUnauthenticated) {
  ExpectProblem(w_.Get("/api/v1/me", ""), 401, "unauthenticated");
  ExpectProblem(w_.Get("/api/v1/me", "0123456789ab." + std::string(64, 'a')), 401,
                "unauthenticated");
  ExpectProblem(w_.Get("/api/v1/me", "garbage"), 401, "unauthenticated");
  auto me = w_.Get("/api/v1/me", umc_);
  ASSERT_EQ(me.status, 200);
  const std::string token_id = me.body["token_id"];
  auto del = w_.Call("DELETE", "/api/v1/tokens/" + token_id, w_.admin());
  EXPECT_EQ(del.status, 204);
  ExpectProblem(w_.Get("/api/v1/me", umc_), 401, "unauthenticated");
  const auto head = w_.Head();
  ExpectProblem(w_.Post("/api/v1/proposals", umc_, Draft()), 401, "unauthenticated");
  EXPECT_EQ(w_.Head(), head);
}

TEST_F(Api, MalformedJsonWrongTypeAndUnsupportedMediaTypeAppendNothing) {
  const auto head = w_.Head();
  ExpectProblem(w_.Call("POST", "/api/v1/proposals", assoc_, "{not json"), 400, "malformed_json");
  ExpectProblem(w_.Call("POST", "/api/v1/proposals", assoc_, "[1,2]"), 400, "malformed_json");
  ExpectProblem(w_.Call("POST", "/api/v1/proposals", assoc_, R"({"a":1,"a":2})"), 400,
                "malformed_json");
  ExpectProblem(
      w_.Call("POST", "/api/v1/proposals", assoc_, std::string(40, '[') + std::string(40, ']')),
      400, "malformed_json");
  ExpectProblem(w_.Call("POST", "/api/v1/proposals", assoc_, "{\"workflow\":\"\xff\xfe\"}"), 400,
                "malformed_json");
  ExpectProblem(w_.Call("POST", "/api/v1/proposals", assoc_, Draft().dump(),
                        {{"content-type", "text/plain"}}),
                415, "unsupported_media_type");
  json wrong = Draft();
  wrong["payload"]["title"] = 7;
  auto r = w_.Post("/api/v1/proposals", assoc_, wrong);
  ExpectProblem(r, 422, "validation_failed");
  EXPECT_EQ(r.body["errors"][0]["field"], "title");
  // Found by payload_fuzz: a member with an empty name was reported with an empty field.
  json unnamed = Draft();
  unnamed["payload"][""] = "x";
  unnamed["payload"]["attachments"] = json::array({{{"", 1}}});
  r = w_.Post("/api/v1/proposals", assoc_, unnamed);
  ExpectProblem(r, 422, "validation_failed");
  ASSERT_GE(r.body["errors"].size(), 2u) << r.text;
  for (const auto& e : r.body["errors"])
    EXPECT_FALSE(e["field"].get<std::string>().empty()) << r.text;
  EXPECT_EQ(r.body["errors"][0]["field"], "\"\"");
  ExpectProblem(w_.Call("POST", "/api/v1/proposals", assoc_, std::string(2 << 20, ' ')), 413,
                "payload_too_large");
  EXPECT_EQ(w_.Head(), head);
}

TEST_F(Api, UnknownRouteCollectionAndCommand) {
  ExpectProblem(w_.Get("/api/v1/nothing", umc_), 404, "not_found");
  ExpectProblem(w_.Get("/nowhere", umc_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/proposals/..%2F..%2Fetc", umc_), 404, "not_found");
  const std::string id = Create(assoc_);
  const auto head = w_.Head();
  // A command the workflow does not have is a field in error (issue 20; integrators_test.cc).
  auto r = w_.Post("/api/v1/proposals/" + id + "/commands", assoc_, {{"command", "teleport"}});
  ExpectProblem(r, 422, "validation_failed");
  EXPECT_EQ(r.body["errors"][0]["field"], "command");
  EXPECT_EQ(w_.Head(), head);
}

TEST_F(Api, StaleVersionAndIfMatch) {
  const std::string id = Create(assoc_);
  const auto head = w_.Head();
  auto r = w_.Post("/api/v1/proposals/" + id + "/commands", assoc_,
                   {{"command", "submit_to_umc"}, {"expected_version", 7}});
  ExpectProblem(r, 409, "version_conflict");
  EXPECT_EQ(r.body["current_version"], 1);
  r = w_.Post("/api/v1/proposals/" + id + "/commands", assoc_, {{"command", "submit_to_umc"}},
              {{"if-match", "\"4\""}});
  ExpectProblem(r, 409, "version_conflict");
  EXPECT_EQ(w_.Head(), head);
  r = w_.Post("/api/v1/proposals/" + id + "/commands", assoc_, {{"command", "submit_to_umc"}},
              {{"if-match", "\"1\""}});
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.headers["ETag"], "\"2\"");
}

TEST_F(Api, IdempotencyKeyAnswersTheFirstResponseAgain) {
  auto first = w_.Post("/api/v1/proposals", assoc_, Draft(), {{"idempotency-key", "k-1"}});
  ASSERT_EQ(first.status, 201);
  const auto head = w_.Head();
  auto again = w_.Post("/api/v1/proposals", assoc_, Draft(), {{"idempotency-key", "k-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body["id"], first.body["id"]);
  EXPECT_EQ(w_.Head(), head);
  json other = Draft();
  other["payload"]["title"] = "Другое";
  ExpectProblem(w_.Post("/api/v1/proposals", assoc_, other, {{"idempotency-key", "k-1"}}), 422,
                "idempotency_key_reused");
  EXPECT_EQ(w_.Head(), head);
  // The same key from another principal is another request.
  auto umc = w_.Post("/api/v1/proposals", umc_, Draft(), {{"idempotency-key", "k-1"}});
  EXPECT_EQ(umc.status, 201);
  EXPECT_NE(umc.body["id"], first.body["id"]);
}

TEST_F(Api, ForbiddenCommandsAndInvisibleInstances) {
  const std::string id = Create(assoc_);
  const auto head = w_.Head();
  // umc-12 is no participant: the instance does not exist for it.
  ExpectProblem(w_.Get("/api/v1/proposals/" + id, other_umc_), 404, "not_found");
  ExpectProblem(w_.Post("/api/v1/proposals/" + id + "/commands", other_umc_,
                        {{"command", "update"}, {"payload", {{"title", "x"}}}}),
                404, "not_found");
  // The umc lead sees it but may not submit it.
  ExpectProblem(
      w_.Post("/api/v1/proposals/" + id + "/commands", umc_, {{"command", "submit_to_umc"}}), 403,
      "forbidden");
  // Auditors see everything and never write.
  EXPECT_EQ(w_.Get("/api/v1/proposals/" + id, auditor_).status, 200);
  ExpectProblem(w_.Post("/api/v1/proposals", auditor_, Draft()), 403, "forbidden");
  ExpectProblem(
      w_.Post("/api/v1/proposals/" + id + "/commands", auditor_, {{"command", "withdraw"}}), 403,
      "forbidden");
  EXPECT_EQ(w_.Head(), head);
  auto list = w_.Get("/api/v1/proposals", other_umc_);
  EXPECT_EQ(list.body["items"].size(), 0u);
}

TEST_F(Api, ListsAreNewestFirstWithCursorsAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Create(assoc_));
    w_.clock().Advance(std::chrono::hours(1));
  }
  w_.Post("/api/v1/proposals/" + ids[0] + "/commands", assoc_, {{"command", "submit_to_umc"}});
  auto page1 = w_.Get("/api/v1/proposals?limit=2", umc_);
  ASSERT_EQ(page1.status, 200);
  ASSERT_EQ(page1.body["items"].size(), 2u);
  EXPECT_EQ(page1.body["items"][0]["id"], ids[4]);
  EXPECT_EQ(page1.body["items"][1]["id"], ids[3]);
  ASSERT_TRUE(page1.body["next_cursor"].is_string());
  auto page2 = w_.Get(
      "/api/v1/proposals?limit=2&cursor=" + page1.body["next_cursor"].get<std::string>(), umc_);
  EXPECT_EQ(page2.body["items"][0]["id"], ids[2]);
  auto page3 = w_.Get(
      "/api/v1/proposals?limit=2&cursor=" + page2.body["next_cursor"].get<std::string>(), umc_);
  EXPECT_EQ(page3.body["items"].size(), 1u);
  EXPECT_TRUE(page3.body["next_cursor"].is_null());
  auto filtered = w_.Get("/api/v1/proposals?state=umc_review", umc_);
  ASSERT_EQ(filtered.body["items"].size(), 1u);
  EXPECT_EQ(filtered.body["items"][0]["id"], ids[0]);
  auto awaiting = w_.Get("/api/v1/proposals?awaiting=umc-05", irpo_);
  // The one the association submitted: its drafts await only the association (version 2).
  EXPECT_EQ(awaiting.body["items"].size(), 1u);
  ExpectProblem(w_.Get("/api/v1/proposals?limit=501", umc_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/proposals?limit=0", umc_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/proposals?colour=red", umc_), 400, "bad_request");
  auto inbox = w_.Get("/api/v1/inbox", assoc_);
  EXPECT_EQ(inbox.body["items"].size(), 4u)
      << "the one in umc_review awaits the UMC, not the association";
}

TEST_F(Api, AsOfAndAtVersionShowThePast) {
  const std::string id = Create(assoc_);
  const std::string t1 = engine::FormatRfc3339(w_.clock().Now());
  w_.clock().Advance(std::chrono::hours(2));
  w_.Post("/api/v1/proposals/" + id + "/commands", assoc_, {{"command", "submit_to_umc"}});
  auto v1 = w_.Get("/api/v1/proposals/" + id + "?at_version=1", auditor_);
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.body["state"], "drafting");
  EXPECT_EQ(v1.headers["ETag"], "\"1\"");
  auto then = w_.Get("/api/v1/proposals/" + id + "?as_of=" + t1, auditor_);
  EXPECT_EQ(then.body["state"], "drafting");
  auto now = w_.Get("/api/v1/proposals/" + id, auditor_);
  EXPECT_EQ(now.body["state"], "umc_review");
  ExpectProblem(w_.Get("/api/v1/proposals/" + id + "?at_version=9", auditor_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/proposals/" + id + "?as_of=yesterday", auditor_), 400,
                "bad_request");
  ExpectProblem(w_.Get("/api/v1/proposals/" + id + "?as_of=2020-01-01T00:00:00Z", auditor_), 404,
                "not_found");
}

TEST_F(Api, ProtocolsMakeOneAssignmentPerDecisionAndAssignee) {
  json protocol = {{"number", "Д05-98/05пр"},
                   {"date", "2024-10-23"},
                   {"title", "Совещание"},
                   {"chair", "А.А."},
                   {"items",
                    {{{"title", "Пункт 1"},
                      {"decisions",
                       {{{"text", "Представить отчёт"},
                         {"assignees", {"roiv-31", "roiv-69"}},
                         {"deadline", {{"due", "2026-02-28"}}}},
                        {{"text", "Еженедельно"},
                         {"assignees", {"roiv-52"}},
                         {"deadline",
                          {{"recurring",
                            {{"every", "week"},
                             {"weekday", "monday"},
                             {"time", "12:00"},
                             {"until", "2026-03-01"}}}}}}}}}}}};
  auto r = w_.Post("/api/v1/protocols", ministry_, protocol);
  ASSERT_EQ(r.status, 201) << r.text;
  ASSERT_EQ(r.body["assignments"].size(), 3u);
  auto p = w_.Get("/api/v1/protocols/" + r.body["id"].get<std::string>(), ministry_);
  ASSERT_EQ(p.status, 200) << p.text;
  EXPECT_EQ(p.body["assignment_states"].size(), 3u);
  const std::string assignment = r.body["assignments"][0];
  auto region = w_.Token("roiv-31", "region_official");
  EXPECT_EQ(w_.Get("/api/v1/assignments/" + assignment, region).status, 200);
  // A bad deadline in any decision refuses the whole protocol.
  const auto head = w_.Head();
  protocol["items"][0]["decisions"][1]["deadline"] = {{"recurring", {{"every", "fortnight"}}}};
  ExpectProblem(w_.Post("/api/v1/protocols", ministry_, protocol), 422, "validation_failed");
  protocol["items"][0]["decisions"][1]["assignees"] = {"roiv-00"};
  ExpectProblem(w_.Post("/api/v1/protocols", ministry_, protocol), 422, "validation_failed");
  ExpectProblem(w_.Post("/api/v1/protocols", umc_, protocol), 403, "forbidden");
  EXPECT_EQ(w_.Head(), head);
  // Assignments are not created one by one.
  ExpectProblem(w_.Post("/api/v1/assignments", ministry_, {{"payload", json::object()}}), 403,
                "forbidden");
}

TEST_F(Api, AllRegionsShorthandReachesEveryRegionalBody) {
  json protocol = AllRegionsProtocol("Д05-1");
  auto r = w_.Post("/api/v1/protocols", ministry_, protocol);
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(r.body["assignments"].size(), 89u);
}

TEST_F(Api, AdminIssuesTokensAndMovesTheManualClock) {
  auto issued = w_.Post("/api/v1/tokens", w_.admin(),
                        {{"org", "umc-07"}, {"role", "umc_lead"}, {"name", "lead"}});
  ASSERT_EQ(issued.status, 201) << issued.text;
  auto me = w_.Get("/api/v1/me", issued.body["token"]);
  EXPECT_EQ(me.body["org"], "umc-07");
  ExpectProblem(w_.Post("/api/v1/tokens", umc_, {{"org", "umc-07"}, {"role", "admin"}}), 403,
                "forbidden");
  ExpectProblem(w_.Post("/api/v1/tokens", w_.admin(), {{"org", "umc-07"}, {"role", "wizard"}}), 422,
                "validation_failed");
  auto clock = w_.Post("/api/v1/admin/clock", w_.admin(), {{"advance", "P31D"}});
  ASSERT_EQ(clock.status, 200) << clock.text;
  EXPECT_EQ(clock.body["now"], "2026-02-12T09:00:00Z");
  ExpectProblem(w_.Post("/api/v1/admin/clock", w_.admin(), {{"advance", "soon"}}), 422,
                "validation_failed");
  ExpectProblem(w_.Post("/api/v1/admin/clock", umc_, {{"advance", "P1D"}}), 403, "forbidden");
}

TEST(ApiWithoutManualClock, ClockRouteDoesNotExist) {
  ApiWorld w(/*manual_clock_route=*/false);
  auto r = w.Post("/api/v1/admin/clock", w.admin(), {{"advance", "P1D"}});
  EXPECT_EQ(r.status, 404);
}

TEST_F(Api, AuditVerifyExportAndGlobalEvents) {
  Create(assoc_);
  Create(assoc_);
  auto v = w_.Get("/api/v1/audit/verify", auditor_);
  ASSERT_EQ(v.status, 200);
  EXPECT_EQ(v.body["ok"], true);
  EXPECT_EQ(v.body["checked"], 2);
  auto e = w_.Get("/api/v1/audit/export", auditor_);
  ASSERT_EQ(e.status, 200);
  EXPECT_EQ(e.content_type, "application/x-ndjson");
  auto first_line = json::parse(e.text.substr(0, e.text.find('\n')));
  EXPECT_EQ(first_line["seq"], 1);
  EXPECT_EQ(
      engine::ToHex(engine::ChainHash(engine::kZeroHash, first_line["record"].get<std::string>())),
      first_line["hash"]);
  auto events = w_.Get("/api/v1/events?after=1&limit=10", irpo_);
  EXPECT_EQ(events.body["events"].size(), 1u);
  EXPECT_EQ(events.body["head"], 2);
  // The feed is for everyone, filtered (issue 20): another area's UMC sees none of these drafts.
  auto elsewhere = w_.Get("/api/v1/events", other_umc_);
  ASSERT_EQ(elsewhere.status, 200) << elsewhere.text;
  EXPECT_TRUE(elsewhere.body["events"].empty()) << elsewhere.text;
  w_.log().TamperRecord(1, R"({"seq":1,"tampered":true})");
  auto broken = w_.Get("/api/v1/audit/verify", auditor_);
  EXPECT_EQ(broken.body["ok"], false);
  EXPECT_EQ(broken.body["first_bad_seq"], 1);
}

// Without a limit the export is the whole log up to the head the request found, made a piece at
// a time as the client takes them; with one it is the page it always was.
TEST_F(Api, ExportsTheWholeLogInPiecesWithoutALimitAndOnePageWithOne) {
  for (int i = 0; i < 1100; ++i) Create(assoc_);
  const std::uint64_t head = w_.Head();
  ASSERT_EQ(head, 1100u);
  api::HttpResponse got = w_.Answer("GET", "/api/v1/audit/export?after=7", auditor_);
  ASSERT_EQ(got.status, 200) << got.body;
  ASSERT_TRUE(got.pieces) << "streamed, not held whole";
  // events appended after the request are not in it: it is the log as of X-Head-Seq
  Create(assoc_);
  std::string text;
  std::size_t pieces = 0;
  while (true) {
    auto piece = got.pieces();
    ASSERT_TRUE(piece) << piece.error().ToString();
    if (piece->empty()) break;
    EXPECT_LE(std::count(piece->begin(), piece->end(), '\n'), 512) << "a piece holds 512 events";
    text += *piece;
    ++pieces;
  }
  EXPECT_EQ(pieces, 3u);  // 1093 events: 512 + 512 + 69
  std::uint64_t expect = 8;
  engine::Hash prev{};
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    auto line = json::parse(text.substr(at, nl - at));
    ASSERT_EQ(line["seq"], expect) << "every seq once, in order";
    auto record = line["record"].get<std::string>();
    if (expect > 8) {
      EXPECT_EQ(engine::ToHex(engine::ChainHash(prev, record)), line["hash"]);
    }
    prev = *engine::HashFromHex(line["hash"].get<std::string>());
    ++expect;
  }
  EXPECT_EQ(expect, head + 1);
  EXPECT_NE(std::find(got.headers.begin(), got.headers.end(),
                      std::pair<std::string, std::string>{"X-Head-Seq", "1100"}),
            got.headers.end());
  // with a limit: one page, whole
  auto page = w_.Get("/api/v1/audit/export?after=7&limit=10", auditor_);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.pieces, 0u);
  EXPECT_EQ(std::count(page.text.begin(), page.text.end(), '\n'), 10);
  EXPECT_EQ(page.headers["X-Head-Seq"], "1101");
  // the same rules for what the query may hold
  ExpectProblem(w_.Get("/api/v1/audit/export?limit=0", auditor_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/audit/export?after=x", auditor_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/audit/export", umc_), 403, "forbidden");
}

// A token revoked while its export streams ends the export at the next piece, as it ends the
// event stream: what it held is not read on by a principal who lost it.
TEST_F(Api, CutsAStreamedExportShortWhenItsTokenIsRevoked) {
  for (int i = 0; i < 600; ++i) Create(assoc_);
  auto me = w_.Get("/api/v1/me", auditor_);
  api::HttpResponse got = w_.Answer("GET", "/api/v1/audit/export", auditor_);
  ASSERT_TRUE(got.pieces);
  auto first = got.pieces();
  ASSERT_TRUE(first && !first->empty());
  ASSERT_EQ(
      w_.Call("DELETE", "/api/v1/tokens/" + me.body["token_id"].get<std::string>(), w_.admin())
          .status,
      204);
  auto second = got.pieces();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, engine::ErrorCode::kUnauthenticated);
}

TEST_F(Api, ReferenceDataAndWorkflows) {
  auto orgs = w_.Get("/api/v1/organizations?type=umc", umc_);
  ASSERT_EQ(orgs.status, 200);
  EXPECT_EQ(orgs.body["items"].size(), 22u);
  EXPECT_EQ(w_.Get("/api/v1/organizations/umc-01", umc_).body["kind"], "umc");
  EXPECT_EQ(w_.Get("/api/v1/regions", umc_).body["items"].size(), 89u);
  auto wf = w_.Get("/api/v1/workflows/industry_proposal", umc_);
  EXPECT_EQ(wf.body["collection"], "proposals");
  EXPECT_EQ(w_.Get("/api/v1/workflows", umc_).status, 200);
  ExpectProblem(w_.Get("/api/v1/workflows/nothing", umc_), 404, "not_found");
}

TEST_F(Api, StorageFailureIsUnavailableAndAcknowledgesNothing) {
  const std::string id = Create(assoc_);
  const auto head = w_.Head();
  w_.log().FailNextAppends(1);
  ExpectProblem(
      w_.Post("/api/v1/proposals/" + id + "/commands", assoc_, {{"command", "submit_to_umc"}}), 503,
      "unavailable");
  EXPECT_EQ(w_.Head(), head);
  EXPECT_EQ(w_.Get("/api/v1/proposals/" + id, assoc_).body["state"], "drafting");
  EXPECT_EQ(w_.Post("/api/v1/proposals/" + id + "/commands", assoc_, {{"command", "submit_to_umc"}})
                .status,
            200);
}

TEST_F(Api, ShouldServeTheDashboardAtTheRootWithoutAToken) {
  auto r = w_.Get("/", "");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.text, "<!doctype html><title>dashboard</title>");
  EXPECT_EQ(r.headers["Cache-Control"], "no-cache");
  EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_THAT(r.headers["Content-Security-Policy"], HasSubstr("script-src 'self'"));
  EXPECT_EQ(r.headers["ETag"].size(), 66u);  // a quoted SHA-256
  EXPECT_EQ(w_.Get("/index.html", "").text, r.text);
  auto js = w_.Get("/vendor/lib.js", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.text, "var lib = 1;");
}

TEST_F(Api, ShouldRevalidateAStaticFileByItsETag) {
  const std::string etag = w_.Get("/vendor/lib.js", "").headers["ETag"];
  auto r = w_.Call("GET", "/vendor/lib.js", "", "", {{"if-none-match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.text.empty());
  EXPECT_EQ(w_.Call("GET", "/vendor/lib.js", "", "", {{"if-none-match", "\"other\""}}).status, 200);
}

TEST_F(Api, ShouldAnswerNotFoundForUnknownFilesAndTraversal) {
  for (const char* target : {"/nope.js", "/../index.html", "/%2e%2e/index.html", "/vendor/",
                             "/vendor", "//index.html", "/index.html/", "/vendor/../index.html",
                             "/vendor%2flib.js/..", "/etc/passwd", "/%00index.html"}) {
    ExpectProblem(w_.Get(target, ""), 404, "not_found");
  }
  ExpectProblem(w_.Call("POST", "/", "", "{}"), 404, "not_found");
  // The API keeps its own answers: an unknown API route is not looked up among the files.
  auto api = w_.Get("/api/index.html", "");
  ExpectProblem(api, 404, "not_found");
  EXPECT_EQ(api.body["detail"], "no such route");
}

TEST_F(Api, ShouldVerifyTheChainOfOneInstance) {
  const std::string a = Create(assoc_);
  ASSERT_EQ(w_.Post("/api/v1/proposals/" + a + "/commands", assoc_, {{"command", "submit_to_umc"}})
                .status,
            200);
  const std::string b = Create(assoc_);
  auto ok = w_.Get("/api/v1/proposals/" + a + "/verify", umc_);
  ASSERT_EQ(ok.status, 200) << ok.text;
  EXPECT_EQ(ok.body["ok"], true);
  EXPECT_EQ(ok.body["checked"], 2);
  EXPECT_EQ(ok.body["last_seq"], 2);
  ExpectProblem(w_.Get("/api/v1/proposals/" + a + "/verify", other_umc_), 404, "not_found");

  // when the record of a's first event is altered, a's chain is broken there and b's is not
  w_.log().TamperRecord(1, R"({"seq":1,"tampered":true})");
  auto broken = w_.Get("/api/v1/proposals/" + a + "/verify", auditor_);
  ASSERT_EQ(broken.status, 200);
  EXPECT_EQ(broken.body["ok"], false);
  EXPECT_EQ(broken.body["first_bad_seq"], 1);
  EXPECT_FALSE(broken.body.value("reason", "").empty());
  EXPECT_EQ(w_.Get("/api/v1/proposals/" + b + "/verify", auditor_).body["ok"], true);
}

// Walks the OpenAPI document: every path and method it lists is a route the server has.
TEST_F(Api, EveryRouteOfTheOpenApiDocumentExists) {
  auto doc = w_.Get("/api/v1/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  ASSERT_EQ(doc.body["openapi"], "3.1.0");
  const std::string id = Create(assoc_);
  int walked = 0;
  for (const auto& [path, methods] : doc.body["paths"].items()) {
    for (const auto& [method, spec] : methods.items()) {
      if (method == "parameters") continue;
      std::string target = path;
      auto replace = [&](const std::string& from, const std::string& to) {
        if (auto at = target.find(from); at != std::string::npos)
          target.replace(at, from.size(), to);
      };
      replace("{c}", "proposals");
      replace("{L}", "0");  // a tlog-tiles tile: level and index
      replace("{N}", "000.p/1");
      replace("{id}", path.starts_with("/api/v1/workflows")       ? "industry_proposal"
                      : path.starts_with("/api/v1/organizations") ? "umc-01"
                      : path.starts_with("/api/v1/tokens")        ? "000000000000"
                      : path.starts_with("/api/v1/protocols")     ? "nonexistent"
                                                                  : id);
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      auto r = w_.Call(upper, target, w_.admin(), upper == "POST" ? "{}" : "");
      const bool route_missing = r.status == 404 && r.body.value("detail", "") == "no such route";
      EXPECT_FALSE(route_missing) << upper << " " << target;
      EXPECT_TRUE(spec["responses"].contains(std::to_string(r.status)) || r.status == 404)
          << upper << " " << target << " answered " << r.status
          << " which the document does not list";
      ++walked;
    }
  }
  EXPECT_GE(walked, 24);
}

}  // namespace
}  // namespace expertflow::testing
