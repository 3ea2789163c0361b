// Issue 20, for integrators: a wrong method is 405 with Allow, and a command the workflow does
// not have is 422 naming the field (not the 409 of a command not valid now); neither changes
// anything. Conditional GET (ETag, If-None-Match, 304); the inbox pages as the lists do, with a
// Link header beside next_cursor; the event feed and stream are for everyone, filtered to what
// each may see. The contract is served without a token and says what a machine needs of each
// operation (tests/contract/ checks it against a running server).
#include <gmock/gmock.h>

#include <regex>
#include <set>

#include "api/routes.h"
#include "tests/api/api_fixture.h"

namespace expertflow::testing {
namespace {

TEST_F(Api, AWrongMethodIs405WithTheMethodsThePathTakes) {
  const std::string id = Create(assoc_);
  const std::uint64_t head = w_.Head();
  auto put = w_.Call("PUT", "/api/v1/proposals", umc_, "{}");
  ExpectProblem(put, 405, "method_not_allowed");
  EXPECT_EQ(put.headers["Allow"], "GET, POST");
  auto del = w_.Call("DELETE", "/api/v1/proposals/" + id, w_.admin());
  ExpectProblem(del, 405, "method_not_allowed");
  EXPECT_EQ(del.headers["Allow"], "GET");
  auto get = w_.Get("/api/v1/log/cosignatures", auditor_);
  ExpectProblem(get, 405, "method_not_allowed");
  EXPECT_EQ(get.headers["Allow"], "POST");
  // A path no route serves is still 404.
  ExpectProblem(w_.Call("PUT", "/api/v1/nothing-here", umc_, "{}"), 404, "not_found");
  EXPECT_EQ(w_.Head(), head);
}

TEST_F(Api, AnUnknownCommandIs422NamingTheField) {
  const std::string id = Create(assoc_);
  const std::uint64_t head = w_.Head();
  auto r = w_.Post("/api/v1/proposals/" + id + "/commands", assoc_,
                   {{"command", "teleport"}, {"expected_version", 1}, {"payload", json::object()}});
  ExpectProblem(r, 422, "validation_failed");
  ASSERT_TRUE(r.body.contains("errors")) << r.text;
  EXPECT_EQ(r.body["errors"][0]["field"], "command");
  EXPECT_EQ(w_.Head(), head);
  // A command the workflow has but not in this state stays 409.
  ASSERT_EQ(
      w_.Post("/api/v1/proposals/" + id + "/commands", assoc_,
              {{"command", "submit_to_umc"}, {"expected_version", 1}, {"payload", json::object()}})
          .status,
      200);
  ExpectProblem(w_.Post("/api/v1/proposals/" + id + "/commands", assoc_,
                        {{"command", "submit_to_umc"}, {"expected_version", 2}}),
                409, "invalid_transition");
}

TEST_F(Api, AGetWithTheETagItHasIsNotModified) {
  const std::string id = Create(assoc_);
  const std::string path = "/api/v1/proposals/" + id;
  auto first = w_.Get(path, assoc_);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers["ETag"], "\"1\"");
  auto same = w_.Call("GET", path, assoc_, "", {{"if-none-match", "\"1\""}});
  EXPECT_EQ(same.status, 304) << same.text;
  EXPECT_TRUE(same.text.empty()) << same.text;
  EXPECT_EQ(same.headers["ETag"], "\"1\"");
  // A list of tags, and the weak form, match too; another tag does not.
  EXPECT_EQ(w_.Call("GET", path, assoc_, "", {{"if-none-match", "\"7\", W/\"1\""}}).status, 304);
  EXPECT_EQ(w_.Call("GET", path, assoc_, "", {{"if-none-match", "\"2\""}}).status, 200);
  // Changed: the old tag gets the new view.
  ASSERT_EQ(
      w_.Post(path + "/commands", assoc_,
              {{"command", "submit_to_umc"}, {"expected_version", 1}, {"payload", json::object()}})
          .status,
      200);
  auto changed = w_.Call("GET", path, assoc_, "", {{"if-none-match", "\"1\""}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.headers["ETag"], "\"2\"");
  // A list has a tag of its content: the same list is 304, a longer one is not.
  auto list = w_.Get("/api/v1/proposals", assoc_);
  ASSERT_EQ(list.status, 200);
  const std::string tag = list.headers["ETag"];
  ASSERT_FALSE(tag.empty());
  EXPECT_EQ(w_.Call("GET", "/api/v1/proposals", assoc_, "", {{"if-none-match", tag}}).status, 304);
  Create(assoc_);
  auto longer = w_.Call("GET", "/api/v1/proposals", assoc_, "", {{"if-none-match", tag}});
  EXPECT_EQ(longer.status, 200);
  EXPECT_NE(longer.headers["ETag"], tag);
  // A problem is never 304.
  EXPECT_EQ(w_.Call("GET", "/api/v1/proposals/nope", assoc_, "", {{"if-none-match", "*"}}).status,
            404);
}

TEST_F(Api, AProtocolIsAlwaysSentWhole) {
  // Its view shows its assignments' states, which change without its version.
  auto created = w_.Post("/api/v1/protocols", ministry_, AllRegionsProtocol("20-1"));
  ASSERT_EQ(created.status, 201) << created.text;
  const std::string path = "/api/v1/protocols/" + created.body.value("id", "");
  auto first = w_.Get(path, ministry_);
  ASSERT_EQ(first.status, 200) << first.text;
  EXPECT_EQ(w_.Call("GET", path, ministry_, "", {{"if-none-match", first.headers["ETag"]}}).status,
            200);
}

TEST_F(Api, TheInboxPagesWithACursorAndALinkHeader) {
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i) made.insert(Create(assoc_));
  auto whole = w_.Get("/api/v1/inbox", assoc_);
  ASSERT_EQ(whole.status, 200) << whole.text;
  ASSERT_EQ(whole.body["items"].size(), 5u);
  EXPECT_TRUE(whole.body["next_cursor"].is_null());
  EXPECT_EQ(whole.headers.count("Link"), 0u);
  std::vector<std::string> order, paged;
  for (const auto& item : whole.body["items"]) order.push_back(item["id"]);
  std::string target = "/api/v1/inbox?limit=2";
  for (int page = 0; page < 5; ++page) {
    auto r = w_.Get(target, assoc_);
    ASSERT_EQ(r.status, 200) << r.text;
    for (const auto& item : r.body["items"]) paged.push_back(item["id"]);
    if (r.body["next_cursor"].is_null()) {
      EXPECT_EQ(r.headers.count("Link"), 0u);
      break;
    }
    EXPECT_EQ(r.body["items"].size(), 2u);
    // The Link header names the same next page.
    const std::string link = r.headers["Link"];
    ASSERT_TRUE(link.starts_with("</api/v1/inbox?cursor=")) << link;
    ASSERT_TRUE(link.ends_with(">; rel=\"next\"")) << link;
    EXPECT_NE(link.find("&limit=2>"), std::string::npos) << link;
    target = link.substr(1, link.find('>') - 1);
  }
  EXPECT_EQ(paged, order);
  EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()), made);
  ExpectProblem(w_.Get("/api/v1/inbox?cursor=nonsense", assoc_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/inbox?page=2", assoc_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/inbox?limit=0", assoc_), 400, "bad_request");
}

