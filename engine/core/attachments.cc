#include "engine/core/attachments.h"

#include <algorithm>

namespace expertflow::engine {

bool IsAttachmentHash(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

class MemoryUpload final : public AttachmentUpload {
 public:
  MemoryUpload(MemoryAttachments& store, AttachmentInfo info)
      : store_(store), info_(std::move(info)) {}
  Result<void> Write(std::string_view bytes) override {
    bytes_.append(bytes);
    hash_.Update(bytes);
    return {};
  }
  Result<Committed> Commit() override {
    info_.sha256 = ToHex(hash_.Final());
    info_.size = bytes_.size();
    std::lock_guard lock(store_.mu_);
    auto [it, created] =
        store_.files_.try_emplace(info_.sha256, MemoryAttachments::File{info_, std::move(bytes_)});
    return Committed{it->second.info, created};
  }

 private:
  MemoryAttachments& store_;
  AttachmentInfo info_;
  std::string bytes_;
  Sha256Stream hash_;
};

Result<std::unique_ptr<AttachmentUpload>> MemoryAttachments::Begin(std::string type,
                                                                   std::string name,
                                                                   Timestamp now) {
  AttachmentInfo info;
  info.type = std::move(type);
  info.name = std::move(name);
  info.stored_at = now;
  return std::make_unique<MemoryUpload>(*this, std::move(info));
}

std::optional<AttachmentInfo> MemoryAttachments::Find(std::string_view sha256) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(sha256);
  if (it == files_.end()) return std::nullopt;
  return it->second.info;
}

Result<std::string> MemoryAttachments::Read(std::string_view sha256, std::uint64_t offset,
                                            std::size_t max) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(sha256);
  if (it == files_.end()) return Fail(ErrorCode::kNotFound, "no attachment " + std::string(sha256));
  if (offset >= it->second.bytes.size()) return std::string();
  return it->second.bytes.substr(offset, max);
}

Result<Hash> MemoryAttachments::Rehash(std::string_view sha256) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(sha256);
  if (it == files_.end()) return Fail(ErrorCode::kNotFound, "no attachment " + std::string(sha256));
  return Sha256(it->second.bytes);
}

std::vector<AttachmentInfo> MemoryAttachments::List() const {
  std::lock_guard lock(mu_);
  std::vector<AttachmentInfo> out;
  for (const auto& [sha, file] : files_) out.push_back(file.info);
  return out;
}

Result<void> MemoryAttachments::Remove(std::string_view sha256) {
  std::lock_guard lock(mu_);
  if (auto it = files_.find(sha256); it != files_.end()) files_.erase(it);
  return {};
}

void MemoryAttachments::Tamper(std::string_view sha256, std::string bytes) {
  std::lock_guard lock(mu_);
  if (auto it = files_.find(sha256); it != files_.end()) it->second.bytes = std::move(bytes);
}

}  // namespace expertflow::engine
