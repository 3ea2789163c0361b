// Reference data is history (issue 15): organisations and groups are registered, renamed,
// updated and retired over the API by administrators, as events of the one log; the compiled-in
// registry is their first version; routing reads the registry as it stood when it decided.
#include <gmock/gmock.h>

#include <future>

#include "tests/api/api_harness.h"

namespace expertflow::testing {
namespace {

json College(const std::string& id, const std::string& region = "77") {
  return {{"payload",
           {{"id", id}, {"kind", "college"}, {"name", "Колледж " + id}, {"region_code", region}}}};
}

json Act(const std::string& command, json payload = json::object()) {
  return {{"command", command}, {"payload", std::move(payload)}};
}

// A protocol of one decision for `assignees`, due ten days on.
json Protocol(const std::string& number, json assignees) {
  return {{"number", number},
          {"date", "2026-01-12"},
          {"title", "Совещание"},
          {"items",
           {{{"title", "Пункт"},
             {"decisions",
              {{{"text", "Представить отчёт"},
                {"assignees", std::move(assignees)},
                {"deadline", {{"due", "2026-01-22"}}}}}}}}}};
}

// The field a 422 names first.
std::string FieldOf(const Reply& r) {
  if (!r.body.is_object() || !r.body.contains("errors") || r.body["errors"].empty()) return "";
  return r.body["errors"][0].value("field", "");
}

TEST(ApiRegistry, AnOrganisationIsRegisteredRenamedAndRetiredAsEvents) {
  ApiWorld w;
  auto created = w.Post("/api/v1/organizations", w.admin(), College("college-77-1"));
  ASSERT_EQ(created.status, 201) << created.text;
  auto got = w.Get("/api/v1/organizations/college-77-1", w.admin());
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["kind"], "college");
  EXPECT_EQ(got.body["federal_district"], "central") << "derived from the region, as embedded";
  EXPECT_EQ(got.body["source"], "log");
  EXPECT_EQ(got.body["version"], 1);
  auto colleges = w.Get("/api/v1/organizations?type=college", w.admin());
  ASSERT_EQ(colleges.status, 200);
  auto has = [](const Reply& list, const std::string& id) {
    for (const auto& o : list.body["items"])
      if (o["id"] == id) return true;
    return false;
  };
  EXPECT_TRUE(has(colleges, "college-77-1"));

  // Its people get tokens in the role of its kind, over the API.
  auto issued = w.Post("/api/v1/tokens", w.admin(),
                       {{"org", "college-77-1"}, {"role", "college_staff"}, {"name", "staff"}});
  ASSERT_EQ(issued.status, 201) << issued.text;
  const std::string staff = issued.body["token"];
  EXPECT_EQ(w.Get("/api/v1/me", staff).status, 200);

  ASSERT_EQ(w.Post("/api/v1/organizations/college-77-1/commands", w.admin(),
                   Act("rename", {{"name", "Колледж имени Н."}, {"basis", "приказ № 1"}}))
                .status,
            200);
  EXPECT_EQ(w.Get("/api/v1/organizations/college-77-1", w.admin()).body["name"],
            "Колледж имени Н.");
  auto retired = w.Post("/api/v1/organizations/college-77-1/commands", w.admin(),
                        Act("retire", {{"basis", "реорганизация"}}));
  ASSERT_EQ(retired.status, 200) << retired.text;
  EXPECT_EQ(retired.body["state"], "retired");

  // The history shows every change, who made it and why.
  auto events = w.Get("/api/v1/organizations/college-77-1/events", w.admin());
  ASSERT_EQ(events.status, 200) << events.text;
  std::vector<std::string> types;
  for (const auto& e : events.body["events"]) types.push_back(e["type"]);
  EXPECT_THAT(types, ::testing::ElementsAre("OrganizationRegistered", "OrganizationRenamed",
                                            "OrganizationRetired"));
  EXPECT_EQ(events.body["events"][2]["actor"]["role"], "admin");

