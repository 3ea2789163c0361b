#include "engine/log/event.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>

namespace expertflow::engine {
namespace {

NewEvent Sample() {
  NewEvent e;
  e.type = "ConclusionSubmitted";
  e.occurred_at = *ParseRfc3339("2026-03-01T09:00:00Z");
  e.actor = {"irpo", "irpo_staff", "tok1"};
  e.command = "submit_conclusion";
  e.command_id = "c1";
  e.data = R"({"verdict":"approve"})";
  return e;
}

TEST(EventRecord, HasTheFixedLayoutOfApiMd) {
  std::string record = EncodeRecord(42, "proposals/ab12", 3, Sample(), kZeroHash);
  EXPECT_EQ(
      record,
      R"({"seq":42,"stream":"proposals/ab12","version":3,"type":"ConclusionSubmitted","schema":1,)"
      R"("occurred_at":"2026-03-01T09:00:00Z","actor":{"org":"irpo","role":"irpo_staff","token_id":"tok1"},)"
      R"("command":"submit_conclusion","command_id":"c1","data":{"verdict":"approve"},)"
      R"("prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"})");
  EXPECT_TRUE(nlohmann::json::accept(record));
}

TEST(EventRecord, DecodesBackToTheSameEvent) {
  Hash prev = Sha256("previous");
  auto e = DecodeRecord(EncodeRecord(7, "agreements/x", 2, Sample(), prev));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->seq, 7u);
  EXPECT_EQ(e->stream, "agreements/x");
  EXPECT_EQ(e->version, 2u);
  EXPECT_EQ(e->type, "ConclusionSubmitted");
  EXPECT_EQ(e->actor.token_id, "tok1");
  EXPECT_EQ(e->data["verdict"], "approve");
  EXPECT_EQ(e->prev_hash, prev);
  EXPECT_FALSE(DecodeRecord("{}"));
  EXPECT_FALSE(DecodeRecord("not json"));
}

TEST(EventRecord, EscapesStringsAsJson) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01й", out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001й\"");
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), "a\"b\\c\n\x01й");
}

TEST(EventRecord, JsonTextAddsTheHashLast) {
  StoredEvent s{1, Sha256("x"), EncodeRecord(1, "p/1", 1, Sample(), kZeroHash)};
  auto j = nlohmann::json::parse(EventJsonText(s));
  EXPECT_EQ(j["hash"], ToHex(s.hash));
  EXPECT_EQ(j["seq"], 1);
}

