// A full disk end to end: the API over the sequencer over the RocksDB log, whose files are
// written through storage::DiskFaults. While the disk is full every write answers
// 503 unavailable and reads answer as before; when space returns writes succeed again; reopened,
// the store holds every acknowledged command and none of the refused ones, and the chain verifies.
#include <gmock/gmock.h>

#include <atomic>
#include <set>
#include <thread>

#include "storage/disk_faults.h"
#include "storage/rocksdb_event_log.h"
#include "tests/api/api_harness.h"
#include "tests/storage/temp_dir.h"

namespace expertflow::testing {
namespace {

json Draft(const std::string& title) {
  return {{"workflow", "industry_proposal"},
          {"payload", {{"title", title}, {"topic", "standard_programme"}, {"summary", "s"}}}};
}

std::unique_ptr<storage::RocksDbEventLog> Open(const std::string& dir,
                                               std::shared_ptr<storage::DiskFaults> faults) {
  storage::RocksDbEventLog::Options o;
  o.disk_faults = std::move(faults);
  auto log = storage::RocksDbEventLog::Open(dir, o);
  EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
  return log ? std::move(*log) : nullptr;
}

// Every record of the log, joined: titles are unique, so a title is in the log iff its text is.
std::string AllRecords(const engine::EventLog& log) {
  std::string all;
  EXPECT_TRUE(log.ForEach(1, log.GetHead().seq,
                          [&](std::uint64_t, const engine::Hash&, std::string_view record) {
                            all.append(record);
                            all.push_back('\n');
                            return true;
                          }));
  return all;
}

TEST(DiskFullApi, WritesAre503WhileFullReadsGoOnAndNothingRefusedIsKept) {
  TempDir dir;
  auto faults = std::make_shared<storage::DiskFaults>();
  std::set<std::string> acknowledged, refused;
  std::vector<std::string> ids;
  {
    auto log = Open(dir.str(), faults);
    ApiWorld w(true, log.get());
    const std::string assoc = w.Token("assoc-05", "association_member");
    const std::string auditor = w.Token("audit", "auditor");
    for (int i = 0; i < 4; ++i) {
      const std::string title = "before-" + std::to_string(i);
      auto r = w.Post("/api/v1/proposals", assoc, Draft(title));
      ASSERT_EQ(r.status, 201) << r.text;
      ids.push_back(r.body["id"]);
      acknowledged.insert(title);
    }
    const auto head = w.Head();

    // given a full disk, when 8 clients keep writing
    faults->SetFull(true);
    std::atomic<int> unexpected{0};
    std::mutex mu;
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&, c] {
        for (int i = 0; i < 5; ++i) {
          const std::string title = "full-" + std::to_string(c) + "-" + std::to_string(i);
          auto r = w.Post("/api/v1/proposals", assoc, Draft(title));
          auto cmd = w.Post("/api/v1/proposals/" + ids[c % ids.size()] + "/commands", assoc,
                            {{"command", "submit_to_umc"}});
          std::lock_guard lock(mu);
          refused.insert(title);
          for (const Reply* reply : {&r, &cmd}) {
            if (reply->status != 503 || reply->body.value("code", "") != "unavailable") {
              ++unexpected;
              ADD_FAILURE() << reply->text;
            }
          }
        }
      });
    }
    for (auto& t : clients) t.join();
    // then every write was refused, the head did not move, and reads answer as before
    EXPECT_EQ(unexpected, 0);
    EXPECT_EQ(w.Head(), head);
    EXPECT_EQ(w.Post("/api/v1/tokens", w.admin(), {{"org", "x"}, {"role", "auditor"}}).status, 503);
    auto view = w.Get("/api/v1/proposals/" + ids[0], assoc);
    EXPECT_EQ(view.status, 200);
    EXPECT_EQ(view.body["state"], "drafting");
    EXPECT_EQ(view.body["version"], 1);
    EXPECT_EQ(w.Get("/api/v1/proposals", assoc).body["items"].size(), 4u);
    EXPECT_EQ(w.Get("/api/v1/proposals/" + ids[0] + "/events", assoc).body["events"].size(), 1u);
    auto verify = w.Get("/api/v1/audit/verify", auditor);
    EXPECT_EQ(verify.status, 200);
    EXPECT_EQ(verify.body["ok"], true);
    EXPECT_EQ(verify.body["head_seq"], head);

    // and readiness says why writes are refused
    auto not_ready = w.Get("/readyz", "");
    EXPECT_EQ(not_ready.status, 503) << not_ready.text;
    EXPECT_THAT(not_ready.body.value("detail", ""), ::testing::HasSubstr("writes are refused"));

