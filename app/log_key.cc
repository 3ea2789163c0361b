#include "app/log_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace expertflow::app {
namespace {

namespace fs = std::filesystem;
using engine::ErrorCode;

std::string RandomOrigin() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "expertflow/log";
  engine::Hash h{};
  std::copy(std::begin(bytes), std::end(bytes), h.begin());
  return "expertflow/" + engine::ToHex(h).substr(0, 16);
}

}  // namespace

engine::Result<engine::note::SigningKey> LoadLogKey(const std::string& data) {
  const fs::path path = fs::path(data) / kLogKeyFile;
  std::ifstream in(path);
  if (!in)
    return engine::Fail(ErrorCode::kNotFound,
                        "the store has no signing key (" + path.filename().string() + ")");
  std::stringstream text;
  text << in.rdbuf();
  std::string key = text.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  auto parsed = engine::note::ParsePrivateKey(key);
  if (!parsed)
    return engine::Fail(ErrorCode::kCorruption,
                        "the signing key in " + path.filename().string() + " is malformed");
  return parsed;
}

engine::Result<engine::note::SigningKey> LoadOrCreateLogKey(const std::string& data,
                                                            const std::string& origin) {
  auto existing = LoadLogKey(data);
  if (existing) {
    if (!origin.empty() && origin != existing->name)
      return engine::Fail(ErrorCode::kValidationFailed,
                          "the log's origin is \"" + existing->name +
                              "\", set when the store was made; it cannot become \"" + origin +
                              "\"");
    return existing;
  }
  if (existing.error().code != ErrorCode::kNotFound) return existing;
  auto key = engine::note::GenerateKey(origin.empty() ? RandomOrigin() : origin);
  if (!key) return key;
  const fs::path path = fs::path(data) / kLogKeyFile;
  if (auto w = WriteNewPrivateFile(path.string(), engine::note::EncodePrivateKey(*key) + "\n"); !w)
    return std::unexpected(w.error());
  return key;
}

engine::Result<void> WriteNewPrivateFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return engine::Fail(ErrorCode::kUnavailable, "cannot create " + path);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return engine::Fail(ErrorCode::kUnavailable, "cannot write " + path);
  return {};
}

}  // namespace expertflow::app
