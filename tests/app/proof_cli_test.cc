// `expertflow audit` and `expertflow witness` against a fake log (tests/app/fake_log.h) whose
// answers are made with the real Merkle tree and note signing: a good run, and each lie they
// must catch (rollback, fork, bad signature, too few witnesses, rewritten history, inclusion
// proofs and a replay that do not hold). The witness never cosigns two roots for one size.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <functional>

#include "tests/app/binary.h"
#include "tests/app/fake_log.h"

namespace expertflow::testing {
namespace {

class ProofCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("proof-cli-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::setenv("EXPERTFLOW_TOKEN", FakeLog::kToken, 1);
  }
  void TearDown() override { fs::remove_all(dir); }

  Output Audit(const std::string& extra = "") {
    return RunCli("audit --url " + log.Url() + " --key " + log.LogKey() + " --state " +
                  (dir / "auditor").string() + " " + extra);
  }
  // A witness key in dir/witness.key; its verifier key.
  std::string MakeWitness(const std::string& name = "witness.example") {
    Output o =
        RunCli("witness keygen --name " + name + " --out " + (dir / (name + ".key")).string());
    EXPECT_EQ(o.status, 0) << o.out;
    std::string vkey = o.out.substr(0, o.out.find('\n'));
    log.witness = *note::ParseVerifierKey(vkey);
    return vkey;
  }
  Output Witness(const std::string& name = "witness.example") {
    return RunCli("witness --once --url " + log.Url() + " --log-key " + log.LogKey() + " --key " +
                  (dir / (name + ".key")).string() + " --state " + (dir / "witness").string());
  }
  static bool Has(const Output& o, const std::string& what) {
    return o.out.find(what) != std::string::npos;
  }

