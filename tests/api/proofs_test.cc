// /api/v1/log/...: signed checkpoints, inclusion and consistency proofs, tlog-tiles tiles and
// entry bundles, witnesses' cosignatures, and an instance's history with its proofs
// (docs/audit.md). Every answer is checked here the way an auditor would: against the records
// themselves and the log's verifier key, never against what the server says of itself.
#include <gmock/gmock.h>

#include "engine/core/note.h"
#include "engine/log/merkle.h"
#include "tests/api/api_fixture.h"

namespace expertflow::testing {
namespace {

namespace note = engine::note;

engine::Hash FromHex(const json& j) { return *engine::HashFromHex(j.get<std::string>()); }

std::vector<engine::Hash> HashList(const json& j) {
  std::vector<engine::Hash> out;
  for (const auto& h : j) out.push_back(FromHex(h));
  return out;
}

class Proofs : public Api {
 protected:
  void SetUp() override {
    for (int i = 0; i < 5; ++i) Create(umc_);
    witness_ = w_.Token("witness-org", "witness");
  }

  // The leaf hashes of the log's records, read from the log itself.
  std::vector<engine::Hash> Leaves() {
    std::vector<engine::Hash> leaves;
    EXPECT_TRUE(w_.log().ForEach(1, w_.Head(),
                                 [&](std::uint64_t, const engine::Hash&, std::string_view record) {
                                   leaves.push_back(engine::LeafHash(record));
                                   return true;
                                 }));
    return leaves;
  }

  note::Checkpoint Latest(const std::string& token) {
    auto r = w_.Get("/api/v1/log/checkpoint", token);
    EXPECT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    auto n = note::ParseNote(r.text);
    EXPECT_TRUE(n);
    EXPECT_TRUE(note::VerifyNote(note::VerifierOf(w_.log_key()), *n)) << r.text;
    return *note::ParseCheckpoint(n->text);
  }

  std::string witness_;
};

TEST_F(Proofs, TheCheckpointIsSignedAndItsRootIsTheRecordsTree) {
  ExpectProblem(w_.Get("/api/v1/log/checkpoint", auditor_), 404, "not_found");  // none made yet
  ASSERT_TRUE(w_.checkpoints().Make());
  const note::Checkpoint c = Latest(auditor_);
  EXPECT_EQ(c.origin, "test.example/log");
  EXPECT_EQ(c.size, w_.Head());
  const auto leaves = Leaves();
  EXPECT_EQ(c.root, *engine::TreeRoot(engine::LeafList(leaves), c.size));
  // The verifier key is served too, as `expertflow key show` prints it.
  auto key = w_.Get("/api/v1/log/key", irpo_);
  EXPECT_EQ(key.text, note::VerifierKey(w_.log_key()) + "\n");
  // A checkpoint is made only when the tree grew; every one is kept.
  EXPECT_FALSE(*w_.checkpoints().Make());
  Create(umc_);
  ASSERT_TRUE(*w_.checkpoints().Make());
  auto list = w_.Get("/api/v1/log/checkpoints", ministry_);
  ASSERT_EQ(list.status, 200) << list.text;
  ASSERT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.body["items"][0]["size"], c.size);
  EXPECT_EQ(list.body["items"][1]["size"], w_.Head());
  EXPECT_EQ(list.body["origin"], "test.example/log");
  // The people on the route do not read the whole log's tree.
  ExpectProblem(w_.Get("/api/v1/log/checkpoint", umc_), 403, "forbidden");
}

TEST_F(Proofs, InclusionAndConsistencyProofsVerifyAgainstTheSignedRoots) {
  ASSERT_TRUE(w_.checkpoints().Make());
  const note::Checkpoint first = Latest(auditor_);
  for (int i = 0; i < 3; ++i) Create(umc_);
  ASSERT_TRUE(w_.checkpoints().Make());
  const note::Checkpoint second = Latest(auditor_);
  const auto leaves = Leaves();
  for (std::uint64_t seq = 1; seq <= second.size; ++seq) {
    auto r = w_.Get("/api/v1/log/proof/inclusion?seq=" + std::to_string(seq), auditor_);
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tree_size"], second.size);
    EXPECT_TRUE(engine::VerifyInclusion(seq - 1, second.size, leaves[seq - 1],
                                        HashList(r.body["proof"]), second.root))
        << "seq " << seq;
  }
  auto old =
      w_.Get("/api/v1/log/proof/inclusion?seq=2&tree_size=" + std::to_string(first.size), irpo_);
  EXPECT_TRUE(
      engine::VerifyInclusion(1, first.size, leaves[1], HashList(old.body["proof"]), first.root));
  auto r = w_.Get("/api/v1/log/proof/consistency?from_size=" + std::to_string(first.size) +
                      "&to_size=" + std::to_string(second.size),
                  witness_);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_TRUE(engine::VerifyConsistency(first.size, second.size, first.root, second.root,
                                        HashList(r.body["proof"])));
  // Bad input changes nothing and says what is wrong.
  ExpectProblem(w_.Get("/api/v1/log/proof/inclusion?seq=0", auditor_), 400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/log/proof/inclusion?seq=" + std::to_string(second.size + 1) +
                           "&tree_size=" + std::to_string(second.size),
                       auditor_),
                400, "bad_request");
  ExpectProblem(w_.Get("/api/v1/log/proof/consistency?from_size=5&to_size=4", auditor_), 400,
                "bad_request");
  ExpectProblem(w_.Get("/api/v1/log/proof/consistency?from_size=1&to_size=100000", auditor_), 404,
                "not_found");
  // A witness proves consistency, never reads records.
  ExpectProblem(w_.Get("/api/v1/log/proof/inclusion?seq=1", witness_), 403, "forbidden");
}

