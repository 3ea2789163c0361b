#include "app/webhook_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/log_key.h"
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
  if (auto w = WriteNewPrivateFile(path.string(), key + "\n"); !w)
    return std::unexpected(w.error());
  return key;
}

}  // namespace expertflow::app
