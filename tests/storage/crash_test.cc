// Kill -9 a writer at random moments: every acknowledged event must be there after reopening,
// the chain must verify, and nothing after the head may be half written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "storage/rocksdb_event_log.h"
#include "tests/storage/temp_dir.h"

namespace expertflow::storage {
namespace {

struct ChildRun {
  std::uint64_t acknowledged = 0;  // the highest head seq the child reported
  int lines = 0;
};

// When a kill's moment is counted from. A sanitizer build opens the store ten times slower than an
// optimised one (hundreds of milliseconds on a fresh store), so moments counted from the start
// alone may all fall before the first write: half of the kills count from the child's first
// acknowledgement instead, and every build kills children in the middle of writing.
enum class From { kStart, kFirstAcknowledgement };

// Starts the child on `dir`, reads its acknowledgements for `run_for` (counted from `from`),
// then SIGKILLs it.
ChildRun RunAndKill(const std::string& dir, std::uint64_t seed, std::chrono::milliseconds run_for,
                    From from) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    const std::string s = std::to_string(seed);
    ::execl(LOG_CRASH_CHILD, LOG_CRASH_CHILD, dir.c_str(), s.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  ChildRun run;
  std::string pending;
  auto deadline = std::chrono::steady_clock::now() + run_for;
  auto consume = [&](const char* buf, ssize_t n) {
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      run.acknowledged =
          std::max<std::uint64_t>(run.acknowledged, std::stoull(pending.substr(0, nl)));
      ++run.lines;
      pending.erase(0, nl + 1);
    }
  };
  char buf[4096];
  if (from == From::kFirstAcknowledgement) {
    // However slow the build, the first write comes within this bound or the child is broken.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (run.lines == 0 && std::chrono::steady_clock::now() < give_up) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        consume(buf, n);
      }
    }
    EXPECT_GT(run.lines, 0) << "the child acknowledged nothing within 60 s";
    deadline = std::chrono::steady_clock::now() + run_for;
  }
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 1) > 0) {
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      consume(buf, n);
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // What the child printed before dying was acknowledged too.
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) consume(buf, n);
  ::close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child must have been killed, not have failed";
  return run;
}

TEST(CrashTest, EveryAcknowledgedEventSurvivesSigkill) {
  std::mt19937_64 rng(424242);
  constexpr int kKills = 24;
  testing::TempDir dir;
  std::uint64_t total_acknowledged = 0;
  for (int i = 0; i < kKills; ++i) {
    // Kill moments from a few to a few hundred milliseconds into the run (the odd kills: into its
    // writing); the same store is reopened and extended by each new child, so later kills also
    // cover recovery of recovery.
    const auto run_for = std::chrono::milliseconds(5 + rng() % 250);
    ChildRun run = RunAndKill(dir.str(), rng(), run_for,
                              i % 2 == 0 ? From::kStart : From::kFirstAcknowledgement);
    auto log = RocksDbEventLog::Open(dir.str(), {});
    ASSERT_TRUE(log) << "kill " << i << ": " << log.error().ToString();
    const engine::Head head = (*log)->GetHead();
    EXPECT_GE(head.seq, run.acknowledged) << "kill " << i << ": an acknowledged event was lost";
    std::uint64_t count = 0;
    ASSERT_TRUE(
        (*log)->ForEach(1, head.seq, [&](std::uint64_t, const engine::Hash&, std::string_view) {
          ++count;
          return true;
        }));
    EXPECT_EQ(count, head.seq) << "kill " << i << ": gap in the log";
    auto v = engine::Verify(**log);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << "kill " << i << ": " << v->reason << " at " << v->first_bad_seq;
    // The stream index agrees with the log: each stream's events are all readable.
    std::uint64_t in_streams = 0;
    for (int s = 0; s < 50; ++s) {
      const std::string stream = "proposals/s" + std::to_string(s);
      auto version = (*log)->StreamVersion(stream);
      auto events = (*log)->ReadStream(stream, 1, 1 << 20);
      ASSERT_TRUE(version && events);
      EXPECT_EQ(events->size(), *version);
      in_streams += *version;
    }
    EXPECT_EQ(in_streams, head.seq);
    total_acknowledged += static_cast<std::uint64_t>(run.lines);
  }
  EXPECT_GT(total_acknowledged, 0u) << "the children must have written something";
}

}  // namespace
}  // namespace expertflow::storage
