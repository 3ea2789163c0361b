// storage/file_attachments: content-addressed files that appear whole or not at all. An upload
// dropped or cut short leaves nothing; what a crash left half-done is gone at the next open; the
// same content is kept once; a file changed on disk hashes to something else; a backup copies
// every file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "storage/file_attachments.h"
#include "tests/storage/temp_dir.h"

namespace expertflow::testing {
namespace {

namespace fs = std::filesystem;
using storage::FileAttachments;

const engine::Timestamp kNow = *engine::ParseRfc3339("2026-03-02T10:00:00Z");

std::size_t FilesUnder(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

engine::AttachmentUpload::Committed Put(FileAttachments& store, const std::string& bytes,
                                        const std::string& type = "text/plain",
                                        const std::string& name = "a.txt") {
  auto up = store.Begin(type, name, kNow);
  EXPECT_TRUE(up);
  // In three pieces, as the server hands them over.
  const std::size_t third = bytes.size() / 3;
  EXPECT_TRUE((*up)->Write(std::string_view(bytes).substr(0, third)));
  EXPECT_TRUE((*up)->Write(std::string_view(bytes).substr(third, third)));
  EXPECT_TRUE((*up)->Write(std::string_view(bytes).substr(2 * third)));
  auto done = (*up)->Commit();
  EXPECT_TRUE(done) << (done ? "" : done.error().ToString());
  return *done;
}

TEST(FileAttachmentsTest, StoresByHashOnceAndReadsBack) {
  TempDir dir;
  auto store = FileAttachments::Open(dir.path() / "attachments", true);
  ASSERT_TRUE(store);
  const std::string bytes = "Отчёт региона за неделю\n" + std::string(100000, 'r');
  auto first = Put(**store, bytes, "application/pdf", "отчёт.pdf");
  EXPECT_TRUE(first.created);
  const std::string sha = engine::ToHex(engine::Sha256(bytes));
  EXPECT_EQ(first.info.sha256, sha);
  EXPECT_EQ(first.info.size, bytes.size());
  auto second = Put(**store, bytes, "text/plain", "other.txt");
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.info.name, "отчёт.pdf") << "the first upload's name stays";
  EXPECT_EQ((*store)->List().size(), 1u);
  auto found = (*store)->Find(sha);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->type, "application/pdf");
  EXPECT_EQ(found->stored_at, kNow);
  std::string back;
  for (std::uint64_t at = 0;;) {
    auto piece = (*store)->Read(sha, at, 4096);
    ASSERT_TRUE(piece);
    if (piece->empty()) break;
    at += piece->size();
    back += *piece;
  }
  EXPECT_EQ(back, bytes);
  // The owner's alone.
  struct stat st {};
  ASSERT_EQ(::stat((*store)->PathOf(sha).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() / "attachments").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Survives a reopen; nothing is left in tmp/.
  store->reset();
  auto again = FileAttachments::Open(dir.path() / "attachments", true);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->Find(sha));
  EXPECT_TRUE(fs::is_empty(dir.path() / "attachments" / "tmp"));
}

TEST(FileAttachmentsTest, AnUploadNotCommittedLeavesNothing) {
  TempDir dir;
  auto store = FileAttachments::Open(dir.path() / "attachments", true);
  ASSERT_TRUE(store);
  {
    auto up = (*store)->Begin("text/plain", "", kNow);
    ASSERT_TRUE(up);
    ASSERT_TRUE((*up)->Write("half of a file"));
    EXPECT_EQ(FilesUnder(dir.path()), 1u) << "written to tmp/ while it comes";
  }
  EXPECT_EQ(FilesUnder(dir.path()), 0u);
  EXPECT_TRUE((*store)->List().empty());
  EXPECT_FALSE((*store)->Find(engine::ToHex(engine::Sha256("half of a file"))));
}

TEST(FileAttachmentsTest, OpenClearsWhatACrashLeftHalfDone) {
  TempDir dir;
  const fs::path root = dir.path() / "attachments";
  auto store = FileAttachments::Open(root, true);
  ASSERT_TRUE(store);
  auto kept = Put(**store, "a whole file");
  store->reset();
  // A crash during an upload (its bytes in tmp/), and one between the .meta and the file.
  std::ofstream(root / "tmp" / "upload-abcdef") << "half";
  const std::string orphan(64, 'e');
  fs::create_directories(root / "ee");
  std::ofstream(root / "ee" / (orphan + ".meta")) << R"({"type":"text/plain"})";
  auto reopened = FileAttachments::Open(root, true);
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
  EXPECT_FALSE(fs::exists(root / "ee" / (orphan + ".meta")));
  EXPECT_FALSE((*reopened)->Find(orphan));
  EXPECT_TRUE((*reopened)->Find(kept.info.sha256));
  ASSERT_EQ((*reopened)->List().size(), 1u);
}

TEST(FileAttachmentsTest, RehashSeesAFileChangedOnDiskAndRemoveTakesItAway) {
  TempDir dir;
  auto store = FileAttachments::Open(dir.path() / "attachments", true);
  ASSERT_TRUE(store);
  auto put = Put(**store, "the signed conclusion");
  const std::string sha = put.info.sha256;
  auto same = (*store)->Rehash(sha);
  ASSERT_TRUE(same);
  EXPECT_EQ(engine::ToHex(*same), sha);
  ::chmod((*store)->PathOf(sha).c_str(), 0600);
  std::ofstream((*store)->PathOf(sha), std::ios::trunc) << "the forged conclusion";
  auto changed = (*store)->Rehash(sha);
  ASSERT_TRUE(changed);
  EXPECT_NE(engine::ToHex(*changed), sha);
  ASSERT_TRUE((*store)->Remove(sha));
  EXPECT_FALSE((*store)->Find(sha));
  EXPECT_EQ((*store)->Rehash(sha).error().code, engine::ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists((*store)->PathOf(sha).string() + ".meta"));
}

TEST(FileAttachmentsTest, ABackupCopiesEveryFile) {
  TempDir dir;
  auto store = FileAttachments::Open(dir.path() / "attachments", true);
  ASSERT_TRUE(store);
  auto a = Put(**store, "first file");
  auto b = Put(**store, "second file", "image/png", "scan.png");
  auto copied = storage::CopyAttachments(dir.path() / "attachments", dir.path() / "copy");
  ASSERT_TRUE(copied);
  EXPECT_EQ(*copied, 2u);
  auto copy = FileAttachments::Open(dir.path() / "copy", false);
  ASSERT_TRUE(copy);
  EXPECT_EQ((*copy)->List().size(), 2u);
  auto found = (*copy)->Find(b.info.sha256);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "scan.png");
  EXPECT_EQ(engine::ToHex(*(*copy)->Rehash(a.info.sha256)), a.info.sha256);
  // A store with no attachments folder copies nothing, and is no error.
  auto none = storage::CopyAttachments(dir.path() / "absent", dir.path() / "copy2");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);
}

}  // namespace
}  // namespace expertflow::testing
