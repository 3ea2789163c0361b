#include "app/webhook_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/hash.h"

namespace expertflow::app {
namespace {

namespace fs = std::filesystem;
using engine::ErrorCode;

bool IsKey(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

engine::Result<std::string> LoadOrCreateWebhookKey(const std::string& data) {
  const fs::path path = fs::path(data) / kWebhookKeyFile;
  if (std::ifstream in(path); in) {
    std::stringstream text;
    text << in.rdbuf();
    std::string key = text.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    if (!IsKey(key))
      return engine::Fail(ErrorCode::kCorruption,
                          "the webhook key in " + path.filename().string() + " is malformed");
    return key;
  }
  engine::Hash random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    return engine::Fail(ErrorCode::kInternal, "the random generator failed");
  const std::string key = engine::ToHex(random);
  // Written to a new file only (O_EXCL), 0600, synced before it is used.
  const std::string line = key + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return engine::Fail(ErrorCode::kUnavailable, "cannot create " + path.string());
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return engine::Fail(ErrorCode::kUnavailable, "cannot write " + path.string());
  return key;
}

}  // namespace expertflow::app