TEST_F(Api, AListsNextPageIsInALinkHeader) {
  for (int i = 0; i < 3; ++i) Create(assoc_);
  auto r = w_.Get("/api/v1/proposals?limit=2&workflow=industry_proposal", assoc_);
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_TRUE(r.body["next_cursor"].is_string());
  const std::string cursor = r.body["next_cursor"];
  EXPECT_EQ(r.headers["Link"], "</api/v1/proposals?cursor=" + cursor +
                                   "&limit=2&workflow=industry_proposal>; rel=\"next\"");
}

TEST_F(Api, TheFeedIsForEveryoneAndShowsOnlyWhatTheyMaySee) {
  const std::string mine = Create(assoc_);
  const std::string other_assoc = w_.Token("assoc-12", "association_member");
  const std::string theirs = Create(other_assoc);
  const std::uint64_t head = w_.Head();
  // Whoever sees everything gets every event; `limit` bounds the events looked at.
  auto all = w_.Get("/api/v1/events?limit=500", auditor_);
  ASSERT_EQ(all.status, 200) << all.text;
  EXPECT_EQ(all.body["events"].size(), head);
  EXPECT_EQ(all.body["next_after"], head);
  // The association sees its draft's events and nothing else (no tokens, no other draft).
  auto feed = w_.Get("/api/v1/events?limit=500", assoc_);
  ASSERT_EQ(feed.status, 200) << feed.text;
  ASSERT_FALSE(feed.body["events"].empty());
  for (const auto& e : feed.body["events"]) EXPECT_EQ(e["stream"], "proposals/" + mine) << e;
  EXPECT_EQ(feed.body["next_after"], head);
  EXPECT_EQ(feed.body["head"], head);
  // Paged: a page that looked at events it may not see still moves on.
  std::uint64_t after = 0;
  std::size_t seen = 0;
  for (int i = 0; i < 100 && after < head; ++i) {
    auto page = w_.Get("/api/v1/events?limit=1&after=" + std::to_string(after), other_assoc);
    ASSERT_EQ(page.status, 200) << page.text;
    for (const auto& e : page.body["events"]) {
      EXPECT_EQ(e["stream"], "proposals/" + theirs) << e;
      ++seen;
    }
    const std::uint64_t next = page.body["next_after"];
    EXPECT_EQ(next, after + 1);
    if (next < head) {
      EXPECT_EQ(page.headers["Link"],
                "</api/v1/events?after=" + std::to_string(next) + "&limit=1>; rel=\"next\"");
    }
    after = next;
  }
  EXPECT_EQ(after, head);
  EXPECT_GT(seen, 0u);
  // The stream, asked through the router, is filtered the same way; without `after` it starts
  // at the head, so it holds nothing yet.
  auto stream = w_.Get("/api/v1/events/stream?after=0", assoc_);
  ASSERT_EQ(stream.status, 200) << stream.text;
  EXPECT_NE(stream.text.find("\"stream\":\"proposals/" + mine + "\""), std::string::npos);
  EXPECT_EQ(stream.text.find("proposals/" + theirs), std::string::npos) << stream.text;
  auto from_now = w_.Get("/api/v1/events/stream", auditor_);
  ASSERT_EQ(from_now.status, 200);
  EXPECT_TRUE(from_now.text.empty()) << from_now.text;
}

