#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "engine/core/attachments.h"

namespace expertflow::storage {

// Attachments as files in a folder of the store (DATA/attachments), content-addressed:
// `ab/abcdef…` holds the bytes of the content whose SHA-256 is `abcdef…`, `ab/abcdef….meta` its
// media type, download name, size and time (JSON). An upload is written to `tmp/` and becomes
// visible by a rename once its bytes are synced, after its `.meta`, so that a crash at any point
// leaves either the whole file or nothing under its name; Open clears `tmp/` and any `.meta`
// whose file never arrived. Files and folders are the owner's alone (0600 / 0700).
class FileAttachments final : public engine::AttachmentStore {
 public:
  // Opens (creating when `create`) the folder. A read-only open touches nothing.
  static engine::Result<std::unique_ptr<FileAttachments>> Open(std::filesystem::path dir,
                                                               bool create);

  engine::Result<std::unique_ptr<engine::AttachmentUpload>> Begin(std::string type,
                                                                  std::string name,
                                                                  engine::Timestamp now) override;
  std::optional<engine::AttachmentInfo> Find(std::string_view sha256) const override;
  engine::Result<std::string> Read(std::string_view sha256, std::uint64_t offset,
                                   std::size_t max) const override;
  engine::Result<engine::Hash> Rehash(std::string_view sha256) const override;
  std::vector<engine::AttachmentInfo> List() const override;
  engine::Result<void> Remove(std::string_view sha256) override;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path PathOf(std::string_view sha256) const;

 private:
  friend class FileUpload;
  explicit FileAttachments(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
  std::mutex commit_mu_;  // one commit at a time: "created" is exact
};

// Copies every attachment of `from` into `to` (a backup: hard links where the file system
// allows, the files never change once written; copies otherwise), creating `to`. With `only`,
// just the files of those hashes (an export of the files its events reference).
engine::Result<std::size_t> CopyAttachments(const std::filesystem::path& from,
                                            const std::filesystem::path& to,
                                            const std::set<std::string>* only = nullptr);

}  // namespace expertflow::storage
