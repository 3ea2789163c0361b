#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "engine/core/intern.h"
#include "engine/model/fields.h"
#include "engine/model/instance.h"
#include "engine/model/participants.h"

// The compact parts of an instance state (issue 19): fields kept as canonical member texts,
// participants as interned pairs. They must read, compare and print as the nlohmann object and
// the std::map they replace did.
namespace expertflow::engine {
namespace {

using nlohmann::json;

TEST(Intern, ShouldGiveEqualTextsOneCopy) {
  const std::string a = "umc-05";
  const std::string b = std::string("umc-") + "05";
  EXPECT_EQ(Intern(a), Intern(b));
  EXPECT_NE(Intern("umc-05"), Intern("umc-06"));
  EXPECT_EQ(*Intern("umc-05"), "umc-05");
}

TEST(Fields, ShouldPrintTheObjectAsNlohmannPrintsIt) {
  const json object = json::parse(R"({
    "title": "Единый подход \"№ 1\"", "ugps": ["15.00.00"], "count": 3, "ratio": -0.5,
    "attachments": [{"uri": "https://example.org/d/1", "name": "Обоснование.pdf"}],
    "flag": true, "none": null, "Zeta": "upper case sorts first", "empty": {}})");
  const Fields f = Fields::FromJson(object);
  std::string text;
  f.AppendTo(text);
  EXPECT_EQ(text, object.dump());
  EXPECT_EQ(f.ToJson(), object);
  EXPECT_EQ(f.size(), object.size());
}

TEST(Fields, ShouldReadMembersAsTheObjectDid) {
  const Fields f = Fields::FromJson(
      json{{"protocol_date", "2024-11-29"}, {"reports", json::array({{{"n", 1}}})}, {"n", 7}});
  EXPECT_TRUE(f.contains("reports"));
  EXPECT_FALSE(f.contains("deadline"));
  EXPECT_EQ(f.Get("reports"), json::array({{{"n", 1}}}));
  EXPECT_TRUE(f.Get("deadline").is_null());
  EXPECT_EQ(f["n"], 7);
  EXPECT_EQ(f.value("protocol_date", ""), "2024-11-29");
  EXPECT_EQ(f.value("missing", "fallback"), "fallback");
  EXPECT_EQ(f.value("n", "not a string"), "not a string");
  EXPECT_EQ(f.value("missing", json::array()), json::array());
  EXPECT_EQ(f.value("n", json()), 7);
  ASSERT_NE(f.Text("n"), nullptr);
  EXPECT_EQ(*f.Text("n"), "7");
}

TEST(Fields, ShouldSetReplaceAndEraseMembersInNameOrder) {
  Fields f;
  f.Set("title", "b");
  f.Set("attachments", json::array());
  f.Set("summary", json::object({{"z", 1}, {"a", 2}}));
  f.Set("title", "c");
  std::string text;
  f.AppendTo(text);
  EXPECT_EQ(text, R"({"attachments":[],"summary":{"a":2,"z":1},"title":"c"})");
  f.Erase("summary");
  f.Erase("absent");
  text.clear();
  f.AppendTo(text);
  EXPECT_EQ(text, R"({"attachments":[],"title":"c"})");
  EXPECT_EQ(f, Fields::FromJson(json{{"title", "c"}, {"attachments", json::array()}}));
  EXPECT_NE(f, Fields::FromJson(json{{"title", "d"}, {"attachments", json::array()}}));
}

TEST(Fields, ShouldHoldNothingForWhatIsNotAnObject) {
  EXPECT_TRUE(Fields::FromJson(json::array({1, 2})).empty());
  std::string text;
  Fields::FromJson(json("text")).AppendTo(text);
  EXPECT_EQ(text, "{}");
}

TEST(Participants, ShouldKeepSlotsInNameOrderWithOneOrganisationEach) {
  Participants p{{"umc", "umc-05"}, {"association", "assoc-05"}, {"ftpo", "ftpo-kaluga"}};
  p.Set("ftpo", "ftpo-nnovgorod");
  p.Set("author", "assoc-05");
  std::string order;
  for (const auto& [slot, org] : p) order += slot + "=" + org + ";";
  EXPECT_EQ(order, "association=assoc-05;author=assoc-05;ftpo=ftpo-nnovgorod;umc=umc-05;");
  EXPECT_EQ(p.size(), 4u);
  EXPECT_EQ(p.at("umc"), "umc-05");
  EXPECT_EQ(p.find("umc")->second, "umc-05");
  EXPECT_EQ(p.find("irpo"), p.end());
  EXPECT_TRUE(p.contains("author"));
  EXPECT_EQ(p.count("irpo"), 0u);
  EXPECT_EQ(p["irpo"], "");
  EXPECT_THROW((void)p.at("irpo"), std::out_of_range);
  p.Erase("author");
  EXPECT_FALSE(p.contains("author"));
  EXPECT_EQ(p, (Participants{{"association", "assoc-05"}, {"ftpo", "ftpo-nnovgorod"},
                             {"umc", std::string("umc-") + "05"}}));
  EXPECT_NE(p, (Participants{{"association", "assoc-05"}, {"umc", "umc-05"}}));
}

TEST(InstanceState, ShouldComeBackFromItsStoredFormUnchanged) {
  InstanceState s;
  s.id = "9e67d67f4306";
  s.collection = "proposals";
  s.workflow = "industry_proposal";
  s.workflow_version = 2;
  s.state = "drafting";
  s.version = 3;
  s.created_by = "assoc-05";
  s.participants = {{"association", "assoc-05"}, {"umc", "umc-05"}};
  s.fields = Fields::FromJson(json{{"title", "Позиция"}, {"ugps", json::array({"15.00.00"})}});
  const std::string text = StateToText(s);
  EXPECT_EQ(text, StateToJson(s).dump());
  auto back = StateFromJson(json::parse(text));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_EQ(StateToText(*back), text);
}

TEST(InstanceState, ShouldEvolveFieldsFromEventData) {
  InstanceState s;
  Evolve(s, Timestamp{},
         R"({"created":{"id":"x","collection":"groups","workflow":"group","workflow_version":1,
             "by":"ministry","participants":{"owner":"ministry"}},
             "payload":{"name":"Группа","members":[]},"update_fields":true,"to":"active"})");
  Evolve(s, Timestamp{}, R"({"list":{"field":"members","add":"umc-05"}})");
  Evolve(s, Timestamp{}, R"({"list":{"field":"members","add":"umc-06"}})");
  Evolve(s, Timestamp{}, R"({"list":{"field":"members","remove":"umc-05"}})");
  Evolve(s, Timestamp{}, R"({"payload":{"name":"Новое имя"},"update_fields":true})");
  EXPECT_EQ(s.fields.ToJson(), (json{{"name", "Новое имя"}, {"members", json::array({"umc-06"})}}));
  EXPECT_EQ(s.participants.at("owner"), "ministry");
  EXPECT_EQ(s.version, 5u);
}

TEST(InstanceState, ShouldStorePayloadFieldsAsNlohmannWouldPrintThem) {
  const std::string payload = R"({"text": "кавычка \" и \\ и \n и \u0001", "n": -5, "big": 18446744073709551615,
      "ratio": 0.1, "exp": 1e3, "flag": false, "none": null, "list": ["b", 2, [true, {"z": 1, "a": [0.5]}]],
      "object": {"z": 1, "a": "x", "a": "y"}})";
  InstanceState s;
  Evolve(s, Timestamp{}, R"({"payload":)" + payload + R"(,"update_fields":true})");
  std::string text;
  s.fields.AppendTo(text);
  EXPECT_EQ(text, json::parse(payload).dump());
}

}  // namespace
}  // namespace expertflow::engine