TEST_F(Api, TheContractIsServedWithoutAToken) {
  auto doc = w_.Get("/api/v1/openapi.json", "");
  ASSERT_EQ(doc.status, 200) << doc.text;
  EXPECT_EQ(doc.body["openapi"], "3.1.0");
  EXPECT_EQ(doc.body["paths"]["/api/v1/openapi.json"]["get"]["security"], json::array());
  // Only GET: the path of a service route is 405 with other methods, token or not.
  auto post = w_.Call("POST", "/api/v1/openapi.json", "", "{}");
  ExpectProblem(post, 405, "method_not_allowed");
  EXPECT_EQ(post.headers["Allow"], "GET");
  ExpectProblem(w_.Call("DELETE", "/healthz", w_.admin()), 405, "method_not_allowed");
  // The rest of /api/v1 still wants one.
  ExpectProblem(w_.Get("/api/v1/me", ""), 401, "unauthenticated");
}

// The other way round from EveryRouteOfTheOpenApiDocumentExists: every route the server has is
// an operation of the document (the webhooks were once served and not documented).
TEST_F(Api, EveryRouteIsAnOperationOfTheDocument) {
  const json doc = w_.Get("/api/v1/openapi.json", "").body;
  const auto shape = [](std::string path) {
    // {c}, {id}, {L}, ...: any name, one segment.
    return std::regex_replace(path, std::regex(R"(\{[^}]*\})"), "{}");
  };
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      documented.emplace(upper, shape(path));
    }
  }
  for (const auto routes : {api::ServiceRoutes(), api::ApiRoutes()}) {
    for (const api::Route& route : routes) {
      std::string path = shape(std::string(route.path));
      // A tile's {N} may hold a slash (a partial tile, 000.p/1): the table takes the rest of the
      // path; the document spells both forms.
      if (path == "/api/v1/log/tile/{}") path = "/api/v1/log/tile/{}/{}";
      EXPECT_TRUE(documented.contains({std::string(route.method), path}))
          << route.method << " " << route.path << " is served but not in the document";
    }
  }
}

