// `expertflow witness` and `expertflow audit` against the real server: it signs checkpoints as
// events come, the witness cosigns them, the auditor verifies signature, cosignature,
// consistency, inclusion of single events and of an instance's history, and the replay.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/core/note.h"
#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

class ProofServer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("proof-server-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    data = dir / "data";
    const std::string d = " --data " + data.string();
    assoc = FirstLine(RunCli("token issue" + d + " --org assoc-05 --role association_member").out);
    auditor = FirstLine(RunCli("token issue" + d + " --org audit --role auditor").out);
    std::ofstream(dir / "witness.token")
        << FirstLine(RunCli("token issue" + d + " --org witness-org --role witness").out) << "\n";
    Output key =
        RunCli("witness keygen --name witness.example/w1 --out " + (dir / "witness.key").string());
    ASSERT_EQ(key.status, 0) << key.out;
    witness_vkey = FirstLine(key.out);
    Start();
    ASSERT_NE(port, 0) << ReadFile(dir / "server.log");
    Output show = RunCli("key show" + d);
    ASSERT_EQ(show.status, 0) << show.out;
    log_vkey = FirstLine(show.out);
    ::setenv("EXPERTFLOW_TOKEN", auditor.c_str(), 1);
  }
  void TearDown() override {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    fs::remove_all(dir);
  }

  void Start() {
    const fs::path log = dir / "server.log";
    pid = ::fork();
    if (pid == 0) {
      std::freopen(log.c_str(), "w", stdout);
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      ::execl(EXPERTFLOW_BINARY, EXPERTFLOW_BINARY, "serve", "--data", data.c_str(), "--listen",
              "127.0.0.1:0", "--log-level", "warn", "--origin", "test.example/log", "--witness",
              witness_vkey.c_str(), "--checkpoint-events", "1", "--checkpoint-interval", "PT1S",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 400 && port == 0; ++i) {
      std::smatch m;
      const std::string text = ReadFile(log);
      if (std::regex_search(text, m, listening))
        port = static_cast<std::uint16_t>(std::stoi(m[1]));
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }

  // Creates a proposal; its id.
  std::string Create() {
    const std::string r = Http(
        port, "POST", "/api/v1/proposals", assoc,
        R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"infrastructure","summary":"s"}})");
    EXPECT_EQ(StatusOf(r), 201) << r;
    auto j = nlohmann::json::parse(BodyOf(r), nullptr, false);
    return j.is_object() && j["id"].is_string() ? j["id"].get<std::string>() : "";
  }

  // Waits until the latest checkpoint covers the whole log; its size.
  std::uint64_t CheckpointOfHead() {
    for (int i = 0; i < 400; ++i) {
      const std::string head = Http(port, "GET", "/api/v1/audit/export?after=0&limit=1", auditor);
      std::smatch m;
      const std::regex seq("X-Head-Seq: ([0-9]+)", std::regex::icase);
      const std::string c = Http(port, "GET", "/api/v1/log/checkpoint", auditor);
      if (std::regex_search(head, m, seq) && StatusOf(c) == 200) {
        auto n = engine::note::ParseNote(BodyOf(c));
        if (n) {
          auto cp = engine::note::ParseCheckpoint(n->text);
          if (cp && cp->size == std::stoull(m[1])) return cp->size;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return 0;
  }

  Output Audit(const std::string& extra) {
    return RunCli("audit --url http://127.0.0.1:" + std::to_string(port) + " --key " + log_vkey +
                  " --state " + (dir / "auditor").string() + " " + extra);
  }
  Output Witness() {
    return RunCli("witness --once --url http://127.0.0.1:" + std::to_string(port) + " --log-key " +
                  log_vkey + " --key " + (dir / "witness.key").string() + " --token-file " +
                  (dir / "witness.token").string() + " --state " + (dir / "witness").string());
  }

  fs::path dir, data;
  std::string assoc, auditor, witness_vkey, log_vkey;
  pid_t pid = -1;
  std::uint16_t port = 0;
};

TEST_F(ProofServer, AWitnessCosignsAndAnAuditorVerifiesEverything) {
  const std::string first = Create();
  Create();
  const std::uint64_t size = CheckpointOfHead();
  ASSERT_GT(size, 0u);
  Output w = Witness();
  ASSERT_EQ(w.status, 0) << w.out;
  EXPECT_NE(w.out.find("cosigned test.example/log size " + std::to_string(size)), std::string::npos)
      << w.out;
  Output a = Audit("--witness " + witness_vkey + " --min-witnesses 1 --seq 1 --seq " +
                   std::to_string(size) + " --instance proposals/" + first + " --replay");
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_NE(a.out.find("witnesses: 1 of 1"), std::string::npos) << a.out;
  EXPECT_EQ(a.out.find(auditor), std::string::npos) << "the token was printed";

  // The log grows: both prove it extends what they kept.
  Create();
  const std::uint64_t grown = CheckpointOfHead();
  ASSERT_GT(grown, size);
  Output w2 = Witness();
  ASSERT_EQ(w2.status, 0) << w2.out;
  Output a2 = Audit("--witness " + witness_vkey + " --min-witnesses 1 --instance proposals/" +
                    first + " --replay");
  ASSERT_EQ(a2.status, 0) << a2.out;
  EXPECT_NE(a2.out.find("previous:  size " + std::to_string(size) + ", consistency proved"),
            std::string::npos)
      << a2.out;
}

}  // namespace
}  // namespace expertflow::testing
