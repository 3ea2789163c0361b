// Issue 18, attachments: an upload stored once by its SHA-256, refused over the size limit (413)
// and with a media type that is none (415); served, with its type and download name, only to
// whoever may see an instance whose events reference it (404 to everyone else, the uploader
// included until then); verify names a file altered or missing; unreferenced files are swept
// after the grace period only.
#include <gmock/gmock.h>

#include "engine/projections/attachment_refs.h"
#include "tests/api/api_fixture.h"

namespace expertflow::testing {
namespace {

class Attachments : public Api {
 protected:
  Reply Upload(const std::string& bytes, const std::string& type = "application/pdf",
               const std::string& name = "%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf") {
    return w_.Call("POST", "/api/v1/attachments" + (name.empty() ? "" : "?name=" + name), umc_,
                   bytes, {{"content-type", type}});
  }
  // A draft by the association whose payload references the file.
  std::string DraftWith(const json& uploaded) {
    json d = Draft();
    d["payload"]["attachments"] = {
        {{"name", uploaded["name"]}, {"uri", uploaded["uri"]}, {"sha256", uploaded["sha256"]}}};
    auto r = w_.Post("/api/v1/proposals", assoc_, d);
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body.value("id", "");
  }
};

TEST_F(Attachments, AnUploadIsStoredOnceByItsHash) {
  const std::string bytes = "%PDF-1.7 отчёт о проведении мероприятия";
  const std::uint64_t head = w_.Head();
  auto first = Upload(bytes);
  ASSERT_EQ(first.status, 201) << first.text;
  const std::string sha = engine::ToHex(engine::Sha256(bytes));
  EXPECT_EQ(first.body["sha256"], sha);
  EXPECT_EQ(first.body["size"], bytes.size());
  EXPECT_EQ(first.body["type"], "application/pdf");
  EXPECT_EQ(first.body["name"], "отчёт.pdf");
  EXPECT_EQ(first.body["uri"], "/api/v1/attachments/" + sha);
  EXPECT_EQ(first.headers["Location"], "/api/v1/attachments/" + sha);
  // The same content again, under another name: 200, the first upload's name and type stay.
  auto again = Upload(bytes, "text/plain", "other.txt");
  ASSERT_EQ(again.status, 200) << again.text;
  EXPECT_EQ(again.body["sha256"], sha);
  EXPECT_EQ(again.body["name"], "отчёт.pdf");
  EXPECT_EQ(w_.attachments().List().size(), 1u);
  EXPECT_EQ(w_.Head(), head) << "an upload appends nothing to the log";
}

TEST_F(Attachments, TheSizeLimitIs413AndKeepsNothing) {
  ApiWorld small(true, nullptr, 16);
  const std::string lead = small.Token("umc-05", "umc_lead");
  auto over = small.Call("POST", "/api/v1/attachments", lead, std::string(17, 'x'),
                         {{"content-type", "application/octet-stream"}});
  ExpectProblem(over, 413, "payload_too_large");
  EXPECT_NE(over.body.value("detail", "").find("16 bytes"), std::string::npos) << over.text;
  // Said by Content-Length before the body is read.
  auto declared = small.Call("POST", "/api/v1/attachments", lead, "",
                             {{"content-type", "image/png"}, {"content-length", "17"}});
  ExpectProblem(declared, 413, "payload_too_large");
  EXPECT_TRUE(small.attachments().List().empty());
  EXPECT_EQ(small
                .Call("POST", "/api/v1/attachments", lead, std::string(16, 'x'),
                      {{"content-type", "application/octet-stream"}})
                .status,
            201);
}

TEST_F(Attachments, TheTypeMustBeAMediaTypeAndTheNameAFileName) {
  ExpectProblem(Upload("x", "not a type"), 415, "unsupported_media_type");
  ExpectProblem(Upload("x", "multipart/form-data; boundary=z"), 415, "unsupported_media_type");
  auto bad_name = Upload("x", "text/plain", "..%2Fetc%2Fpasswd");
  ExpectProblem(bad_name, 422, "validation_failed");
  EXPECT_EQ(bad_name.body["errors"][0]["field"], "name");
  ExpectProblem(Upload("x", "text/plain", "a%00b"), 422, "validation_failed");
  EXPECT_TRUE(w_.attachments().List().empty());
  // No type given: application/octet-stream; parameters are not kept.
  auto plain = w_.Call("POST", "/api/v1/attachments", umc_, "y", {{"content-type", ""}});
  ASSERT_EQ(plain.status, 201) << plain.text;
  EXPECT_EQ(plain.body["type"], "application/octet-stream");
  EXPECT_EQ(plain.body["name"], "");
  EXPECT_EQ(Upload("z", "Text/CSV; charset=utf-8", "").body["type"], "text/csv");
  // Auditors never write, and a token is needed.
  ExpectProblem(w_.Call("POST", "/api/v1/attachments", auditor_, "x", {{"content-type", "a/b"}}),
                403, "forbidden");
  ExpectProblem(w_.Call("POST", "/api/v1/attachments", "", "x", {{"content-type", "a/b"}}), 401,
                "unauthenticated");
}

TEST_F(Attachments, OnlyThoseWhoSeeAReferencingInstanceDownloadIt) {
  const std::string bytes(600 * 1024, 'p');  // more than one piece of the download
  auto up = Upload(bytes);
  ASSERT_EQ(up.status, 201) << up.text;
  const std::string uri = up.body["uri"];
  // Referenced by nothing yet: not there, for the uploader too.
  ExpectProblem(w_.Get(uri, umc_), 404, "not_found");
  ExpectProblem(w_.Get(uri, w_.admin()), 404, "not_found");
  DraftWith(up.body);
  for (const std::string& who : {assoc_, umc_, auditor_, irpo_}) {
    auto r = w_.Get(uri, who);
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.text, bytes);
    EXPECT_GT(r.pieces, 1);
    EXPECT_EQ(r.content_type, "application/pdf");
    EXPECT_EQ(r.headers["Content-Disposition"],
              "attachment; filename=\"_____.pdf\"; "
              "filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf");
    EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(r.headers["ETag"], "\"" + up.body["sha256"].get<std::string>() + "\"");
  }
  // Another UMC sees neither the proposal nor its file; nor does a hash that is no hash.
  ExpectProblem(w_.Get(uri, other_umc_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/attachments/" + std::string(64, 'g'), umc_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/attachments/abc", umc_), 404, "not_found");
  // Upper-case hex names the same file.
  std::string upper = up.body["sha256"];
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_EQ(w_.Get("/api/v1/attachments/" + upper, umc_).status, 200);
}

TEST_F(Attachments, VerifyNamesAnAlteredOrMissingFile) {
  auto a = Upload("first document", "text/plain", "a.txt");
  auto b = Upload("second document", "text/plain", "b.txt");
  DraftWith(a.body);
  DraftWith(b.body);
  auto fine = w_.Get("/api/v1/audit/verify", auditor_);
  ASSERT_EQ(fine.status, 200) << fine.text;
  EXPECT_EQ(fine.body["ok"], true) << fine.text;
  EXPECT_EQ(fine.body["attachments"]["checked"], 2);
  EXPECT_EQ(fine.body["attachments"]["ok"], true);
  w_.attachments().Tamper(a.body["sha256"].get<std::string>(), "first document, changed");
  ASSERT_TRUE(w_.attachments().Remove(b.body["sha256"].get<std::string>()));
  auto broken = w_.Get("/api/v1/audit/verify", auditor_);
  ASSERT_EQ(broken.status, 200) << broken.text;
  EXPECT_EQ(broken.body["ok"], false) << broken.text;
  const json& problems = broken.body["attachments"]["problems"];
  ASSERT_EQ(problems.size(), 2u) << broken.text;
  std::map<std::string, std::string> found;
  for (const json& p : problems) {
    found[p["sha256"]] = p["what"];
    EXPECT_GT(p["first_seq"].get<std::uint64_t>(), 0u);
  }
  EXPECT_EQ(found[a.body["sha256"]], "altered");
  EXPECT_EQ(found[b.body["sha256"]], "missing");
  EXPECT_TRUE(broken.body["attachments"]["ok"] == false);
  // The chain itself still holds: what is wrong is the files, and verify says so.
  EXPECT_EQ(broken.body["checked"], w_.Head());
}

TEST_F(Attachments, AnUnreferencedFileIsSweptAfterTheGracePeriodOnly) {
  auto kept = Upload("referenced", "text/plain", "kept.txt");
  DraftWith(kept.body);
  auto loose = Upload("never referenced", "text/plain", "loose.txt");
  engine::AttachmentRefs refs;
  ASSERT_TRUE(refs.CatchUp(w_.log()));
  const auto grace = std::chrono::hours(24);
  auto early = engine::SweepAttachments(refs, w_.attachments(),
                                        w_.clock().Now() + grace - std::chrono::seconds(1), grace);
  ASSERT_TRUE(early);
  EXPECT_EQ(*early, 0u);
  auto late = engine::SweepAttachments(refs, w_.attachments(), w_.clock().Now() + grace, grace);
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, 1u);
  EXPECT_TRUE(w_.attachments().Find(kept.body["sha256"].get<std::string>()));
  EXPECT_FALSE(w_.attachments().Find(loose.body["sha256"].get<std::string>()));
}