// The write path's JSON writer must give dump()'s bytes: views are compared byte for byte with
// rebuilt ones, and event data is what the chain hashes.
TEST(JsonWriter, WritesWhatDumpWrites) {
  std::vector<nlohmann::json> values = {
      nullptr,
      true,
      false,
      0,
      -1,
      std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::uint64_t>::max(),
      1.5,
      -0.0,
      1e100,
      0.1,
      "",
      "plain",
      "Единый отраслевой подход — «практика»",
      std::string("ctl \x01\x1f\x7f \b\f\n\r\t \" \\ / end"),
      std::string("nul\0inside", 10),
      nlohmann::json::array(),
      nlohmann::json::object(),
      nlohmann::json::parse(R"({"b":[1,{"z":null,"a":"x"}],"a":{"":[]},"Я":-2.25})"),
  };
  // Random documents of every kind of value, nested, from a fixed seed.
  std::mt19937 rng(20261123);
  const std::vector<std::string> words = {"a", "ключ", "k\"q", "t\tab", "\u0002", "z"};
  std::function<nlohmann::json(int)> random = [&](int depth) -> nlohmann::json {
    switch (rng() % (depth > 3 ? 5 : 7)) {
      case 0:
        return nullptr;
      case 1:
        return rng() % 2 == 0;
      case 2:
        return static_cast<std::int64_t>(rng()) - (1ll << 31);
      case 3:
        return static_cast<double>(rng()) / 7.0;
      case 4:
        return words[rng() % words.size()] + words[rng() % words.size()];
      case 5: {
        nlohmann::json a = nlohmann::json::array();
        for (unsigned i = rng() % 4; i > 0; --i) a.push_back(random(depth + 1));
        return a;
      }
      default: {
        nlohmann::json o = nlohmann::json::object();
        for (unsigned i = rng() % 4; i > 0; --i) o[words[rng() % words.size()]] = random(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 500; ++i) values.push_back(random(0));
  for (const auto& v : values) {
    EXPECT_EQ(JsonText(v), v.dump()) << v.dump();
    std::string appended = "prefix:";
    AppendJson(v, appended);
    EXPECT_EQ(appended, "prefix:" + v.dump());
  }
}

TEST(ChainHash, IsSha256OfPreviousRawBytesAndRecord) {
  // hash(n) = SHA-256(raw 32 bytes of hash(n-1) || record(n)): the same as hashing the
  // concatenation in one go.
  Hash prev = Sha256("abc");
  std::string joined(reinterpret_cast<const char*>(prev.data()), prev.size());
  joined += "record";
  EXPECT_EQ(ChainHash(prev, "record"), Sha256(joined));
  // A known vector: SHA-256("abc").
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashFromHex(ToHex(prev)), prev);
  EXPECT_FALSE(HashFromHex("zz"));
}

TEST(ValidateNewEvent, RefusesWhatTheLogMustNotHold) {
  NewEvent e = Sample();
  EXPECT_TRUE(ValidateNewEvent("p/1", e));
  EXPECT_EQ(ValidateNewEvent("", e).error().code, ErrorCode::kValidationFailed);
  EXPECT_EQ(ValidateNewEvent(std::string(300, 'x'), e).error().code, ErrorCode::kValidationFailed);
  e.data = "{not json";
  EXPECT_EQ(ValidateNewEvent("p/1", e).error().code, ErrorCode::kMalformedJson);
  e.data = "[1]";
  EXPECT_EQ(ValidateNewEvent("p/1", e).error().code, ErrorCode::kMalformedJson);
  e.data = "{\"big\":\"" + std::string(kMaxRecordBytes, 'x') + "\"}";
  EXPECT_EQ(ValidateNewEvent("p/1", e).error().code, ErrorCode::kPayloadTooLarge);
  e = Sample();
  e.type = "";
  EXPECT_EQ(ValidateNewEvent("p/1", e).error().code, ErrorCode::kValidationFailed);
}

}  // namespace
}  // namespace expertflow::engine

namespace expertflow::engine {
namespace {

TEST(Upcasting, OldSchemasAreReadInTheCurrentLayout) {
  // v1 of a (test-only) type kept the verdict as "ok": true/false; v2 names it.
  RegisterUpcaster("UpcastProbeV1Submitted", 1, [](nlohmann::json d) {
    d["verdict"] = d.value("ok", false) ? "approve" : "reject";
    d.erase("ok");
    return d;
  });
  RegisterUpcaster("UpcastProbeV1Submitted", 2, [](nlohmann::json d) {
    d["comment"] = d.value("comment", "");
    return d;
  });
  NewEvent e = Sample();
  e.type = "UpcastProbeV1Submitted";
  e.schema = 1;
  e.data = R"({"ok":true})";
  const std::string record = EncodeRecord(1, "p/1", 1, e, kZeroHash);
  auto decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->schema, 3u);
  EXPECT_EQ(decoded->data, nlohmann::json({{"verdict", "approve"}, {"comment", ""}}));
  // The stored bytes, which the hash covers, are untouched: only the reader's view changes.
  EXPECT_NE(record.find(R"("data":{"ok":true})"), std::string::npos);
  // A record already at the current schema passes through as it is.
  e.schema = 3;
  e.data = R"({"verdict":"reject","comment":"x"})";
  EXPECT_EQ(DecodeRecord(EncodeRecord(2, "p/1", 2, e, kZeroHash))->data["verdict"], "reject");
}

}  // namespace
}  // namespace expertflow::engine
