// Crash consistency end to end: concurrent HTTP commands against the real server, SIGKILL at
// random moments, restart. Every command that got a 2xx must be in the log, the chain must
// verify, the stored views must equal a fresh rebuild, and deadlines must fire once.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Acknowledged {
  std::mutex mu;
  std::set<std::string> created;                             // instance ids
  std::set<std::pair<std::string, std::uint64_t>> versions;  // (id, version) of 2xx commands
};

void Client(std::uint16_t port, const std::string& assoc, const std::string& umc, int seed,
            std::atomic<bool>& stop, Acknowledged& acked) {
  for (int n = 0; !stop; ++n) {
    const std::string created =
        Http(port, "POST", "/api/v1/proposals", assoc,
             R"({"workflow":"industry_proposal","payload":{"title":"c)" + std::to_string(seed) +
                 "-" + std::to_string(n) +
                 R"(","topic":"infrastructure","summary":"s","ugps":["09.00.00"]}})");
    if (StatusOf(created) != 201) return;  // the server is gone
    const std::string id = json::parse(BodyOf(created))["id"];
    {
      std::lock_guard lock(acked.mu);
      acked.created.insert(id);
      acked.versions.insert({id, 1});
    }
    const std::string path = "/api/v1/proposals/" + id + "/commands";
    for (
        auto [token, body] :
        {std::pair{assoc, std::string(R"({"command":"submit_to_umc"})")},
         std::pair{
             umc,
             std::string(
                 R"({"command":"send_to_expertise","payload":{"experts":{"fumo":["fumo-09.00.00"]}}})")}}) {
      const std::string r = Http(port, "POST", path, token, body);
      if (StatusOf(r) != 200) return;
      std::lock_guard lock(acked.mu);
      acked.versions.insert({id, json::parse(BodyOf(r))["version"].get<std::uint64_t>()});
    }
  }
}

TEST(CrashConsistency, NothingAcknowledgedIsLostAcrossTwentyKills) {
  const fs::path dir =
      fs::temp_directory_path() / ("expertflow-crash-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path data = dir / "data";
  const std::string assoc =
      RunCli("token issue --data " + data.string() + " --org assoc-05 --role association_member")
          .out.substr(0, 77);
  const std::string umc =
      RunCli("token issue --data " + data.string() + " --org umc-05 --role umc_lead")
          .out.substr(0, 77);
  Acknowledged acked;
  std::mt19937 rng(20241023);
  constexpr int kKills = 20;
  for (int kill = 0; kill < kKills; ++kill) {
    ServerProcess server = StartServer(data, dir / ("server-" + std::to_string(kill) + ".log"));
    ASSERT_NE(server.port, 0) << ReadFile(dir / ("server-" + std::to_string(kill) + ".log"));
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 6; ++c) {
      clients.emplace_back(Client, server.port, assoc, umc, kill * 100 + c, std::ref(stop),
                           std::ref(acked));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 300));
    ::kill(server.pid, SIGKILL);
    int status = 0;
    ::waitpid(server.pid, &status, 0);
    stop = true;
    for (auto& t : clients) t.join();
  }
  ASSERT_GT(acked.created.size(), 20u) << "the clients must have been acknowledged often";

  // The chain holds, and every acknowledged write is in the log.
  Output verified = RunCli("verify --data " + data.string());
  ASSERT_EQ(verified.status, 0) << verified.out;
  Output exported = RunCli("export --data " + data.string());
  ASSERT_EQ(exported.status, 0);
  std::set<std::pair<std::string, std::uint64_t>> in_log;
  std::uint64_t events = 0, drafted = 0;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    auto record = json::parse(json::parse(line)["record"].get<std::string>());
    const std::string stream = record["stream"];
    in_log.insert({stream.substr(stream.find('/') + 1), record["version"].get<std::uint64_t>()});
    ++events;
    if (record["type"] == "ProposalDrafted") ++drafted;
  }
  for (const auto& v : acked.versions) {
    EXPECT_TRUE(in_log.contains(v))
        << "acknowledged " << v.first << " v" << v.second << " is missing";
  }

  // The stored views lag behind the log after a kill (they follow it from a checkpoint): a start
  // replays what they lack, and a clean stop writes them. Then they are exactly what a rebuild
  // from the log gives; the stage statistics are rebuilt beside them and saved for the next start.
  {
    ServerProcess caught_up = StartServer(data, dir / "caught-up.log");
    ASSERT_NE(caught_up.port, 0) << ReadFile(dir / "caught-up.log");
    ::kill(caught_up.pid, SIGTERM);
    int status = 0;
    ::waitpid(caught_up.pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  Output rebuilt = RunCli("rebuild --data " + data.string() + " --projection all");
  ASSERT_EQ(rebuilt.status, 0) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find(" 0 views differed from the rebuilt ones, 0 had no instance"),
            std::string::npos)
      << rebuilt.out;
  EXPECT_NE(rebuilt.out.find("stage_statistics: replayed " + std::to_string(events) + " events"),
            std::string::npos)
      << rebuilt.out;

  // Deadlines survived the kills and fire once: 30 days on, each proposal in expertise is
  // overdue exactly once, however often the clock is moved.
  ServerProcess server = StartServer(data, dir / "final.log");
  ASSERT_NE(server.port, 0);
  const std::string admin = ReadFile(data / "admin.token").substr(0, 77);
  // The server starts from the rebuilt statistics: every drafted proposal entered the first stage.
  const std::string stages =
      Http(server.port, "GET", "/api/v1/stats/stages?workflow=industry_proposal", admin);
  ASSERT_EQ(StatusOf(stages), 200) << stages;
  const json by_stage = json::parse(stages.substr(stages.find("\r\n\r\n") + 4));
  EXPECT_EQ(by_stage["as_of_seq"], events);
  EXPECT_EQ(by_stage["stages"][0]["entered"], drafted) << by_stage.dump();
  for (const char* step : {R"({"advance":"P31D"})", R"({"advance":"P1D"})"}) {
    EXPECT_EQ(StatusOf(Http(server.port, "POST", "/api/v1/admin/clock", admin, step)), 200);
  }
  ::kill(server.pid, SIGTERM);
  int status = 0;
  ::waitpid(server.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  exported = RunCli("export --data " + data.string());
  std::map<std::string, int> overdue, in_expertise;
  std::istringstream again(exported.out);
  for (std::string line; std::getline(again, line);) {
    auto record = json::parse(json::parse(line)["record"].get<std::string>());
    if (record["type"] == "ExpertiseOverdue") ++overdue[record["stream"]];
    if (record["type"] == "ProposalSentToExpertise") ++in_expertise[record["stream"]];
  }
  EXPECT_FALSE(in_expertise.empty());
  for (const auto& [stream, n] : in_expertise) EXPECT_EQ(overdue[stream], 1) << stream;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace expertflow::testing