TEST(AttachmentRefsTest, FindsEveryReferenceToThisServersFilesAtAnyDepthOnce) {
  const std::string a(64, 'a'), b(64, 'B'), c(64, 'c');
  const auto item = [](const std::string& uri, const std::string& sha) {
    return R"({"name":"x","uri":")" + uri + R"(","sha256":")" + sha + R"("})";
  };
  auto hashes = engine::AttachmentRefs::HashesIn(
      R"({"payload":{"attachments":[)" + item("/api/v1/attachments/" + a, a) + "," +
      item("https://ef.example/api/v1/attachments/" + b, b) + "," +
      // a document kept elsewhere, as every one was before the server kept files
      item("https://docs.example/report.pdf", c) + R"(],"attachment":)" +
      item("/api/v1/attachments/" + a, a) + R"(,"note":"sha256"}})");
  EXPECT_THAT(hashes, ::testing::ElementsAre(a, std::string(64, 'b')));
  // The uri must name the same hash.
  EXPECT_TRUE(engine::AttachmentRefs::HashesIn(item("/api/v1/attachments/" + a, c)).empty());
  EXPECT_TRUE(engine::AttachmentRefs::HashesIn(R"({"sha256":")" + a + R"("})").empty());
  EXPECT_TRUE(engine::AttachmentRefs::HashesIn(R"({"title":"x"})").empty());
}

// A document kept elsewhere, referenced the way every attachment was before, is no file of this
// server's: verify does not call it missing.
TEST_F(Attachments, AReferenceToADocumentKeptElsewhereIsNotAFileOfTheServers) {
  DraftWith({{"name", "external.pdf"},
             {"uri", "https://docs.example/external.pdf"},
             {"sha256", std::string(64, 'd')}});
  auto v = w_.Get("/api/v1/audit/verify", auditor_);
  ASSERT_EQ(v.status, 200) << v.text;
  EXPECT_EQ(v.body["ok"], true) << v.text;
  EXPECT_EQ(v.body["attachments"]["checked"], 0);
}

}  // namespace
}  // namespace expertflow::testing