  fs::path dir;
  FakeLog log;
};

TEST_F(ProofCli, AGoodRunProvesEverythingAndKeepsTheCheckpoint) {
  log.Grow(10);
  log.instance_seqs = {2, 5, 9};
  const std::string wkey = MakeWitness();
  Output w = Witness();
  ASSERT_EQ(w.status, 0) << w.out;
  EXPECT_EQ(log.posts, 1);
  Output a = Audit("--witness " + wkey + " --min-witnesses 1 --seq 1 --seq 10 --seq 7 " +
                   "--instance proposals/p1 --replay");
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_TRUE(Has(a, "size:      10")) << a.out;
  EXPECT_TRUE(Has(a, "witnesses: 1 of 1 (witness.example)")) << a.out;
  EXPECT_TRUE(Has(a, "3 events proved")) << a.out;
  EXPECT_TRUE(Has(a, "replayed")) << a.out;
  EXPECT_FALSE(Has(a, FakeLog::kToken)) << "the token was printed";
  // The log grows: consistency from the kept checkpoint, then a witness round, again.
  log.Grow(7);
  log.instance_seqs = {2, 5, 9, 17};
  Output again = Audit("--seq 12 --instance proposals/p1 --replay");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_TRUE(Has(again, "previous:  size 10, consistency proved")) << again.out;
  ASSERT_EQ(Witness().status, 0);
  EXPECT_EQ(log.posts, 2);
  // Events after the checkpoint come without proof and are reported, not failed.
  log.Grow(2);
  log.published = 17;
  log.instance_seqs = {2, 18};
  Output pending = Audit("--instance proposals/p1");
  ASSERT_EQ(pending.status, 0) << pending.out;
  EXPECT_TRUE(Has(pending, "1 after the checkpoint")) << pending.out;
}

TEST_F(ProofCli, AuditRefusesARollbackAndKeepsWhatItHad) {
  log.Grow(10);
  ASSERT_EQ(Audit().status, 0);
  log.published = 7;
  Output a = Audit();
  EXPECT_EQ(a.status, 1) << a.out;
  EXPECT_TRUE(Has(a, "rollback")) << a.out;
  log.published = 10;
  EXPECT_EQ(Audit().status, 0) << "the failed run changed the kept checkpoint";
}

TEST_F(ProofCli, AuditRefusesAForkOfOneSize) {
  log.Grow(10);
  ASSERT_EQ(Audit().status, 0);
  log.Rewrite(4, 6, "b");  // size 10 again, another root
  Output a = Audit();
  EXPECT_EQ(a.status, 1) << a.out;
  EXPECT_TRUE(Has(a, "fork: two roots for size 10")) << a.out;
}

TEST_F(ProofCli, AuditRefusesRewrittenHistory) {
  log.Grow(5);
  ASSERT_EQ(Audit().status, 0);
  const engine::Hash kept_root = log.Root(5);
  log.Rewrite(2, 6, "b");  // size 8 whose first 5 leaves differ
  Output honest = Audit();
  EXPECT_EQ(honest.status, 1) << honest.out;
  EXPECT_TRUE(Has(honest, "rewritten history")) << honest.out;
  // The server lies about the old root: the proof itself does not verify.
  log.consistency_from_root = kept_root;
  Output lying = Audit();
  EXPECT_EQ(lying.status, 1) << lying.out;
  EXPECT_TRUE(
      Has(lying, "rewritten history: the consistency proof from size 5 to 8 does not verify"))
      << lying.out;
}

TEST_F(ProofCli, AuditRefusesABadSignature) {
  log.Grow(3);
  // Signed by another key of the same name.
  note::SigningKey other = *note::GenerateKey(log.origin);
  const std::string text = log.CheckpointText();
  log.checkpoint_override = text + "\n" + *note::SignNote(other, text);
  Output a = Audit();
  EXPECT_EQ(a.status, 1) << a.out;
  EXPECT_TRUE(Has(a, "bad signature")) << a.out;
  // The log's signature over another text.
  const std::string good = text + "\n" + *note::SignNote(log.key, text);
  std::string changed = good;
  changed[changed.find('\n') + 1] = '4';  // the size line
  log.checkpoint_override = changed;
  Output b = Audit();
  EXPECT_EQ(b.status, 1) << b.out;
  EXPECT_TRUE(Has(b, "bad signature")) << b.out;
  log.checkpoint_override.reset();
  EXPECT_EQ(Audit().status, 0);
}

TEST_F(ProofCli, AuditCountsOnlyCosignaturesOfTheGivenWitnesses) {
  log.Grow(4);
  const std::string first = MakeWitness("w1.example");
  ASSERT_EQ(Witness("w1.example").status, 0);
  const std::string second = MakeWitness("w2.example");  // never cosigns
  Output a = Audit("--witness " + first + " --witness " + second + " --min-witnesses 2");
  EXPECT_EQ(a.status, 1) << a.out;
  EXPECT_TRUE(Has(a, "too few witnesses: 1 of the 2 given")) << a.out;
  EXPECT_EQ(Audit("--witness " + first + " --witness " + second + " --min-witnesses 1").status, 0);
  EXPECT_EQ(Audit("--witness " + second + " --min-witnesses 3").status, 2);
}

TEST_F(ProofCli, AuditRefusesInclusionProofsAndAReplayThatDoNotHold) {
  log.Grow(9);
  log.instance_seqs = {3, 4};
  log.tamper_inclusion = true;
  Output seq = Audit("--seq 3");
  EXPECT_EQ(seq.status, 1) << seq.out;
  EXPECT_TRUE(Has(seq, "inclusion: the proof of seq 3 does not verify")) << seq.out;
  Output inst = Audit("--instance proposals/p1");
  EXPECT_EQ(inst.status, 1) << inst.out;
  EXPECT_TRUE(Has(inst, "inclusion: the proof of instance proposals/p1, seq 3")) << inst.out;
  Output beyond = Audit("--seq 10");
  EXPECT_EQ(beyond.status, 1) << beyond.out;
  log.tamper_inclusion = false;
  log.tamper_export_seq = 6;
  Output chain = Audit("--replay");
  EXPECT_EQ(chain.status, 1) << chain.out;
  EXPECT_TRUE(Has(chain, "replay: the hash chain breaks at seq 6")) << chain.out;
  log.tamper_export_seq.reset();
  log.root_override = log.Root(8);  // a signed checkpoint whose root the records do not give
  Output root = Audit("--replay");
  EXPECT_EQ(root.status, 1) << root.out;
  EXPECT_TRUE(Has(root, "replay: the root differs at size 9")) << root.out;
  log.root_override.reset();
  EXPECT_EQ(Audit("--seq 3 --instance proposals/p1 --replay").status, 0);
}

TEST_F(ProofCli, TheWitnessRefusesForksAndRollbacksAndNeverCosignsTwiceForOneSize) {
  log.Grow(6);
  MakeWitness();
  ASSERT_EQ(Witness().status, 0);
  ASSERT_EQ(log.posts, 1);
  // The same tree, already carrying its cosignature: nothing to do.
  Output same = Witness();
  EXPECT_EQ(same.status, 0) << same.out;
  EXPECT_TRUE(Has(same, "already cosigned")) << same.out;
  EXPECT_EQ(log.posts, 1);
  // A fork at size 6.
  const auto records = log.records;
  log.Rewrite(3, 3, "b");
  Output fork = Witness();
  EXPECT_EQ(fork.status, 1) << fork.out;
  EXPECT_TRUE(Has(fork, "fork")) << fork.out;
  EXPECT_EQ(log.posts, 1);
  // A rollback to 4 of the original history.
  log.records = records;
  log.published = 4;
  Output rollback = Witness();
  EXPECT_EQ(rollback.status, 1) << rollback.out;
  EXPECT_TRUE(Has(rollback, "rollback")) << rollback.out;
  EXPECT_EQ(log.posts, 1);
  // Rewritten history at a larger size.
  log.Rewrite(2, 8, "c");
  Output rewritten = Witness();
  EXPECT_EQ(rewritten.status, 1) << rewritten.out;
  EXPECT_TRUE(Has(rewritten, "rewritten history")) << rewritten.out;
  EXPECT_EQ(log.posts, 1);
  // The true history grows: consistency proved, kept, cosigned.
  log.records = records;
  log.Grow(5);
  Output grown = Witness();
  EXPECT_EQ(grown.status, 0) << grown.out;
  EXPECT_EQ(log.posts, 2);
  // Every cosignature posted is for a distinct size.
  std::set<std::string> texts;
  for (const auto& [text, lines] : log.cosignatures) {
    EXPECT_EQ(lines.size(), 1u) << text;
    texts.insert(text.substr(0, text.find('\n', text.find('\n') + 1)));
  }
  EXPECT_EQ(texts.size(), log.cosignatures.size());
  // The state file holds the last checkpoint cosigned.
  const std::string kept = ReadFile(dir / "witness" / (engine::ToHex(engine::Sha256(log.origin))));
  EXPECT_TRUE(kept.starts_with(log.CheckpointText())) << kept;
}

// Issue 17: a fork shown to two auditors is caught by a witness. The log shows auditor A the
// history the witness cosigned, and auditor B another root of the same size: the witness
// refuses to cosign B's, so B, requiring one witness, fails.
TEST_F(ProofCli, AForkShownToTwoAuditorsIsCaughtByTheWitness) {
  log.Grow(6);
  const std::string w = MakeWitness();
  ASSERT_EQ(Witness().status, 0);
  auto audit_as = [&](const std::string& who) {
    return RunCli("audit --url " + log.Url() + " --key " + log.LogKey() + " --state " +
                  (dir / who).string() + " --witness " + w + " --min-witnesses 1");
  };
  Output a = audit_as("auditor-a");
  EXPECT_EQ(a.status, 0) << a.out;
  log.Rewrite(3, 3, "b");  // the fork, at the same size
  Output refused = Witness();
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_TRUE(Has(refused, "fork")) << refused.out;
  Output b = audit_as("auditor-b");
  EXPECT_EQ(b.status, 1) << b.out;
  EXPECT_TRUE(Has(b, "too few witnesses")) << b.out;
  // And A, shown the fork next, calls it one.
  Output a_again = audit_as("auditor-a");
  EXPECT_EQ(a_again.status, 1) << a_again.out;
}

TEST_F(ProofCli, WithoutOnceTheWitnessLogsARefusalAndCarriesOn) {
  log.Grow(3);
  MakeWitness();
  const fs::path out = dir / "witness.log";
  const std::string key = (dir / "witness.example.key").string();
  const std::string state = (dir / "witness").string();
  const std::string url = log.Url(), log_key = log.LogKey();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(out.c_str(), "w", stdout);
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    ::execl(EXPERTFLOW_BINARY, EXPERTFLOW_BINARY, "witness", "--url", url.c_str(), "--log-key",
            log_key.c_str(), "--key", key.c_str(), "--state", state.c_str(), "--interval", "0.1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto wait_for = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 200 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return done();
  };
  const auto posts = [&] {
    std::lock_guard lock(log.mu);
    return log.posts;
  };
  EXPECT_TRUE(wait_for([&] { return posts() == 1; }));
  {
    std::lock_guard lock(log.mu);
    log.published = 2;  // a rollback
  }
  EXPECT_TRUE(wait_for([&] { return ReadFile(out).find("rollback") != std::string::npos; }));
  log.Grow(4);  // the true log goes on: cosigned again
  EXPECT_TRUE(wait_for([&] { return posts() == 2; })) << ReadFile(out);
  // The log counts the post when it receives it; the witness says so once the answer is back.
  EXPECT_TRUE(wait_for([&] {
    return ReadFile(out).find("cosigned fake.example/log size 7") != std::string::npos;
  })) << ReadFile(out);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(posts(), 2) << ReadFile(out);
}

TEST_F(ProofCli, TheWitnessSaysWhenTheServerRefusesOrHasNoCheckpoint) {
  MakeWitness();
  Output none = Witness();
  EXPECT_EQ(none.status, 1) << none.out;
  EXPECT_TRUE(Has(none, "no checkpoint yet")) << none.out;
  log.Grow(2);
  log.witness = *note::ParseVerifierKey(
      note::VerifierKey(*note::GenerateWitnessKey("stranger.example")));  // not ours
  Output refused = Witness();
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_TRUE(Has(refused, "refused the cosignature")) << refused.out;
}

TEST_F(ProofCli, KeygenMakesAPrivateFileOnceAndPrintsTheVerifierKey) {
  const fs::path key = dir / "w.key";
  Output o = RunCli("witness keygen --name w.example --out " + key.string());
  ASSERT_EQ(o.status, 0) << o.out;
  auto v = note::ParseVerifierKey(o.out.substr(0, o.out.find('\n')));
  ASSERT_TRUE(v) << o.out;
  EXPECT_EQ(v->alg, note::kAlgCosignatureV1);
  EXPECT_EQ(v->name, "w.example");
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string before = ReadFile(key);
  EXPECT_EQ(RunCli("witness keygen --name w.example --out " + key.string()).status, 1);
  EXPECT_EQ(ReadFile(key), before) << "overwritten";
}

TEST_F(ProofCli, TheTokenComesFromAFileOrTheEnvironmentOnly) {
  log.Grow(2);
  ::unsetenv("EXPERTFLOW_TOKEN");
  Output none = Audit();
  EXPECT_EQ(none.status, 2) << none.out;
  EXPECT_TRUE(Has(none, "EXPERTFLOW_TOKEN")) << none.out;
  const fs::path file = dir / "token";
  std::ofstream(file) << FakeLog::kToken << "\n";
  Output with_file = Audit("--token-file " + file.string());
  EXPECT_EQ(with_file.status, 0) << with_file.out;
  EXPECT_FALSE(Has(with_file, FakeLog::kToken));
  std::ofstream(file) << "wrong-token\n";
  Output wrong = Audit("--token-file " + file.string());
  EXPECT_EQ(wrong.status, 1) << wrong.out;
  EXPECT_TRUE(Has(wrong, "401")) << wrong.out;
  EXPECT_FALSE(Has(wrong, "wrong-token")) << wrong.out;
}

TEST_F(ProofCli, UsageErrorsExitTwo) {
  log.Grow(1);
  EXPECT_EQ(RunCli("audit --url https://127.0.0.1:1 --key " + log.LogKey() + " --state " +
                   (dir / "s").string())
                .status,
            2);
  EXPECT_EQ(
      RunCli("audit --url " + log.Url() + " --key nonsense --state " + (dir / "s").string()).status,
      2);
  EXPECT_EQ(Audit("--instance nothing-here").status, 2);
  EXPECT_EQ(RunCli("witness --once --url " + log.Url()).status, 2);
  EXPECT_EQ(Audit("--no-such-option").status, 2);
  EXPECT_EQ(Audit("--seq x").status, 2);
  EXPECT_EQ(RunCli("witness --once --bogus").status, 2);
  EXPECT_EQ(RunCli("audit --url ftp://127.0.0.1 --key " + log.LogKey() + " --state " +
                   (dir / "s").string())
                .status,
            2);
  // A server behind a path prefix, given with or without the trailing slash.
  for (const char* base : {"/base", "/base/"}) {
    Output o = RunCli("audit --url " + log.Url() + base + " --key " + log.LogKey() + " --state " +
                      (dir / "s").string());
    EXPECT_EQ(o.status, 0) << base << ": " << o.out;
  }
  Output help = RunCli("audit --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(Has(help, "plain http only")) << help.out;
  EXPECT_TRUE(Has(help, "--min-witnesses")) << help.out;
}

}  // namespace
}  // namespace expertflow::testing
