// `expertflow serve --demo`: seeds 002 and 003 registered as written, their assignees reporting
// on time, late, returned, unreviewed and never, and the figures downloadable.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

using nlohmann::json;

TEST(ExpertflowDemo, RegistersSeeds002And003AndReportsOnThem) {
  // given a demo on an empty store
  const fs::path dir =
      fs::temp_directory_path() / ("expertflow-demo-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path log = dir / "server.log";
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stdout);
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    ::execl(EXPERTFLOW_BINARY, EXPERTFLOW_BINARY, "serve", "--demo", "--data",
            (dir / "data").c_str(), "--listen", "127.0.0.1:0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::uint16_t port = 0;
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  // The demo drives some 30,000 commands before it listens: seconds in the optimised build, a few
  // minutes under the sanitizers on two shared cores. Ten minutes at most (ctest's own timeout
  // is longer).
  for (int i = 0; i < 12000 && port == 0; ++i) {
    std::smatch m;
    const std::string text = ReadFile(log);
    if (std::regex_search(text, m, listening))
      port = static_cast<std::uint16_t>(std::stoi(m[1]));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string text = ReadFile(log);
  if (port == 0) {  // never listening: no server is left behind
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ASSERT_NE(port, 0) << text;

  // then every command was accepted, and both protocols made their assignments (1550 + 2493,
  // tests/fixtures/protocols/README.md)
  EXPECT_NE(text.find(" (0 refused)"), std::string::npos) << text;
  EXPECT_NE(text.find("demo: 2 protocols, 4043 assignments: "), std::string::npos) << text;
  std::smatch irpo;
  ASSERT_TRUE(
      std::regex_search(text, irpo, std::regex("IRPO analyst \\(irpo, irpo_staff\\): (\\S+)")));
  const std::string token = irpo[1];

  // and the discipline table holds every outcome for each protocol
  const std::string answer = Http(port, "GET", "/api/v1/stats/discipline?group_by=protocol", token);
  ASSERT_EQ(StatusOf(answer), 200) << answer;
  const json table = json::parse(BodyOf(answer));
  std::map<std::string, json> by_number;
  for (const auto& row : table["items"]) by_number[row["protocol_number"]] = row;
  ASSERT_EQ(by_number.size(), 2u) << table.dump();
  EXPECT_EQ(by_number["Д05-98/05пр"]["assigned"], 1550);
  EXPECT_EQ(by_number["Д05-78/05пр"]["assigned"], 2493);
  for (const auto& [number, row] : by_number) {
    for (const char* figure :
         {"done_on_time", "done_late", "open", "overdue", "awaiting_review", "periods_missed"}) {
      EXPECT_GT(row[figure].get<int>(), 0) << number << " " << figure;
    }
  }
  const json& series = by_number["Д05-78/05пр"];
  EXPECT_GT(series["periods_due"].get<int>(), series["assigned"].get<int>())
      << "seed 003's weekly and daily series count their periods";

  // and the same table downloads as a workbook
  const std::string xlsx = Http(port, "GET", "/api/v1/stats/discipline?format=xlsx", token);
  EXPECT_EQ(StatusOf(xlsx), 200);
  EXPECT_NE(xlsx.find("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            std::string::npos);
  EXPECT_TRUE(BodyOf(xlsx).starts_with(std::string("PK\x03\x04", 4)));

  // and /metrics counts the demo's events with the server's, shows the work in progress it left,
  // and is what Prometheus's own checker accepts
  const std::string metrics = BodyOf(Http(port, "GET", "/metrics", ""));
  auto sample = [&](const std::string& series) {
    std::smatch m;
    const std::regex line("\n" + std::regex_replace(series, std::regex(R"([{}.+])"), R"(\$&)") +
                          " ([0-9.e+]+)\n");
    return std::regex_search(metrics, m, line) ? std::stod(m[1]) : -1.0;
  };
  const double head = sample("expertflow_log_head_seq");
  EXPECT_GT(head, 30000) << metrics;
  EXPECT_EQ(sample("expertflow_events_appended_total"), head);
  EXPECT_GT(sample("expertflow_batches_total"), 0);
  EXPECT_GT(sample("expertflow_instances_in_progress{workflow=\"protocol_assignment\","
                   "stage=\"in_progress\"}"),
            0)
      << metrics;
  EXPECT_GT(sample("expertflow_instances_overdue{workflow=\"protocol_assignment\","
                   "stage=\"in_progress\"}"),
            0);
  const fs::path scraped = dir / "metrics.txt";
  std::ofstream(scraped) << metrics;
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    FILE* lint = ::popen(("promtool check metrics < " + scraped.string() + " 2>&1").c_str(), "r");
    std::string said;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, lint)) > 0;) said.append(buf, n);
    const int status = ::pclose(lint);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said;
  } else {
    ADD_FAILURE() << "promtool is missing (scripts/setup.sh installs it)";
  }

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace expertflow::testing
