// A full disk and failing syncs under the RocksDB log (storage::DiskFaults): writes are refused
// with kUnavailable, nothing unacknowledged is kept, reads go on, and writing resumes once the
// disk takes writes again. Each test ends by reopening the store without faults and comparing it
// with what was acknowledged.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/disk_faults.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/temp_dir.h"

namespace expertflow::engine {
namespace {

using storage::DiskFaults;
using storage::RocksDbEventLog;
using testing::TempDir;

AppendBatch Batch(const std::string& stream, std::uint64_t expected, int n,
                  const std::string& tag) {
  AppendBatch b;
  StreamAppend part{stream, expected, {}};
  for (int i = 0; i < n; ++i) {
    NewEvent e;
    e.type = "ProposalDrafted";
    e.occurred_at = *ParseRfc3339("2026-03-01T09:00:00Z");
    e.actor = {"umc-05", "umc_lead", "t1"};
    e.command = "create";
    e.command_id = tag;
    e.data = R"({"tag":")" + tag + "\"}";
    part.events.push_back(std::move(e));
  }
  b.appends.push_back(std::move(part));
  b.writes.push_back({Space::kViews, "i/" + stream, tag});
  return b;
}

// Every record the log holds, in order.
std::vector<std::string> Records(const EventLog& log) {
  std::vector<std::string> out;
  EXPECT_TRUE(
      log.ForEach(1, log.GetHead().seq, [&](std::uint64_t, const Hash&, std::string_view record) {
        out.emplace_back(record);
        return true;
      }));
  return out;
}

class DiskFull : public ::testing::Test {
 protected:
  std::unique_ptr<RocksDbEventLog> OpenFaulty() {
    RocksDbEventLog::Options o;
    o.disk_faults = faults_;
    auto log = RocksDbEventLog::Open(dir_.str(), o);
    EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
    return log ? std::move(*log) : nullptr;
  }
  std::unique_ptr<RocksDbEventLog> OpenPlain() {
    auto log = RocksDbEventLog::Open(dir_.str(), {});
    EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
    return log ? std::move(*log) : nullptr;
  }
  // Appends and remembers the records when acknowledged.
  Result<AppendResult> Append(EventLog& log, const AppendBatch& b) {
    auto r = log.Append(b);
    if (r) {
      for (const auto& e : r->events) acknowledged_.push_back(e.record);
    }
    return r;
  }
  // The reopened store holds exactly what was acknowledged, chained, with its stream index.
  void ExpectExactlyTheAcknowledged(const EventLog& log) {
    EXPECT_EQ(Records(log), acknowledged_);
    EXPECT_EQ(log.GetHead().seq, acknowledged_.size());
    auto v = Verify(log);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << v->reason;
  }

  TempDir dir_;
  std::shared_ptr<DiskFaults> faults_ = std::make_shared<DiskFaults>();
  std::vector<std::string> acknowledged_;
};

TEST_F(DiskFull, RefusesWritesKeepsReadsAndRecoversWhenSpaceReturns) {
  auto log = OpenFaulty();
  ASSERT_TRUE(Append(*log, Batch("p/a", 0, 3, "a1")));
  const Head head = log->GetHead();

  faults_->SetFull(true);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto refused = Append(*log, Batch("p/a", 3, 2, "lost" + std::to_string(attempt)));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable) << refused.error().message;
    EXPECT_EQ(log->GetHead(), head);
    EXPECT_EQ(*log->StreamVersion("p/a"), 3u);
  }
  EXPECT_GT(faults_->refused(), 0u);
  // Reads go on while the disk is full.
  EXPECT_EQ(log->ReadStream("p/a", 1, 10)->size(), 3u);
  EXPECT_EQ(**log->Get(Space::kViews, "i/p/a"), "a1");
  EXPECT_TRUE(Verify(*log)->ok);

  faults_->SetFull(false);
  auto resumed = Append(*log, Batch("p/a", 3, 2, "a2"));
  ASSERT_TRUE(resumed) << resumed.error().ToString();
  EXPECT_EQ(resumed->events.front().seq, 4u);
  EXPECT_EQ(DecodeRecord(resumed->events.front().record)->prev_hash, head.hash);
  ASSERT_TRUE(Append(*log, Batch("p/b", 0, 1, "b1")));
  EXPECT_EQ(**log->Get(Space::kViews, "i/p/a"), "a2");
  ExpectExactlyTheAcknowledged(*log);

  log.reset();
  auto reopened = OpenPlain();
  ExpectExactlyTheAcknowledged(*reopened);
  EXPECT_EQ(*reopened->StreamVersion("p/a"), 5u);
  EXPECT_EQ(**reopened->Get(Space::kViews, "i/p/a"), "a2");
  ASSERT_TRUE(Append(*reopened, Batch("p/b", 1, 1, "b2")));
}

