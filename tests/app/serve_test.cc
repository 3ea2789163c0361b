// The `expertflow` binary as an operator runs it: tokens from the command line, a server that
// answers, logs without tokens, stops cleanly on SIGTERM with exit 0, and a store that verifies.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

TEST(ExpertflowBinary, ServesStopsCleanlyOnSigtermAndLogsNoToken) {
  const fs::path dir =
      fs::temp_directory_path() / ("expertflow-serve-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path data = dir / "data";
  const fs::path log = dir / "server.log";

  Output issued =
      RunCli("token issue --data " + data.string() + " --org assoc-05 --role association_member");
  ASSERT_EQ(issued.status, 0) << issued.out;
  const std::string token = issued.out.substr(0, issued.out.find('\n'));
  ASSERT_EQ(token.size(), 77u) << "the token alone on stdout";

  pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stdout);
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    ::execl(EXPERTFLOW_BINARY, EXPERTFLOW_BINARY, "serve", "--data", data.c_str(), "--listen",
            "127.0.0.1:0", "--clock", "manual", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::uint16_t port = 0;
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::smatch m;
    const std::string text = ReadFile(log);
    if (std::regex_search(text, m, listening))
      port = static_cast<std::uint16_t>(std::stoi(m[1]));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(port, 0) << ReadFile(log);
  EXPECT_TRUE(fs::exists(data / "admin.token")) << "the first start writes an admin token";
  EXPECT_EQ(fs::status(data / "admin.token").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  const std::string created = Http(
      port, "POST", "/api/v1/proposals", token,
      R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"infrastructure","summary":"s"}})");
  EXPECT_NE(created.find("201 Created"), std::string::npos) << created;
  EXPECT_NE(Http(port, "GET", "/api/v1/me", token).find("assoc-05"), std::string::npos);
  EXPECT_NE(Http(port, "GET", "/api/v1/me", "0123456789ab." + std::string(64, 'f')).find("401"),
            std::string::npos);

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the server must exit, not die";
  EXPECT_EQ(WEXITSTATUS(status), 0);

  const std::string text = ReadFile(log);
  const std::string admin = ReadFile(data / "admin.token");
  EXPECT_NE(text.find("access method=POST route=/api/v1/{c} status=201"), std::string::npos)
      << text;
  EXPECT_EQ(text.find(token.substr(13)), std::string::npos) << "a token's secret reached the log";
  EXPECT_EQ(text.find(admin.substr(13, 64)), std::string::npos)
      << "the admin token reached the log";
  EXPECT_EQ(text.find(std::string(64, 'f')), std::string::npos)
      << "a presented token reached the log";

  Output verified = RunCli("verify --data " + data.string());
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_NE(verified.out.find("ok: 1 events"), std::string::npos) << verified.out;
  Output exported = RunCli("export --data " + data.string());
  EXPECT_EQ(exported.status, 0);
  auto line = nlohmann::json::parse(exported.out.substr(0, exported.out.find('\n')));
  EXPECT_EQ(line["seq"], 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace expertflow::testing
