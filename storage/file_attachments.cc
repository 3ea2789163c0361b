#include "storage/file_attachments.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace expertflow::storage {

namespace fs = std::filesystem;
using engine::AttachmentInfo;
using engine::ErrorCode;
using engine::Fail;
using engine::Result;

namespace {

Result<void> Errno(const std::string& what) {
  return Fail(ErrorCode::kUnavailable, what + ": " + std::strerror(errno));
}

// fsync of a folder, so that a rename or a new name in it survives a crash.
Result<void> SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + dir.string());
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Errno("cannot sync " + dir.string());
  return {};
}

Result<void> WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write an attachment");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> MakeDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Errno("cannot create " + dir.string());
  return {};
}

std::optional<AttachmentInfo> ReadMeta(const fs::path& meta, std::string_view sha256,
                                       std::uint64_t size) {
  AttachmentInfo info;
  info.sha256 = std::string(sha256);
  info.size = size;
  info.type = "application/octet-stream";
  std::ifstream in(meta);
  if (in) {
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object()) {
      if (j.contains("type") && j["type"].is_string()) info.type = j["type"];
      if (j.contains("name") && j["name"].is_string()) info.name = j["name"];
      if (j.contains("stored_at") && j["stored_at"].is_string()) {
        if (auto t = engine::ParseRfc3339(j["stored_at"].get<std::string>())) info.stored_at = *t;
      }
    }
  }
  return info;
}

}  // namespace

class FileUpload final : public engine::AttachmentUpload {
 public:
  FileUpload(FileAttachments& store, fs::path tmp, int fd, AttachmentInfo info)
      : store_(store), tmp_(std::move(tmp)), fd_(fd), info_(std::move(info)) {}
  ~FileUpload() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }

  Result<void> Write(std::string_view bytes) override {
    if (auto w = WriteAll(fd_, bytes); !w) return w;
    hash_.Update(bytes);
    size_ += bytes.size();
    return {};
  }

  Result<Committed> Commit() override {
    // The bytes are on disk before any name points at them.
    if (::fsync(fd_) != 0) return std::unexpected(Errno("cannot sync an attachment").error());
    ::close(fd_);
    fd_ = -1;
    info_.sha256 = engine::ToHex(hash_.Final());
    info_.size = size_;
    std::lock_guard lock(store_.commit_mu_);
    if (auto found = store_.Find(info_.sha256)) return Committed{*found, false};
    const fs::path target = store_.PathOf(info_.sha256);
    const fs::path folder = target.parent_path();
    if (auto m = MakeDir(folder); !m) return std::unexpected(m.error());
    if (auto s = SyncDir(store_.dir_); !s) return std::unexpected(s.error());
    // The .meta first: a crash between the two renames leaves a .meta alone, which Open removes.
    const std::string meta_text =
        nlohmann::json{{"type", info_.type},
                       {"name", info_.name},
                       {"size", info_.size},
                       {"stored_at", engine::FormatRfc3339(info_.stored_at)}}
            .dump();
    const fs::path meta_tmp = tmp_.string() + ".meta";
    const int mfd = ::open(meta_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (mfd < 0) return std::unexpected(Errno("cannot write " + meta_tmp.string()).error());
    auto written = WriteAll(mfd, meta_text);
    const bool synced = written && ::fsync(mfd) == 0;
    ::close(mfd);
    if (!synced) {
      ::unlink(meta_tmp.c_str());
      return std::unexpected(Errno("cannot write " + meta_tmp.string()).error());
    }
    if (::rename(meta_tmp.c_str(), (target.string() + ".meta").c_str()) != 0) {
      ::unlink(meta_tmp.c_str());
      return std::unexpected(Errno("cannot name " + target.string() + ".meta").error());
    }
    if (::rename(tmp_.c_str(), target.c_str()) != 0)
      return std::unexpected(Errno("cannot name " + target.string()).error());
    committed_ = true;
    if (auto s = SyncDir(folder); !s) return std::unexpected(s.error());
    return Committed{info_, true};
  }

 private:
  FileAttachments& store_;
  fs::path tmp_;
  int fd_;
  AttachmentInfo info_;
  engine::Sha256Stream hash_;
  std::uint64_t size_ = 0;
  bool committed_ = false;
};

Result<std::unique_ptr<FileAttachments>> FileAttachments::Open(fs::path dir, bool create) {
  std::error_code ec;
  if (create) {
    if (auto m = MakeDir(dir); !m) return std::unexpected(m.error());
    if (auto m = MakeDir(dir / "tmp"); !m) return std::unexpected(m.error());
    // What a crash left: uploads never committed, and a .meta whose file never arrived.
    for (const auto& e : fs::directory_iterator(dir / "tmp", ec)) fs::remove(e.path(), ec);
    for (const auto& sub : fs::directory_iterator(dir, ec)) {
      if (!sub.is_directory() || sub.path().filename() == "tmp") continue;
      for (const auto& e : fs::directory_iterator(sub.path(), ec)) {
        const fs::path p = e.path();
        if (p.extension() == ".meta" && !fs::exists(fs::path(p).replace_extension(), ec))
          fs::remove(p, ec);
      }
    }
  }
  return std::unique_ptr<FileAttachments>(new FileAttachments(std::move(dir)));
}

