// Signed checkpoints against the attacks of docs/audit.md: a history rewritten with its chain,
// tree and signature recomputed (with a new key, and with the stolen one), a truncation, and a
// record changed under a running server. The auditor here keeps an earlier checkpoint and checks
// only with the log's verifier key and the proofs, as `expertflow audit` does.
#include "engine/runtime/checkpoints.h"

#include <gtest/gtest.h>

#include "engine/log/memory_event_log.h"

namespace expertflow::engine {
namespace {

class FixedClock final : public Clock {
 public:
  Timestamp Now() const override { return *ParseRfc3339("2026-11-24T09:00:00Z"); }
};

void AppendEvents(EventLog& log, int from, int to, int altered = -1) {
  for (int i = from; i < to; ++i) {
    AppendBatch batch;
    NewEvent e;
    e.type = "ProposalDrafted";
    e.occurred_at = *ParseRfc3339("2026-11-20T10:00:00Z");
    e.actor = {"umc-05", "umc_lead", ""};
    e.command = "create";
    e.command_id = "c" + std::to_string(i);
    e.data = i == altered ? R"({"title":"переписано"})"
                          : R"({"title":"предложение )" + std::to_string(i) + R"("})";
    batch.appends.push_back({"proposals/p" + std::to_string(i), 0, {e}});
    ASSERT_TRUE(log.Append(batch));
  }
}

// What the auditor holds from last month: the checkpoint's size and root, and the log's key.
struct Kept {
  std::uint64_t size;
  Hash root;
};

// The auditor's check of a new checkpoint note against the kept one: the signature with the key
// it trusts, then a consistency proof from the log it is shown.
std::string Audit(const note::Verifier& key, const Kept& kept, const std::string& signed_note,
                  const EventLog& shown) {
  auto n = note::ParseNote(signed_note);
  if (!n || !note::VerifyNote(key, *n)) return "bad signature";
  auto c = note::ParseCheckpoint(n->text);
  if (!c) return "malformed";
  if (c->size < kept.size) return "rollback";
  auto proof = shown.Tree()->Consistency(kept.size, c->size);
  if (!proof || !VerifyConsistency(kept.size, c->size, kept.root, c->root, *proof))
    return "not consistent";
  return "ok";
}

class CheckpointsTest : public ::testing::Test {
 protected:
  FixedClock clock_;
  note::SigningKey key_ = *note::GenerateKey("audit.example/log");
  note::Verifier verifier_ = note::VerifierOf(key_);
};

TEST_F(CheckpointsTest, AnHonestLogExtendsWhatTheAuditorKept) {
  MemoryEventLog log;
  AppendEvents(log, 0, 10);
  Checkpoints checkpoints(log, key_, {}, clock_);
  auto first = checkpoints.Make();
  ASSERT_TRUE(first && *first);
  const Kept kept{(*first)->size, (*first)->root};
  AppendEvents(log, 10, 37);
  auto second = checkpoints.Make();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(Audit(verifier_, kept, (*second)->note, log), "ok");
  auto v = VerifyProofs(log, verifier_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->checkpoints, 2u);
  EXPECT_EQ(v->tree_size, 37u);
}

TEST_F(CheckpointsTest, ARewrittenHistoryIsCaughtByTheAuditorWhoKeptAnEarlierCheckpoint) {
  MemoryEventLog honest;
  AppendEvents(honest, 0, 10);
  Checkpoints signed_honestly(honest, key_, {}, clock_);
  auto first = signed_honestly.Make();
  ASSERT_TRUE(first && *first);
  const Kept kept{(*first)->size, (*first)->root};

  // The operator rebuilds the log with record 3 changed: chain and tree recomputed from scratch,
  // and everything after appended again.
  MemoryEventLog rewritten;
  AppendEvents(rewritten, 0, 20, /*altered=*/3);
  auto chain = Verify(rewritten);
  ASSERT_TRUE(chain);
  ASSERT_TRUE(chain->ok) << chain->reason;  // the chain alone holds

  // Signed with a new key: the signature does not verify with the key the auditor holds.
  Checkpoints new_key(rewritten, *note::GenerateKey("audit.example/log"), {}, clock_);
  auto forged = new_key.Make();
  ASSERT_TRUE(forged && *forged);
  EXPECT_EQ(Audit(verifier_, kept, (*forged)->note, rewritten), "bad signature");

  // Signed with the stolen key itself: the signature holds, the consistency proof cannot.
  AppendEvents(rewritten, 20, 21);
  Checkpoints stolen_key(rewritten, key_, {}, clock_);
  auto stolen = stolen_key.Make();
  ASSERT_TRUE(stolen && *stolen);
  EXPECT_EQ(Audit(verifier_, kept, (*stolen)->note, rewritten), "not consistent");
}

TEST_F(CheckpointsTest, TruncationAndRollbackAreCaught) {
  MemoryEventLog log;
  AppendEvents(log, 0, 30);
  Checkpoints checkpoints(log, key_, {}, clock_);
  auto made = checkpoints.Make();
  ASSERT_TRUE(made && *made);
  const Kept kept{(*made)->size, (*made)->root};

  // The log cut back to 20 events, its checkpoints copied beside it: verify sees that a kept
  // checkpoint is of a longer log.
  MemoryEventLog truncated;
  AppendEvents(truncated, 0, 20);
  AppendBatch copy;
  auto proofs = log.Scan(Space::kProofs, "", "", 100);
  ASSERT_TRUE(proofs);
  for (const auto& [k, v] : *proofs) copy.writes.push_back({Space::kProofs, k, v});
  ASSERT_TRUE(truncated.Append(copy));
  auto v = VerifyProofs(truncated, verifier_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_NE(v->reason.find("longer log"), std::string::npos) << v->reason;

  // The truncated log signs a checkpoint of its own (the operator deleted the old ones): a
  // smaller tree than the auditor kept is a rollback.
  MemoryEventLog rolled_back;
  AppendEvents(rolled_back, 0, 20);
  Checkpoints again(rolled_back, key_, {}, clock_);
  auto small = again.Make();
  ASSERT_TRUE(small && *small);
  EXPECT_EQ(Audit(verifier_, kept, (*small)->note, rolled_back), "rollback");
}

TEST_F(CheckpointsTest, ARecordChangedUnderTheServerFailsVerifyAndNoCheckpointIsSignedOverIt) {
  MemoryEventLog log;
  AppendEvents(log, 0, 12);
  Checkpoints checkpoints(log, key_, {}, clock_);
  ASSERT_TRUE(checkpoints.Make());
  log.TamperRecord(5, R"({"seq":5,"edited":true})");
  auto v = VerifyProofs(log, verifier_);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok);
  EXPECT_NE(v->reason.find("checkpoint 12"), std::string::npos) << v->reason;
  // Checkpoints signed with another key than the log's: verify names them.
  MemoryEventLog other;
  AppendEvents(other, 0, 4);
  Checkpoints foreign(other, *note::GenerateKey("audit.example/log"), {}, clock_);
  ASSERT_TRUE(foreign.Make());
  auto w = VerifyProofs(other, verifier_);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->ok);
  EXPECT_NE(w->reason.find("not signed"), std::string::npos) << w->reason;
}

TEST_F(CheckpointsTest, AnImportAdoptsOnlyCheckpointsOfItsOwnKeyAndRecords) {
  MemoryEventLog log;
  AppendEvents(log, 0, 9);
  Checkpoints checkpoints(log, key_, {}, clock_);
  auto made = checkpoints.Make();
  ASSERT_TRUE(made && *made);
  MemoryEventLog copy;
  AppendEvents(copy, 0, 9);
  Checkpoints adopted(copy, key_, {}, clock_);
  ASSERT_TRUE(adopted.Adopt({(*made)->note}, clock_.Now()));
  auto latest = adopted.Latest();
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->note, (*made)->note);
  MemoryEventLog changed;
  AppendEvents(changed, 0, 9, /*altered=*/2);
  Checkpoints refused(changed, key_, {}, clock_);
  EXPECT_FALSE(refused.Adopt({(*made)->note}, clock_.Now()));
  Checkpoints other_key(copy, *note::GenerateKey("audit.example/log"), {}, clock_);
  EXPECT_FALSE(other_key.Adopt({(*made)->note}, clock_.Now()));
}

}  // namespace
}  // namespace expertflow::engine