// Issue 18: a list is searched by title, in any case, ё as е, and pages as before.
TEST_F(Api, AListIsSearchedByTitleInAnyCase) {
  const auto draft = [&](const std::string& title) {
    json d = Draft();
    d["payload"]["title"] = title;
    auto r = w_.Post("/api/v1/proposals", assoc_, d);
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body.value("id", "");
  };
  const std::string a = draft("Единый подход к практике");
  const std::string b = draft("Ёлочные игрушки: подход к производству");
  const std::string c = draft("Infrastructure of Colleges");
  const auto ids = [&](const std::string& target) {
    std::set<std::string> out;
    auto r = w_.Get(target, umc_);
    EXPECT_EQ(r.status, 200) << r.text;
    for (const auto& item : r.body["items"]) out.insert(item["id"]);
    return out;
  };
  EXPECT_EQ(ids("/api/v1/proposals?q=%D0%95%D0%94%D0%98%D0%9D%D0%AB%D0%99"),
            std::set<std::string>{a});  // ЕДИНЫЙ
  EXPECT_EQ(ids("/api/v1/proposals?q=%D0%B5%D0%BB%D0%BE%D1%87"), std::set<std::string>{b});  // елоч
  EXPECT_EQ(ids("/api/v1/proposals?q=%D0%BF%D0%BE%D0%B4%D1%85%D0%BE%D0%B4"),
            (std::set<std::string>{a, b}));  // подход
  EXPECT_EQ(ids("/api/v1/proposals?q=colleges"), std::set<std::string>{c});
  EXPECT_TRUE(ids("/api/v1/proposals?q=nothing-like-it").empty());
  // With paging: one a page, the same two.
  auto first = w_.Get("/api/v1/proposals?limit=1&q=%D0%BF%D0%BE%D0%B4%D1%85%D0%BE%D0%B4", umc_);
  ASSERT_EQ(first.body["items"].size(), 1u);
  auto second = w_.Get("/api/v1/proposals?limit=1&q=%D0%BF%D0%BE%D0%B4%D1%85%D0%BE%D0%B4&cursor=" +
                           first.body["next_cursor"].get<std::string>(),
                       umc_);
  ASSERT_EQ(second.body["items"].size(), 1u);
  EXPECT_NE(first.body["items"][0]["id"], second.body["items"][0]["id"]);
  // Another UMC finds nothing of this one's, and a search too long is refused.
  EXPECT_TRUE(ids("/api/v1/proposals?q=colleges").size() == 1);
  auto other = w_.Get("/api/v1/proposals?q=colleges", other_umc_);
  EXPECT_TRUE(other.body["items"].empty()) << other.text;
  ExpectProblem(w_.Get("/api/v1/proposals?q=" + std::string(201, 'x'), umc_), 400, "bad_request");
}

// The event feed is everyone's now, so a page cannot learn from it whether monitoring is the
// caller's: /me says so.
TEST_F(Api, MeSaysWhetherMonitoringIsTheCallers) {
  EXPECT_EQ(w_.Get("/api/v1/me", auditor_).body["monitoring"], true);
  EXPECT_EQ(w_.Get("/api/v1/me", w_.admin()).body["monitoring"], true);
  const auto umc = w_.Get("/api/v1/me", umc_);
  EXPECT_EQ(umc.body["monitoring"], false) << umc.text;
  ExpectProblem(w_.Get("/api/v1/stats/stages", umc_), 403, "forbidden");
  EXPECT_EQ(w_.Get("/api/v1/me", assoc_).body["monitoring"], false);
  // And the server's business time, by which a page counts the time left to a deadline.
  EXPECT_EQ(w_.Get("/api/v1/me", assoc_).body["now"], engine::FormatRfc3339(w_.clock().Now()));
}

// What a generated client needs: a unique operationId everywhere, a schema for every answer with
// a body, 401 wherever a token is asked for, 405 on every /api/v1 operation.
TEST_F(Api, EveryOperationOfTheContractIsNamedAndTyped) {
  auto doc = w_.Get("/api/v1/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  std::set<std::string> ids;
  int operations = 0;
  for (const auto& [path, methods] : doc.body["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      if (method == "parameters") continue;
      ++operations;
      const std::string where = method + " " + path;
      ASSERT_TRUE(op.contains("operationId")) << where;
      EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second) << where;
      const bool open = op.contains("security") && op["security"].empty();
      EXPECT_EQ(op["responses"].contains("401"), !open) << where;
      if (path.starts_with("/api/v1/")) {
        EXPECT_TRUE(op["responses"].contains("405")) << where;
      }
      for (const auto& [status, response] : op["responses"].items()) {
        if (status == "204" || status == "304" || response.contains("$ref")) continue;
        ASSERT_TRUE(response.contains("content")) << where << " " << status;
        for (const auto& [media, content] : response["content"].items())
          EXPECT_TRUE(content.contains("schema")) << where << " " << status << " " << media;
      }
    }
  }
  EXPECT_GE(operations, 40);
}

}  // namespace
}  // namespace expertflow::testing