fs::path FileAttachments::PathOf(std::string_view sha256) const {
  return dir_ / std::string(sha256.substr(0, 2)) / std::string(sha256);
}

Result<std::unique_ptr<engine::AttachmentUpload>> FileAttachments::Begin(std::string type,
                                                                         std::string name,
                                                                         engine::Timestamp now) {
  std::string path = (dir_ / "tmp" / "upload-XXXXXX").string();
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return std::unexpected(Errno("cannot start an upload in " + dir_.string()).error());
  AttachmentInfo info;
  info.type = std::move(type);
  info.name = std::move(name);
  info.stored_at = now;
  return std::make_unique<FileUpload>(*this, fs::path(path), fd, std::move(info));
}

std::optional<AttachmentInfo> FileAttachments::Find(std::string_view sha256) const {
  if (!engine::IsAttachmentHash(sha256)) return std::nullopt;
  const fs::path p = PathOf(sha256);
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return ReadMeta(p.string() + ".meta", sha256, static_cast<std::uint64_t>(st.st_size));
}

Result<std::string> FileAttachments::Read(std::string_view sha256, std::uint64_t offset,
                                          std::size_t max) const {
  if (!engine::IsAttachmentHash(sha256))
    return Fail(ErrorCode::kNotFound, "no attachment " + std::string(sha256));
  const fs::path p = PathOf(sha256);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kNotFound, "no attachment " + std::string(sha256));
  std::string out(max, '\0');
  std::size_t got = 0;
  while (got < max) {
    const ssize_t n = ::pread(fd, out.data() + got, max - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::unexpected(Errno("cannot read " + p.string()).error());
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

Result<engine::Hash> FileAttachments::Rehash(std::string_view sha256) const {
  if (!engine::IsAttachmentHash(sha256))
    return Fail(ErrorCode::kNotFound, "no attachment " + std::string(sha256));
  const fs::path p = PathOf(sha256);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kNotFound, "no file for attachment " + std::string(sha256));
  engine::Sha256Stream hash;
  std::string buf(1 << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::unexpected(Errno("cannot read " + p.string()).error());
    }
    if (n == 0) break;
    hash.Update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return hash.Final();
}

std::vector<AttachmentInfo> FileAttachments::List() const {
  std::vector<AttachmentInfo> out;
  std::error_code ec;
  for (const auto& sub : fs::directory_iterator(dir_, ec)) {
    if (!sub.is_directory() || sub.path().filename() == "tmp") continue;
    for (const auto& e : fs::directory_iterator(sub.path(), ec)) {
      const std::string name = e.path().filename().string();
      if (!engine::IsAttachmentHash(name)) continue;
      if (auto info = Find(name)) out.push_back(*info);
    }
  }
  return out;
}

Result<void> FileAttachments::Remove(std::string_view sha256) {
  if (!engine::IsAttachmentHash(sha256)) return {};
  std::lock_guard lock(commit_mu_);
  const fs::path p = PathOf(sha256);
  // The file first: a crash between leaves a .meta alone, which Open removes.
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove " + p.string());
  ::unlink((p.string() + ".meta").c_str());
  return SyncDir(p.parent_path());
}

Result<std::size_t> CopyAttachments(const fs::path& from, const fs::path& to,
                                    const std::set<std::string>* only) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return std::size_t{0};
  if (auto m = MakeDir(to); !m) return std::unexpected(m.error());
  std::size_t copied = 0;
  for (const auto& sub : fs::directory_iterator(from, ec)) {
    if (!sub.is_directory() || sub.path().filename() == "tmp") continue;
    const fs::path into = to / sub.path().filename();
    if (auto m = MakeDir(into); !m) return std::unexpected(m.error());
    for (const auto& e : fs::directory_iterator(sub.path(), ec)) {
      if (only != nullptr) {
        std::string name = e.path().filename().string();
        if (name.ends_with(".meta")) name.resize(name.size() - 5);
        if (!only->contains(name)) continue;
      }
      const fs::path target = into / e.path().filename();
      fs::create_hard_link(e.path(), target, ec);
      if (ec) {
        ec.clear();
        fs::copy_file(e.path(), target, fs::copy_options::overwrite_existing, ec);
        if (ec) {
          return Fail(ErrorCode::kUnavailable,
                      "cannot copy " + e.path().string() + ": " + ec.message());
        }
      }
      if (engine::IsAttachmentHash(e.path().filename().string())) ++copied;
    }
    if (auto s = SyncDir(into); !s) return std::unexpected(s.error());
  }
  if (auto m = MakeDir(to / "tmp"); !m) return std::unexpected(m.error());
  if (auto s = SyncDir(to); !s) return std::unexpected(s.error());
  return copied;
}

}  // namespace expertflow::storage
