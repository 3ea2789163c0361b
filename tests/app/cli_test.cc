// The command line's help: each subcommand shows its own options, and a word that names no
// subcommand is a usage error even with --help after it (issue 19).
#include <gtest/gtest.h>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

TEST(CommandLine, HelpListsEverySubcommandWithWhatItDoes) {
  Output help = RunCli("--help");
  EXPECT_EQ(help.status, 0) << help.out;
  for (const char* sub : {"serve", "token", "verify", "export", "import", "backup", "rebuild", "audit",
                          "witness"})
    EXPECT_NE(help.out.find(sub), std::string::npos) << sub << " missing from:\n" << help.out;
  EXPECT_NE(help.out.find("Recompute the hash chain"), std::string::npos) << help.out;
}

TEST(CommandLine, ASubcommandsHelpShowsItsOwnOptions) {
  Output imp = RunCli("import --help");
  EXPECT_EQ(imp.status, 0) << imp.out;
  EXPECT_NE(imp.out.find("--expect-head"), std::string::npos) << imp.out;
  EXPECT_EQ(imp.out.find("--listen"), std::string::npos) << "serve's option in import's help";
  Output issue = RunCli("token issue --help");
  EXPECT_EQ(issue.status, 0) << issue.out;
  EXPECT_NE(issue.out.find("--role"), std::string::npos) << issue.out;
}

TEST(CommandLine, AnUnknownSubcommandIsAUsageErrorEvenWithHelp) {
  for (const char* args : {"attest --help", "attest", "token mint --help", "token mint"}) {
    Output o = RunCli(args);
    EXPECT_EQ(o.status, 2) << args << ":\n" << o.out;
    EXPECT_NE(o.out.find("no command"), std::string::npos) << args << ":\n" << o.out;
    EXPECT_EQ(o.out.find("Usage:"), std::string::npos) << args << " printed a help:\n" << o.out;
  }
  Output mint = RunCli("token mint --help");
  EXPECT_NE(mint.out.find("issue, list, revoke"), std::string::npos) << mint.out;
}

TEST(CommandLine, ServeRefusesAnIdempotencyRetentionItCannotKeep) {
  for (const char* bad : {"PT0S", "PT30S", "24h", "P1M"}) {
    Output o = RunCli(std::string("serve --data never-created --idempotency-retention ") +
                      bad);
    EXPECT_EQ(o.status, 2) << bad << ":\n" << o.out;
    EXPECT_NE(o.out.find("--idempotency-retention"), std::string::npos) << bad << ":\n" << o.out;
  }
  Output help = RunCli("serve --help");
  EXPECT_NE(help.out.find("--idempotency-retention"), std::string::npos) << help.out;
}

// Issue 20: what an operator's scripts rely on.
TEST(CommandLine, VersionAndHelpAnswerAndUsageErrorsExitTwoWithTheSubcommandsUsage) {
  Output version = RunCli("--version");
  EXPECT_EQ(version.status, 0) << version.out;
  EXPECT_EQ(version.out.rfind("expertflow ", 0), 0u) << version.out;
  Output help = RunCli("help import");
  EXPECT_EQ(help.status, 0) << help.out;
  EXPECT_NE(help.out.find("--expect-head"), std::string::npos) << help.out;
  EXPECT_NE(RunCli("help").out.find("witness"), std::string::npos);
  EXPECT_EQ(RunCli("help attest").status, 2);
  for (const char* bad : {"verify --bogus", "serve --threads -3", "token issue --org umc-01",
                          "export --after minus"}) {
    Output o = RunCli(bad);
    EXPECT_EQ(o.status, 2) << bad << ":\n" << o.out;
    EXPECT_NE(o.out.find("Usage:"), std::string::npos) << bad << " showed no usage:\n" << o.out;
  }
}

TEST(CommandLine, ServeOnABusyPortFailsBeforeCreatingAnything) {
  const int busy = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(busy, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const fs::path data =
      fs::temp_directory_path() / ("expertflow-busy-" + std::to_string(::getpid()));
  fs::remove_all(data);
  Output o = RunCli("serve --data " + data.string() + " --listen 127.0.0.1:" +
                    std::to_string(ntohs(addr.sin_port)));
  ::close(busy);
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_NE(o.out.find("cannot listen"), std::string::npos) << o.out;
  EXPECT_FALSE(fs::exists(data)) << "a server that could not listen created its data folder";
  fs::remove_all(data);
}

}  // namespace
}  // namespace expertflow::testing
