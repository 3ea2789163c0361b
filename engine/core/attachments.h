#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/core/time.h"

namespace expertflow::engine {

// An attachment's file as stored: content-addressed by the SHA-256 of its bytes (issue 18). An
// event records `{name, uri, sha256}`, so the hash chain covers the document's contents; the
// store keeps each content once however often it is sent. `type` and `name` are those of the
// first upload of that content.
struct AttachmentInfo {
  std::string sha256;  // 64 lower-case hex characters
  std::uint64_t size = 0;
  std::string type;  // a media type, "application/octet-stream" when none was given
  std::string name;  // the download name, may be empty
  Timestamp stored_at{};
};

// One upload in progress. Nothing of it is visible until Commit; destroyed without a Commit (a
// refused or cut-short upload), it leaves nothing behind.
class AttachmentUpload {
 public:
  virtual ~AttachmentUpload() = default;
  virtual Result<void> Write(std::string_view bytes) = 0;
  // Makes the content durable and visible under its hash, once: `created` is false when the
  // same content was stored already (the first upload's type and name stay).
  struct Committed {
    AttachmentInfo info;
    bool created = false;
  };
  virtual Result<Committed> Commit() = 0;
};

// The port to where attachments live (storage/file_attachments.h on disk, MemoryAttachments in
// tests). Thread-safe.
class AttachmentStore {
 public:
  virtual ~AttachmentStore() = default;
  virtual Result<std::unique_ptr<AttachmentUpload>> Begin(std::string type, std::string name,
                                                          Timestamp now) = 0;
  virtual std::optional<AttachmentInfo> Find(std::string_view sha256) const = 0;
  // Up to `max` bytes from `offset`; empty at the end.
  virtual Result<std::string> Read(std::string_view sha256, std::uint64_t offset,
                                   std::size_t max) const = 0;
  // The SHA-256 of the bytes stored under `sha256` now (verify: a file altered on disk hashes
  // to something else); kNotFound when there is no such file.
  virtual Result<Hash> Rehash(std::string_view sha256) const = 0;
  virtual std::vector<AttachmentInfo> List() const = 0;
  virtual Result<void> Remove(std::string_view sha256) = 0;
};

// Whether `text` is a SHA-256 as attachments name it: 64 lower-case hex characters.
bool IsAttachmentHash(std::string_view text);

// Attachments in memory, for tests and stores without a folder.
class MemoryAttachments final : public AttachmentStore {
 public:
  Result<std::unique_ptr<AttachmentUpload>> Begin(std::string type, std::string name,
                                                  Timestamp now) override;
  std::optional<AttachmentInfo> Find(std::string_view sha256) const override;
  Result<std::string> Read(std::string_view sha256, std::uint64_t offset,
                           std::size_t max) const override;
  Result<Hash> Rehash(std::string_view sha256) const override;
  std::vector<AttachmentInfo> List() const override;
  Result<void> Remove(std::string_view sha256) override;
  // Tests: changes a stored file's bytes behind the store's back.
  void Tamper(std::string_view sha256, std::string bytes);

 private:
  friend class MemoryUpload;
  struct File {
    AttachmentInfo info;
    std::string bytes;
  };
  mutable std::mutex mu_;
  std::map<std::string, File, std::less<>> files_;
};

}  // namespace expertflow::engine