TEST_F(Proofs, TilesAndEntryBundlesAreTheTlogTilesPaths) {
  ASSERT_TRUE(w_.checkpoints().Make());
  const std::uint64_t n = w_.Head();
  ASSERT_LT(n, 256u);
  const auto leaves = Leaves();
  auto tile = w_.Get("/api/v1/log/tile/0/000.p/" + std::to_string(n), auditor_);
  ASSERT_EQ(tile.status, 200) << tile.text;
  EXPECT_EQ(tile.content_type, "application/octet-stream");
  ASSERT_EQ(tile.text.size(), n * 32);
  for (std::uint64_t i = 0; i < n; ++i)
    EXPECT_EQ(tile.text.substr(i * 32, 32),
              std::string(reinterpret_cast<const char*>(leaves[i].data()), 32));
  auto bundle = w_.Get("/api/v1/log/tile/entries/000.p/" + std::to_string(n), auditor_);
  ASSERT_EQ(bundle.status, 200);
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    ASSERT_LE(at + 2, bundle.text.size());
    const std::size_t len = static_cast<unsigned char>(bundle.text[at]) << 8 |
                            static_cast<unsigned char>(bundle.text[at + 1]);
    EXPECT_EQ(engine::LeafHash(bundle.text.substr(at + 2, len)), leaves[i]);
    at += 2 + len;
  }
  EXPECT_EQ(at, bundle.text.size());
  // Not yet full, not there, malformed: 404.
  ExpectProblem(w_.Get("/api/v1/log/tile/0/000", auditor_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/log/tile/0/000.p/" + std::to_string(n + 1), auditor_), 404,
                "not_found");
  ExpectProblem(w_.Get("/api/v1/log/tile/0/0", auditor_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/log/tile/00/000.p/1", auditor_), 404, "not_found");
  ExpectProblem(w_.Get("/api/v1/log/tile/entries/000.p/1", witness_), 403, "forbidden");
}

TEST_F(Proofs, AWitnessCosignatureIsKeptAndServedOnlyWhenItVerifies) {
  ASSERT_TRUE(w_.checkpoints().Make());
  auto r = w_.Get("/api/v1/log/checkpoint", witness_);
  ASSERT_EQ(r.status, 200);
  auto n = note::ParseNote(r.text);
  ASSERT_TRUE(n);
  auto line = note::Cosign(w_.witness_key(), n->text, 1'770'000'000);
  ASSERT_TRUE(line);
  // From a witness the server was not given: refused, nothing kept.
  auto stranger = note::GenerateWitnessKey("witness.example/w2");
  auto strange = note::Cosign(*stranger, n->text, 1'770'000'000);
  ExpectProblem(
      w_.Post("/api/v1/log/cosignatures", witness_, {{"cosignature", n->text + "\n" + *strange}}),
      422, "validation_failed");
  // A cosignature of another root for the same size: refused.
  note::Checkpoint forged = *note::ParseCheckpoint(n->text);
  forged.root[0] ^= 1;
  const std::string forged_text = note::FormatCheckpoint(forged);
  ExpectProblem(
      w_.Post("/api/v1/log/cosignatures", witness_,
              {{"cosignature",
                forged_text + "\n" + *note::Cosign(w_.witness_key(), forged_text, 1'770'000'000)}}),
      422, "validation_failed");
  ExpectProblem(w_.Post("/api/v1/log/cosignatures", auditor_, {{"cosignature", r.text}}), 403,
                "forbidden");
  auto kept =
      w_.Post("/api/v1/log/cosignatures", witness_, {{"cosignature", n->text + "\n" + *line}});
  ASSERT_EQ(kept.status, 201) << kept.text;
  EXPECT_EQ(kept.body["witnesses"], json::array({"witness.example/w1"}));
  auto served = note::ParseNote(w_.Get("/api/v1/log/checkpoint", auditor_).text);
  ASSERT_TRUE(served);
  EXPECT_TRUE(note::VerifyNote(note::VerifierOf(w_.log_key()), *served));
  EXPECT_EQ(note::VerifyCosignature(note::VerifierOf(w_.witness_key()), *served), 1'770'000'000u);
}

TEST_F(Proofs, WhoeverSeesAnInstanceProvesItsHistoryIsInTheSignedLog) {
  const std::string id = Create(umc_);
  ASSERT_TRUE(w_.checkpoints().Make());
  auto r = w_.Get("/api/v1/proposals/" + id + "/events?proofs=true", umc_);
  ASSERT_EQ(r.status, 200) << r.text;
  auto n = note::ParseNote(r.body["checkpoint"].get<std::string>());
  ASSERT_TRUE(n);
  ASSERT_TRUE(note::VerifyNote(note::VerifierOf(w_.log_key()), *n));
  const note::Checkpoint c = *note::ParseCheckpoint(n->text);
  ASSERT_FALSE(r.body["events"].empty());
  for (const json& e : r.body["events"]) {
    const json& inc = e["inclusion"];
    ASSERT_TRUE(inc.is_object()) << e.dump();
    EXPECT_TRUE(engine::VerifyInclusion(inc["leaf_index"], c.size,
                                        engine::LeafHash(e["record"].get<std::string>()),
                                        HashList(inc["proof"]), c.root));
  }
  // An event after the checkpoint has no proof until the next one.
  ASSERT_EQ(w_.Post("/api/v1/proposals/" + id + "/commands", umc_,
                    {{"command", "update"},
                     {"expected_version", 1},
                     {"payload", {{"summary", "Уточнено"}}}})
                .status,
            200);
  r = w_.Get("/api/v1/proposals/" + id + "/events?proofs=true", umc_);
  EXPECT_TRUE(r.body["events"].back()["inclusion"].is_null()) << r.text;
  ExpectProblem(w_.Get("/api/v1/proposals/" + id + "/events?proofs=true", other_umc_), 404,
                "not_found");
}

}  // namespace
}  // namespace expertflow::testing