  // Retired: named in history, not listed, given no work, and its people act no more.
  EXPECT_FALSE(has(w.Get("/api/v1/organizations?type=college", w.admin()), "college-77-1"));
  EXPECT_TRUE(has(w.Get("/api/v1/organizations?type=college&include_retired=true", w.admin()),
                  "college-77-1"));
  EXPECT_EQ(w.Get("/api/v1/organizations/college-77-1", w.admin()).body["retired"], true);
  EXPECT_EQ(w.Get("/api/v1/me", staff).status, 401);
  auto ministry = w.Token("ministry", "ministry_official");
  auto refused = w.Post("/api/v1/protocols", ministry, Protocol("П-1", {"college-77-1"}));
  EXPECT_EQ(refused.status, 422) << refused.text;
  EXPECT_THAT(refused.text, ::testing::HasSubstr("retired"));
}

TEST(ApiRegistry, BadInputIsA422NamingTheFieldAndChangesNothing) {
  ApiWorld w;
  ASSERT_EQ(w.Post("/api/v1/organizations", w.admin(), College("college-77-1")).status, 201);
  ASSERT_EQ(w.Post("/api/v1/groups", w.admin(),
                   {{"payload", {{"id", "outer"}, {"name", "Внешняя"}, {"members", {"roiv-52"}}}}})
                .status,
            201);
  ASSERT_EQ(
      w.Post("/api/v1/groups", w.admin(),
             {{"payload", {{"id", "inner"}, {"name", "Внутренняя"}, {"members", {"group:outer"}}}}})
          .status,
      201);
  const std::uint64_t head = w.Head();
  struct Case {
    std::string target;
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"/api/v1/organizations", College("college-99-1", "99"), "region_code"},
      {"/api/v1/organizations", College("college-77-1"), "id"},
      {"/api/v1/organizations",
       {{"payload", {{"id", "roiv-52"}, {"kind", "roiv"}, {"name", "x"}, {"region_code", "52"}}}},
       "id"},
      {"/api/v1/organizations",
       {{"payload", {{"id", "cluster-1"}, {"kind", "college"}, {"name", "x"}}}},
       "id"},
      {"/api/v1/organizations",
       {{"payload", {{"id", "College 1"}, {"kind", "college"}, {"name", "x"}}}},
       "id"},
      {"/api/v1/organizations",
       {{"payload", {{"id", "rumo-01x"}, {"kind", "rumo"}, {"name", "x"}}}},
       "region_code"},
      {"/api/v1/organizations",
       {{"payload",
         {{"id", "roiv-52"},
          {"kind", "roiv"},
          {"name", "другое"},
          {"region_code", "52"},
          {"embedded", true}}}},
       "embedded"},
      {"/api/v1/organizations/college-77-1/commands", Act("update", {{"region_code", "00"}}),
       "region_code"},
      {"/api/v1/groups", {{"payload", {{"id", "outer"}, {"name", "x"}}}}, "id"},
      {"/api/v1/groups",
       {{"payload", {{"id", "g3"}, {"name", "x"}, {"members", {"roiv-52", "roiv-52"}}}}},
       "members[1]"},
      {"/api/v1/groups",
       {{"payload", {{"id", "g4"}, {"name", "x"}, {"members", {"nobody"}}}}},
       "members[0]"},
      {"/api/v1/groups",
       {{"payload", {{"id", "g5"}, {"name", "x"}, {"members", {"group:g5"}}}}},
       "members[0]"},
      {"/api/v1/groups/outer/commands", Act("add_member", {{"member", "group:outer"}}), "member"},
      {"/api/v1/groups/outer/commands", Act("add_member", {{"member", "group:inner"}}), "member"},
      {"/api/v1/groups/outer/commands", Act("add_member", {{"member", "roiv-52"}}), "member"},
      {"/api/v1/groups/outer/commands", Act("remove_member", {{"member", "roiv-77"}}), "member"},
      {"/api/v1/groups/outer/commands", Act("add_member", {{"member", "nobody"}}), "member"},
  };
  for (const auto& c : cases) {
    auto r = w.Post(c.target, w.admin(), c.body);
    EXPECT_EQ(r.status, 422) << c.target << " " << c.body.dump() << ": " << r.text;
    EXPECT_EQ(r.body.value("code", ""), "validation_failed") << r.text;
    EXPECT_EQ(FieldOf(r), c.field) << c.body.dump() << ": " << r.text;
  }
  // Only administrators keep the registry.
  auto ministry = w.Token("ministry", "ministry_official");
  EXPECT_EQ(w.Post("/api/v1/organizations", ministry, College("college-77-2")).status, 403);
  EXPECT_EQ(
      w.Post("/api/v1/groups/outer/commands", ministry, Act("add_member", {{"member", "roiv-77"}}))
          .status,
      403);
  EXPECT_EQ(w.Head(), head) << "a refusal appends nothing";
}

