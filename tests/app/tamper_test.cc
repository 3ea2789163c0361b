// Tampering behind the server's back: one stored record altered through RocksDB. `verify` names
// that seq, and the server refuses to start writing on the broken chain unless told to.
#include <gtest/gtest.h>

#include "storage/rocksdb_event_log.h"
#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

namespace fs = std::filesystem;

TEST(Tampering, VerifyNamesTheSeqAndTheServerRefusesToStart) {
  const fs::path dir =
      fs::temp_directory_path() / ("expertflow-tamper-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path data = dir / "data";
  ASSERT_TRUE(MakeStoreWithDrafts(data, dir / "first.log", 5));

  {  // Someone edits seq 3's record in the store; its stored hash stays as it was.
    auto log = storage::RocksDbEventLog::Open(data.string(), {});
    ASSERT_TRUE(log);
    std::string record = (*log)->ReadAll(3, 1)->front().record;
    record.replace(record.find("\"title\":\"t\""), 11, "\"title\":\"x\"");
    ASSERT_TRUE((*log)->TamperRecordForTesting(3, record));
  }
  Output verified = RunCli("verify --data " + data.string());
  EXPECT_NE(verified.status, 0);
  EXPECT_NE(verified.out.find("BROKEN at seq 3"), std::string::npos) << verified.out;

  Output refused = RunCli("serve --data " + data.string() + " --listen 127.0.0.1:0");
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.out.find("broken at seq 3"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("refusing to serve"), std::string::npos) << refused.out;

  // Told explicitly, it serves (an operator investigating), and says what it found.
  ServerProcess forced = [&] {
    ServerProcess s;
    s.pid = ::fork();
    if (s.pid == 0) {
      std::freopen((dir / "forced.log").c_str(), "w", stdout);
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      ::execl(EXPERTFLOW_BINARY, EXPERTFLOW_BINARY, "serve", "--data", data.c_str(), "--listen",
              "127.0.0.1:0", "--allow-broken-chain", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return s;
  }();
  bool listening = false;
  for (int i = 0; i < 200 && !listening; ++i) {
    listening = ReadFile(dir / "forced.log").find("listening on") != std::string::npos;
    if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(listening) << ReadFile(dir / "forced.log");
  ::kill(forced.pid, SIGTERM);
  ::waitpid(forced.pid, nullptr, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace expertflow::testing