    // when space returns, the store is ready again before any write comes (it tries to resume
    // once a second), and the next writes succeed
    faults->SetFull(false);
    int ready = 0;
    for (int i = 0; i < 100 && (ready = w.Get("/readyz", "").status) != 200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(ready, 200) << "still not ready 5 s after the disk had space again";
    EXPECT_EQ(w.Head(), head) << "becoming ready wrote nothing";
    auto cmd = w.Post("/api/v1/proposals/" + ids[0] + "/commands", assoc,
                      {{"command", "submit_to_umc"}, {"expected_version", 1}});
    ASSERT_EQ(cmd.status, 200) << cmd.text;
    EXPECT_EQ(cmd.body["events"][0]["seq"], head + 1);
    for (int i = 0; i < 4; ++i) {
      const std::string title = "after-" + std::to_string(i);
      auto r = w.Post("/api/v1/proposals", assoc, Draft(title));
      ASSERT_EQ(r.status, 201) << r.text;
      acknowledged.insert(title);
    }
    EXPECT_EQ(w.Get("/api/v1/proposals/" + ids[0], assoc).body["state"], "umc_review");
    w.sequencer().Stop();
  }

  // The store reopened: every acknowledged title, no refused one, chain verified, views equal to
  // what the log says.
  auto log = Open(dir.str(), nullptr);
  auto verified = engine::Verify(*log);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->reason;
  const std::string all = AllRecords(*log);
  for (const auto& t : acknowledged) EXPECT_THAT(all, ::testing::HasSubstr(t));
  for (const auto& t : refused) EXPECT_THAT(all, ::testing::Not(::testing::HasSubstr(t)));
  EXPECT_EQ(*log->StreamVersion("proposals/" + ids[0]), 2u);
  for (std::size_t i = 1; i < ids.size(); ++i)
    EXPECT_EQ(*log->StreamVersion("proposals/" + ids[i]), 1u);
  ApiWorld w(true, log.get());
  const std::string assoc = w.Token("assoc-05", "association_member");
  EXPECT_EQ(w.Get("/api/v1/proposals", assoc).body["items"].size(), 8u);
  EXPECT_EQ(w.Get("/api/v1/proposals/" + ids[0], assoc).body["state"], "umc_review");
}

// A failed sync: the command is answered 503 and writes stay refused until the server restarts;
// after the restart the instance is there whole or not at all, and writing goes on.
TEST(DiskFullApi, AFailedSyncIs503UntilRestartThenAllOrNothing) {
  TempDir dir;
  auto faults = std::make_shared<storage::DiskFaults>();
  {
    auto log = Open(dir.str(), faults);
    ApiWorld w(true, log.get());
    const std::string assoc = w.Token("assoc-05", "association_member");
    ASSERT_EQ(w.Post("/api/v1/proposals", assoc, Draft("kept")).status, 201);
    faults->SetSyncFails(true);
    EXPECT_EQ(w.Post("/api/v1/proposals", assoc, Draft("unsynced")).status, 503);
    faults->SetSyncFails(false);
    EXPECT_EQ(w.Post("/api/v1/proposals", assoc, Draft("refused")).status, 503);
    // A failed sync is never resumed: not ready, and saying why, however long one waits.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto not_ready = w.Get("/readyz", "");
    EXPECT_EQ(not_ready.status, 503) << not_ready.text;
    EXPECT_THAT(not_ready.body.value("detail", ""), ::testing::HasSubstr("the last write failed"));
    EXPECT_EQ(w.Get("/api/v1/proposals", assoc).body["items"].size(), 1u);
    w.sequencer().Stop();
  }
  auto log = Open(dir.str(), nullptr);
  EXPECT_TRUE(engine::Verify(*log)->ok);
  const std::string all = AllRecords(*log);
  EXPECT_THAT(all, ::testing::Not(::testing::HasSubstr("refused")));
  const bool kept = all.find("unsynced") != std::string::npos;
  ApiWorld w(true, log.get());
  EXPECT_EQ(w.Get("/readyz", "").status, 200) << "ready once restarted";
  const std::string assoc = w.Token("assoc-05", "association_member");
  auto list = w.Get("/api/v1/proposals", assoc);
  ASSERT_EQ(list.body["items"].size(), kept ? 2u : 1u);
  ASSERT_EQ(w.Post("/api/v1/proposals", assoc, Draft("after")).status, 201);
  EXPECT_TRUE(engine::Verify(*log)->ok);
}

}  // namespace
}  // namespace expertflow::testing
