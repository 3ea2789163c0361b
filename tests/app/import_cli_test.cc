// `expertflow import` as an operator runs it: a good export becomes a store; a refused one (a
// forged event, a wrong head) leaves nothing behind; and what the binary creates is its owner's
// alone.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

namespace fs = std::filesystem;

class ImportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("expertflow-import-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const fs::path data = dir_ / "source";
    ASSERT_TRUE(MakeStoreWithDrafts(data, dir_ / "server.log", 3));
    Output exported = RunCli("export --data " + data.string());
    ASSERT_EQ(exported.status, 0);
    export_ = exported.out;
    std::ofstream(dir_ / "good.ndjson") << export_;
    Output verified = RunCli("verify --data " + data.string());
    head_ = verified.out.substr(verified.out.find("head hash ") + 10, 64);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string export_;
  std::string head_;
};

TEST_F(ImportCli, LoadsAGoodExportIntoAStoreOnlyItsOwnerCanRead) {
  const fs::path into = dir_ / "copy";
  Output imported = RunCli("import --data " + into.string() + " --expect-head " + head_ + " " +
                           (dir_ / "good.ndjson").string());
  ASSERT_EQ(imported.status, 0) << imported.out;
  EXPECT_NE(imported.out.find("imported 3 events"), std::string::npos) << imported.out;
  EXPECT_EQ(RunCli("verify --data " + into.string()).status, 0);
  EXPECT_FALSE(fs::exists(into.string() + ".importing"));
  // The write-ahead log and the tables hold every event and every token's hash.
  EXPECT_EQ(fs::status(into).permissions() & fs::perms::all, fs::perms::owner_all);
  for (const auto& file : fs::directory_iterator(into)) {
    if (!file.is_regular_file()) continue;
    EXPECT_EQ(file.status().permissions() & (fs::perms::group_all | fs::perms::others_all),
              fs::perms::none)
        << file.path();
  }
}

TEST_F(ImportCli, LeavesNothingBehindWhenItRefusesAFile) {
  // A forged second event: a proposal's creator changed, the chain left broken.
  std::string forged = export_;
  forged.replace(forged.find("assoc-05"), 8, "assoc-06");
  std::ofstream(dir_ / "forged.ndjson") << forged;
  const fs::path into = dir_ / "copy";
  Output refused =
      RunCli("import --data " + into.string() + " " + (dir_ / "forged.ndjson").string());
  EXPECT_EQ(refused.status, 3) << refused.out;
  EXPECT_NE(refused.out.find("seq 1:"), std::string::npos) << refused.out;
  EXPECT_FALSE(fs::exists(into)) << "a refused import left a store";
  EXPECT_FALSE(fs::exists(into.string() + ".importing"));

  Output wrong_head = RunCli("import --data " + into.string() + " --expect-head " +
                             std::string(64, '0') + " " + (dir_ / "good.ndjson").string());
  EXPECT_EQ(wrong_head.status, 3) << wrong_head.out;
  EXPECT_NE(wrong_head.out.find("not on the expected"), std::string::npos) << wrong_head.out;
  EXPECT_FALSE(fs::exists(into));
  EXPECT_EQ(RunCli("import --data " + into.string() + " --expect-head nothex " +
                   (dir_ / "good.ndjson").string())
                .status,
            2);
}

TEST_F(ImportCli, CarriesTheSignedCheckpointsVerifiedAgainstTheRebuiltTree) {
  const fs::path source = dir_ / "source";
  const fs::path checkpoints = dir_ / "checkpoints.ndjson";
  Output exported =
      RunCli("export --data " + source.string() + " --checkpoints " + checkpoints.string());
  ASSERT_EQ(exported.status, 0) << exported.out;
  std::ifstream in(checkpoints);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_FALSE(lines.empty()) << "the server signed no checkpoint before it stopped";
  // The stopping server signed the whole log.
  const std::string last = lines.back();
  ASSERT_NE(last.find("\\n3\\n"), std::string::npos) << last;

  const fs::path into = dir_ / "copy";
  Output imported =
      RunCli("import --data " + into.string() + " --checkpoints " + checkpoints.string() +
             " --log-key " + (source / "log.key").string() + " " + (dir_ / "good.ndjson").string());
  ASSERT_EQ(imported.status, 0) << imported.out;
  EXPECT_NE(imported.out.find("signed checkpoints verified"), std::string::npos) << imported.out;
  Output verified = RunCli("verify --data " + into.string());
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_NE(verified.out.find("signatures checked"), std::string::npos) << verified.out;
  EXPECT_EQ(RunCli("key show --data " + into.string()).out,
            RunCli("key show --data " + source.string()).out);
  fs::remove_all(into);

  // A checkpoint whose root is not the events' tree: refused, nothing imported.
  std::string forged = last;
  const auto root_at = forged.find("\\n3\\n") + 5;
  forged[root_at] = forged[root_at] == 'A' ? 'B' : 'A';
  std::ofstream(dir_ / "forged-checkpoints.ndjson") << forged << "\n";
  Output refused = RunCli("import --data " + into.string() + " --checkpoints " +
                          (dir_ / "forged-checkpoints.ndjson").string() + " --log-key " +
                          (source / "log.key").string() + " " + (dir_ / "good.ndjson").string());
  EXPECT_EQ(refused.status, 3) << refused.out;
  EXPECT_FALSE(fs::exists(into));
  // Checkpoints without the key they were signed with are not taken.
  EXPECT_EQ(RunCli("import --data " + into.string() + " --checkpoints " + checkpoints.string() +
                   " " + (dir_ / "good.ndjson").string())
                .status,
            2);

  // A backup holds the tree, the checkpoints and the key: it verifies as the same log.
  Output backup = RunCli("backup --data " + source.string() + " --to " + (dir_ / "bk").string());
  ASSERT_EQ(backup.status, 0) << backup.out;
  Output bk = RunCli("verify --data " + (dir_ / "bk").string());
  EXPECT_EQ(bk.status, 0) << bk.out;
  EXPECT_NE(bk.out.find("signatures checked"), std::string::npos) << bk.out;
}

}  // namespace
}  // namespace expertflow::testing