TEST(ApiRegistry, TheFirstChangeToAnEmbeddedOrganisationRecordsItsEmbeddedVersion) {
  ApiWorld w;
  auto before = w.Get("/api/v1/organizations/roiv-52", w.admin());
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.body["source"], "embedded");
  EXPECT_EQ(before.body["version"], 0);
  auto renamed =
      w.Post("/api/v1/organizations/roiv-52/commands", w.admin(),
             {{"command", "rename"},
              {"expected_version", 0},
              {"payload", {{"name", "Министерство образования Нижегородской области"}}}});
  ASSERT_EQ(renamed.status, 200) << renamed.text;
  EXPECT_EQ(renamed.body["version"], 2);
  auto events = w.Get("/api/v1/organizations/roiv-52/events", w.admin());
  ASSERT_EQ(events.body["events"].size(), 2u) << events.text;
  EXPECT_EQ(events.body["events"][0]["type"], "OrganizationRegistered");
  EXPECT_EQ(events.body["events"][0]["data"]["payload"]["embedded"], true);
  EXPECT_EQ(events.body["events"][0]["data"]["payload"]["name"], before.body["name"]);
  auto after = w.Get("/api/v1/organizations/roiv-52", w.admin());
  EXPECT_EQ(after.body["name"], "Министерство образования Нижегородской области");
  EXPECT_EQ(after.body["region_code"], "52");
  EXPECT_EQ(after.body["source"], "log");
  // A repeat of that first change (same key) answers the change again and appends nothing.
  const json change = {{"command", "rename"}, {"payload", {{"name", "Имя по ключу"}}}};
  auto first = w.Post("/api/v1/organizations/roiv-77/commands", w.admin(), change,
                      {{"idempotency-key", "rename-77"}});
  ASSERT_EQ(first.status, 200) << first.text;
  const std::uint64_t head = w.Head();
  auto repeat = w.Post("/api/v1/organizations/roiv-77/commands", w.admin(), change,
                       {{"idempotency-key", "rename-77"}});
  ASSERT_EQ(repeat.status, 200) << repeat.text;
  EXPECT_EQ(repeat.body["version"], first.body["version"]);
  EXPECT_EQ(repeat.body["events"], first.body["events"]);
  EXPECT_EQ(w.Head(), head);
  // The region's people keep acting for it.
  auto region = w.Token("roiv-52", "region_official");
  EXPECT_EQ(w.Get("/api/v1/me", region).status, 200);

  // An embedded group likewise: the first member added records the group as compiled in.
  auto copp = w.Get("/api/v1/groups/copp-regions", w.admin());
  ASSERT_EQ(copp.status, 200);
  const std::size_t members = copp.body["members"].size();
  ASSERT_EQ(w.Post("/api/v1/organizations", w.admin(), College("college-77-1")).status, 201);
  auto added = w.Post("/api/v1/groups/copp-regions/commands", w.admin(),
                      Act("add_member", {{"member", "college-77-1"}}));
  ASSERT_EQ(added.status, 200) << added.text;
  EXPECT_EQ(w.Get("/api/v1/groups/copp-regions", w.admin()).body["members"].size(), members + 1);
}

TEST(ApiRegistry, RoutingReadsTheRegistryAsItStoodWhenTheCommandWasDecided) {
  ApiWorld w;
  auto ministry = w.Token("ministry", "ministry_official");
  ASSERT_EQ(w.Post("/api/v1/organizations", w.admin(), College("college-77-1")).status, 201);
  ASSERT_EQ(w.Post("/api/v1/organizations", w.admin(), College("college-52-1", "52")).status, 201);
  ASSERT_EQ(w.Post("/api/v1/groups", w.admin(),
                   {{"payload",
                     {{"id", "pilot"},
                      {"name", "Пилотные колледжи"},
                      {"members", {"college-77-1", "college-52-1"}}}}})
                .status,
            201);
  auto first = w.Post("/api/v1/protocols", ministry, Protocol("П-1", {"group:pilot"}));
  ASSERT_EQ(first.status, 201) << first.text;
  EXPECT_EQ(first.body["assignments"].size(), 2u);
  // The group changes: a protocol registered after it gets the members it has then; the first
  // keeps the members it was given.
  ASSERT_EQ(w.Post("/api/v1/groups/pilot/commands", w.admin(),
                   Act("remove_member", {{"member", "college-52-1"}}))
                .status,
            200);
  auto second = w.Post("/api/v1/protocols", ministry, Protocol("П-2", {"group:pilot"}));
  ASSERT_EQ(second.status, 201) << second.text;
  ASSERT_EQ(second.body["assignments"].size(), 1u);
  auto a =
      w.Get("/api/v1/assignments/" + second.body["assignments"][0].get<std::string>(), ministry);
  EXPECT_EQ(a.body["participants"]["assignee"], "college-77-1");
  auto p1 = w.Get("/api/v1/protocols/" + first.body["id"].get<std::string>(), ministry);
  ASSERT_EQ(p1.body["fields"]["groups"].size(), 1u) << p1.text;
  EXPECT_EQ(p1.body["fields"]["groups"][0]["group"], "group:pilot");
  EXPECT_EQ(p1.body["fields"]["groups"][0]["members"].size(), 2u) << p1.text;

  // The college reports for its assignment in the role of its kind.
  auto staff = w.Token("college-77-1", "college_staff");
  auto report = w.Post(
      "/api/v1/assignments/" + second.body["assignments"][0].get<std::string>() + "/commands",
      staff, Act("submit_report", {{"text", "Готово"}}));
  EXPECT_EQ(report.status, 200) << report.text;
}

