// Online backup (issue 20): `expertflow backup --url` asks a running server for a consistent copy
// of its store while writes go on; the copy verifies, serves, keeps the tokens and the signing
// key, and holds exactly the head it reported. Who may ask, and what a wrong request gets.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

namespace fs = std::filesystem;

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

constexpr const char* kDraft =
    R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"infrastructure","summary":"s"}})";

class OnlineBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("expertflow-backup-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    data = dir / "data";
    const std::string d = " --data " + data.string();
    assoc = FirstLine(RunCli("token issue" + d + " --org assoc-05 --role association_member").out);
    admin = FirstLine(RunCli("token issue" + d + " --org irpo --role admin").out);
    std::ofstream(dir / "admin.token") << admin << "\n";
    std::ofstream(dir / "assoc.token") << assoc << "\n";
    server = StartServer(data, dir / "server.log");
    ASSERT_NE(server.port, 0) << ReadFile(dir / "server.log");
    url = "http://127.0.0.1:" + std::to_string(server.port);
  }
  void TearDown() override {
    Stop();
    fs::remove_all(dir);
  }
  void Stop() {
    if (server.pid > 0) {
      ::kill(server.pid, SIGTERM);
      ::waitpid(server.pid, nullptr, 0);
      server.pid = -1;
    }
  }
  int Draft() { return StatusOf(Http(server.port, "POST", "/api/v1/proposals", assoc, kDraft)); }

  fs::path dir, data;
  std::string assoc, admin, url;
  ServerProcess server;
};

TEST_F(OnlineBackup, TheRunningServerWritesACopyThatVerifiesAndServes) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Draft(), 201);
  // Writes go on while the backup is made; none of them is refused.
  std::atomic<bool> writing = true;
  std::atomic<int> written = 0, refused = 0;
  std::thread writer([&] {
    while (writing) (Draft() == 201 ? written : refused)++;
  });
  Output made = RunCli("backup --url " + url + " --token-file " + (dir / "admin.token").string() +
                       " --label nightly");
  writing = false;
  writer.join();
  ASSERT_EQ(made.status, 0) << made.out;
  EXPECT_EQ(refused, 0);
  EXPECT_NE(made.out.find("written by the server to"), std::string::npos) << made.out;
  // The answer names the copy beside the data folder, and its head.
  auto answer = nlohmann::json::parse(
      BodyOf(Http(server.port, "POST", "/api/v1/admin/backup", admin, R"({"label":"second"})")));
  ASSERT_TRUE(answer.contains("path")) << answer;
  EXPECT_EQ(fs::path(answer["path"].get<std::string>()).parent_path(), dir / "data-backups");
  EXPECT_TRUE(answer["name"].get<std::string>().ends_with("-second")) << answer;
  const std::uint64_t head_seq = answer["head_seq"];
  const std::string head_hash = answer["head_hash"];
  EXPECT_GE(head_seq, 3u + static_cast<std::uint64_t>(written));
  Stop();

  const fs::path copy = answer["path"].get<std::string>();
  Output verified = RunCli("verify --data " + copy.string());
  ASSERT_EQ(verified.status, 0) << verified.out;
  EXPECT_NE(verified.out.find(head_hash), std::string::npos) << verified.out;
  // The same signing key: a restored store signs on as the same log.
  EXPECT_EQ(RunCli("key show --data " + copy.string()).out,
            RunCli("key show --data " + data.string()).out);
  // Restored: the tokens are there, and so is every draft acknowledged before the backup.
  ServerProcess restored = StartServer(copy, dir / "restored.log");
  ASSERT_NE(restored.port, 0) << ReadFile(dir / "restored.log");
  const std::string list = Http(restored.port, "GET", "/api/v1/proposals?limit=500", assoc);
  EXPECT_EQ(StatusOf(list), 200) << list;
  const auto items = nlohmann::json::parse(BodyOf(list))["items"];
  EXPECT_GE(items.size(), 3u + static_cast<std::size_t>(written));
  ::kill(restored.pid, SIGTERM);
  ::waitpid(restored.pid, nullptr, 0);
  // Both backups are in the folder; the labelled one by its name.
  int backups = 0;
  bool nightly = false;
  for (const auto& e : fs::directory_iterator(dir / "data-backups")) {
    ++backups;
    nightly = nightly || e.path().filename().string().ends_with("-nightly");
  }
  EXPECT_EQ(backups, 2);
  EXPECT_TRUE(nightly);
}

TEST_F(OnlineBackup, OnlyAnAdminAsksAndABadRequestChangesNothing) {
  const std::string forbidden = Http(server.port, "POST", "/api/v1/admin/backup", assoc, "{}");
  EXPECT_EQ(StatusOf(forbidden), 403) << forbidden;
  Output cli = RunCli("backup --url " + url + " --token-file " + (dir / "assoc.token").string());
  EXPECT_EQ(cli.status, 1) << cli.out;
  EXPECT_NE(cli.out.find("403"), std::string::npos) << cli.out;
  for (const char* body : {R"({"label":"../up"})", R"({"label":7})", R"({"where":"/tmp"})"}) {
    const std::string bad = Http(server.port, "POST", "/api/v1/admin/backup", admin, body);
    EXPECT_EQ(StatusOf(bad), 422) << body << "\n" << bad;
  }
  EXPECT_FALSE(fs::exists(dir / "data-backups"));
  // The store a server holds is not copied offline; the message says how to ask the server.
  Output offline = RunCli("backup --data " + data.string() + " --to " + (dir / "x").string());
  EXPECT_EQ(offline.status, 1) << offline.out;
  EXPECT_NE(offline.out.find("--url"), std::string::npos) << offline.out;
  // One of --to and --url.
  EXPECT_EQ(RunCli("backup --data " + data.string()).status, 2);
  EXPECT_EQ(RunCli("backup --to x --url " + url).status, 2);
  EXPECT_EQ(RunCli("backup --url ftp://nowhere").status, 2);
}

}  // namespace
}  // namespace expertflow::testing