TEST_F(DiskFull, FillsAndEmptiesManyTimesWithoutLosingOrKeepingTooMuch) {
  auto log = OpenFaulty();
  std::uint64_t version = 0;
  for (int round = 0; round < 8; ++round) {
    const std::string r = std::to_string(round);
    ASSERT_TRUE(Append(*log, Batch("p/a", version, 2, "ok" + r)));
    version += 2;
    faults_->SetFull(true);
    ASSERT_FALSE(Append(*log, Batch("p/a", version, 3, "lost" + r)));
    ASSERT_FALSE(Append(*log, Batch("p/n" + r, 0, 1, "lost-new" + r)));
    faults_->SetFull(false);
  }
  ASSERT_TRUE(Append(*log, Batch("p/a", version, 1, "last")));
  log.reset();
  auto reopened = OpenPlain();
  ExpectExactlyTheAcknowledged(*reopened);
  for (int round = 0; round < 8; ++round)
    EXPECT_EQ(*reopened->StreamVersion("p/n" + std::to_string(round)), 0u);
}

// The failed write left half a record in the write-ahead log, and the process stops before the
// disk recovers: the reopened store ends at the last acknowledged batch.
TEST_F(DiskFull, ATornWriteIsNotThereAfterARestart) {
  auto log = OpenFaulty();
  ASSERT_TRUE(Append(*log, Batch("p/a", 0, 2, "a1")));
  faults_->SetFull(true);
  ASSERT_FALSE(Append(*log, Batch("p/a", 2, 4, "torn")));
  log.reset();
  faults_->SetFull(false);

  auto reopened = OpenPlain();
  ExpectExactlyTheAcknowledged(*reopened);
  EXPECT_EQ(*reopened->StreamVersion("p/a"), 2u);
  EXPECT_EQ(**reopened->Get(Space::kViews, "i/p/a"), "a1");
  ASSERT_TRUE(Append(*reopened, Batch("p/a", 2, 1, "a2")));
  ExpectExactlyTheAcknowledged(*reopened);
}

// The bytes of the failed batch reached the file but its sync failed. RocksDB will not trust that
// log file again in this process (what a failed fsync kept is unknown), so writes stay refused
// while reads go on; reopened, the store holds the failed batch whole or not at all, and the
// chain verifies either way. (A 503 means "not acknowledged", not "not written": a client that
// retries with its Idempotency-Key gets the first answer if the batch was kept.)
TEST_F(DiskFull, AFailedSyncRefusesWritesUntilReopenedAndLeavesAllOrNothing) {
  auto log = OpenFaulty();
  ASSERT_TRUE(Append(*log, Batch("p/a", 0, 2, "a1")));
  faults_->SetSyncFails(true);
  auto refused = Append(*log, Batch("p/maybe", 0, 3, "unsynced"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  faults_->SetSyncFails(false);
  auto still = Append(*log, Batch("p/a", 2, 1, "refused"));
  ASSERT_FALSE(still);
  EXPECT_EQ(still.error().code, ErrorCode::kUnavailable) << still.error().message;
  EXPECT_EQ(log->GetHead().seq, 2u);
  EXPECT_EQ(*log->StreamVersion("p/maybe"), 0u);
  EXPECT_FALSE(*log->Get(Space::kViews, "i/p/maybe"));
  EXPECT_EQ(log->ReadStream("p/a", 1, 10)->size(), 2u);
  EXPECT_TRUE(Verify(*log)->ok);
  log.reset();

  auto reopened = OpenPlain();
  auto v = Verify(*reopened);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  const std::uint64_t head = reopened->GetHead().seq;
  ASSERT_TRUE(head == 2u || head == 5u) << head;
  const bool kept = head == 5u;
  EXPECT_EQ(*reopened->StreamVersion("p/maybe"), kept ? 3u : 0u);
  EXPECT_EQ(reopened->Get(Space::kViews, "i/p/maybe")->has_value(), kept);
  auto records = Records(*reopened);
  records.resize(2);
  EXPECT_EQ(records, acknowledged_);
  auto next = reopened->Append(Batch("p/a", 2, 1, "a2"));
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(next->events.front().seq, head + 1);
  EXPECT_TRUE(Verify(*reopened)->ok);
}

}  // namespace
}  // namespace expertflow::engine