TEST(ApiRegistry, TheRegistryOutlivesARestart) {
  engine::MemoryEventLog log;
  {
    ApiWorld w(true, &log);
    ASSERT_EQ(w.Post("/api/v1/organizations", w.admin(), College("college-77-1")).status, 201);
    ASSERT_EQ(w.Post("/api/v1/groups", w.admin(),
                     {{"payload", {{"id", "pilot"}, {"name", "П"}, {"members", {"college-77-1"}}}}})
                  .status,
              201);
    ASSERT_EQ(w.Post("/api/v1/organizations/roiv-52/commands", w.admin(),
                     Act("rename", {{"name", "Новое имя"}}))
                  .status,
              200);
  }
  ApiWorld again(true, &log);
  auto college = again.Get("/api/v1/organizations/college-77-1", again.admin());
  EXPECT_EQ(college.status, 200);
  EXPECT_EQ(again.Get("/api/v1/organizations/roiv-52", again.admin()).body["name"], "Новое имя");
  auto pilot = again.Get("/api/v1/groups/pilot", again.admin());
  ASSERT_EQ(pilot.status, 200);
  EXPECT_EQ(pilot.body["organizations"], json::array({"college-77-1"}));
  // And the duplicate is still refused after it.
  auto dup = again.Post("/api/v1/organizations", again.admin(), College("college-77-1"));
  EXPECT_EQ(dup.status, 422);
}

}  // namespace
}  // namespace expertflow::testing

namespace expertflow::testing {
namespace {

engine::Submission Rename(const std::string& id, const std::string& name) {
  engine::Submission sub;
  sub.command.kind = engine::Command::Kind::kAct;
  sub.command.collection = "organizations";
  sub.command.instance_id = id;
  sub.command.name = "rename";
  sub.command.payload = {{"name", name}};
  sub.command.actor = engine::Principal{"admin", "admin", "t"};
  return sub;
}

// A group refused after a registry change undoes it: the registry deciding and reading sees the
// version decided after, though it has the same version number.
TEST(ApiRegistry, AChangeUndoneWithItsGroupLeavesNoTrace) {
  ApiWorld w;
  ASSERT_EQ(w.Post("/api/v1/organizations", w.admin(), College("college-77-1")).status, 201);
  std::vector<engine::Submission> group;
  group.push_back(Rename("college-77-1", "Отменённое имя"));
  // Reads the renamed college (version 2) as decided, then is refused on its second member.
  engine::Submission grouping;
  grouping.command.kind = engine::Command::Kind::kCreate;
  grouping.command.collection = "groups";
  grouping.command.workflow = "group";
  grouping.command.name = "create";
  grouping.command.payload = {
      {"id", "refused"}, {"name", "Г"}, {"members", {"college-77-1", "nobody"}}};
  grouping.command.actor = engine::Principal{"admin", "admin", "t"};
  group.push_back(std::move(grouping));
  std::promise<engine::Result<std::vector<engine::CommandResult>>> done;
  w.sequencer().SubmitGroup(std::move(group), [&](auto r) { done.set_value(std::move(r)); });
  ASSERT_FALSE(done.get_future().get());
  auto renamed = w.sequencer().Submit(Rename("college-77-1", "Принятое имя")).get();
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->version, 2u);
  EXPECT_EQ(w.Get("/api/v1/organizations/college-77-1", w.admin()).body["name"], "Принятое имя");
  const engine::Organization* o = w.sequencer().directory().FindOrganization("college-77-1");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->name, "Принятое имя");
  EXPECT_EQ(o->version, 2u);
}

}  // namespace
}  // namespace expertflow::testing
