#include "app/proof_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/log/merkle.h"

namespace expertflow::app::proof {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace note = engine::note;
using engine::ErrorCode;
using engine::Fail;

constexpr auto kTimeLimit = std::chrono::seconds(60);
constexpr std::uint64_t kBodyLimit = 1ull << 30;

bool IsDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string Posix(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::optional<Url> ParseUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (!text.starts_with(kScheme)) return std::nullopt;
  text.remove_prefix(kScheme.size());
  if (text.find_first_of("?#@ ") != std::string_view::npos) return std::nullopt;
  Url url;
  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = text.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    url.prefix = prefix;
  }
  if (authority.starts_with("[")) {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority[0] != ':') return std::nullopt;
      url.port = authority.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) url.port = authority.substr(colon + 1);
  }
  if (url.host.empty() || !IsDigits(url.port) || url.port.size() > 5 || std::stoi(url.port) == 0 ||
      std::stoi(url.port) > 65535)
    return std::nullopt;
  return url;
}

Result<std::string> ReadToken(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return Fail(ErrorCode::kBadRequest, "cannot read the token file " + token_file);
    std::getline(in, token);
  } else if (const char* env = std::getenv("EXPERTFLOW_TOKEN"); env != nullptr) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) {
    return Fail(ErrorCode::kBadRequest,
                token_file.empty() ? "no token: give --token-file FILE or set EXPERTFLOW_TOKEN"
                                   : "the token file " + token_file + " holds no token");
  }
  if (token.find_first_of("\r\n\t ") != std::string::npos)
    return Fail(ErrorCode::kBadRequest, "the token holds white space");
  return token;
}

Result<Answer> Client::Get(const std::string& target) const { return Send(false, target, ""); }

Result<Answer> Client::Post(const std::string& target, const std::string& json_body) const {
  return Send(true, target, json_body);
}

Result<Answer> Client::Send(bool post, const std::string& target, const std::string& body) const {
  const std::string where = url_.host + ":" + url_.port;
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(kTimeLimit);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url_.host, url_.port, ec);
    if (ec)
      return Fail(ErrorCode::kUnavailable, "cannot resolve " + url_.host + ": " + ec.message());
    stream.connect(endpoints, ec);
    if (ec)
      return Fail(ErrorCode::kUnavailable, "cannot connect to " + where + ": " + ec.message());
    http::request<http::string_body> req{post ? http::verb::post : http::verb::get,
                                         url_.prefix + target, 11};
    const bool v6 = url_.host.find(':') != std::string::npos;
    req.set(http::field::host,
            (v6 ? "[" + url_.host + "]" : url_.host) + (url_.port == "80" ? "" : ":" + url_.port));
    req.set(http::field::authorization, "Bearer " + token_);
    req.set(http::field::user_agent, "expertflow-verifier");
    req.set(http::field::connection, "close");
    if (post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream, req, ec);
    if (ec) return Fail(ErrorCode::kUnavailable, "cannot send to " + where + ": " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    http::read(stream, buffer, parser, ec);
    if (ec) {
      return Fail(ErrorCode::kUnavailable,
                  "no answer from " + where + " to " + url_.prefix + target + ": " + ec.message());
    }
    auto res = parser.release();
    Answer a;
    a.status = static_cast<int>(res.result_int());
    a.content_type = std::string(res[http::field::content_type]);
    a.body = std::move(res.body());
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return a;
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kUnavailable, "talking to " + where + ": " + e.what());
  }
}

Result<nlohmann::json> JsonAnswer(const Result<Answer>& answer, std::string_view what) {
  if (!answer) return std::unexpected(answer.error());
  if (answer->status != 200) {
    std::string detail;
    auto problem = nlohmann::json::parse(answer->body, nullptr, false);
    if (problem.is_object() && problem.contains("detail") && problem["detail"].is_string())
      detail = ": " + problem["detail"].get<std::string>();
    return Fail(ErrorCode::kUnavailable, std::string(what) + ": the server answered " +
                                             std::to_string(answer->status) + detail);
  }
  auto json = nlohmann::json::parse(answer->body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return Fail(ErrorCode::kValidationFailed,
                std::string(what) + ": the answer is not a JSON object");
  return json;
}

std::optional<Hash> JsonHash(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  return engine::HashFromHex(value.get_ref<const std::string&>());
}

std::optional<std::vector<Hash>> JsonHashList(const nlohmann::json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<Hash> out;
  out.reserve(value.size());
  for (const auto& v : value) {
    auto h = JsonHash(v);
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

std::string Describe(const note::Checkpoint& c) {
  return c.origin + " size " + std::to_string(c.size) + " root " + engine::ToHex(c.root);
}

Result<SignedCheckpoint> VerifyCheckpoint(std::string_view message, const note::Verifier& log_key,
                                          std::string_view what) {
  SignedCheckpoint out;
  out.message = message;
  auto parsed = note::ParseNote(message);
  if (!parsed)
    return Fail(ErrorCode::kValidationFailed, "bad signature: " + std::string(what) +
                                                  " is no signed note (" + parsed.error().message +
                                                  ")");
  out.note = std::move(*parsed);
  if (!note::VerifyNote(log_key, out.note)) {
    return Fail(ErrorCode::kValidationFailed, "bad signature: " + std::string(what) +
                                                  " carries no valid signature of the log's key " +
                                                  log_key.name);
  }
  auto checkpoint = note::ParseCheckpoint(out.note.text);
  if (!checkpoint)
    return Fail(ErrorCode::kValidationFailed,
                std::string(what) + " is no checkpoint (" + checkpoint.error().message + ")");
  out.checkpoint = std::move(*checkpoint);
  return out;
}

Result<SignedCheckpoint> FetchCheckpoint(const Client& client, const note::Verifier& log_key) {
  auto answer = client.Get("/api/v1/log/checkpoint");
  if (!answer) return std::unexpected(answer.error());
  if (answer->status == 404)
    return Fail(ErrorCode::kNotFound, "the log has made no checkpoint yet");
  if (answer->status != 200) {
    return Fail(ErrorCode::kUnavailable,
                "the checkpoint: the server answered " + std::to_string(answer->status));
  }
  return VerifyCheckpoint(answer->body, log_key, "the latest checkpoint");
}

Result<void> CheckExtends(const Client& client, const note::Checkpoint& from,
                          const note::Checkpoint& to, std::string_view from_name,
                          std::string_view to_name) {
  if (from.origin != to.origin) {
    return Fail(ErrorCode::kValidationFailed, "the origin changed: " + std::string(from_name) +
                                                  " is of " + from.origin + ", " +
                                                  std::string(to_name) + " of " + to.origin);
  }
  if (to.size < from.size) {
    return Fail(ErrorCode::kValidationFailed,
                "rollback: " + std::string(to_name) + " has size " + std::to_string(to.size) +
                    ", smaller than " + std::string(from_name) + " (" + Describe(from) + ")");
  }
  if (to.size == from.size) {
    if (to.root == from.root) return {};
    return Fail(ErrorCode::kValidationFailed,
                "fork: two roots for size " + std::to_string(to.size) + ": " +
                    std::string(from_name) + " has " + engine::ToHex(from.root) + ", " +
                    std::string(to_name) + " has " + engine::ToHex(to.root));
  }
  if (from.size == 0) {  // the empty tree is a prefix of every tree; its root is fixed
    if (from.root == engine::EmptyTreeRoot()) return {};
    return Fail(ErrorCode::kValidationFailed, "rewritten history: " + std::string(from_name) +
                                                  " has size 0 but not the empty root");
  }
  const std::string target =
      "/api/v1/log/proof/consistency?from_size=" + std::to_string(from.size) +
      "&to_size=" + std::to_string(to.size);
  auto json = JsonAnswer(client.Get(target), "the consistency proof from size " +
                                                 std::to_string(from.size) + " to " +
                                                 std::to_string(to.size));
  if (!json) return std::unexpected(json.error());
  auto from_root = JsonHash(json->value("from_root", nlohmann::json()));
  auto to_root = JsonHash(json->value("to_root", nlohmann::json()));
  auto proof = JsonHashList(json->value("proof", nlohmann::json()));
  if (!from_root || !to_root || !proof || json->value("from_size", nlohmann::json()) != from.size ||
      json->value("to_size", nlohmann::json()) != to.size) {
    return Fail(ErrorCode::kValidationFailed, "the consistency proof from size " +
                                                  std::to_string(from.size) + " to " +
                                                  std::to_string(to.size) + " is malformed");
  }
  const std::string sizes = std::to_string(from.size) + " to " + std::to_string(to.size);
  if (*from_root != from.root) {
    return Fail(ErrorCode::kValidationFailed,
                "rewritten history: the server's tree of size " + std::to_string(from.size) +
                    " has root " + engine::ToHex(*from_root) + ", not " + engine::ToHex(from.root) +
                    " as " + std::string(from_name) + " says");
  }
  if (*to_root != to.root) {
    return Fail(ErrorCode::kValidationFailed, "the consistency proof from size " + sizes +
                                                  " is for root " + engine::ToHex(*to_root) +
                                                  ", not the root of " + std::string(to_name));
  }
  if (!engine::VerifyConsistency(from.size, to.size, from.root, to.root, *proof)) {
    return Fail(ErrorCode::kValidationFailed,
                "rewritten history: the consistency proof from size " + sizes +
                    " does not verify: " + std::string(to_name) + " does not extend " +
                    std::string(from_name));
  }
  return {};
}

std::string StateFileName(std::string_view origin) { return engine::ToHex(engine::Sha256(origin)); }

Result<std::optional<std::string>> ReadState(const std::string& dir, std::string_view origin) {
  const fs::path path = fs::path(dir) / StateFileName(origin);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kUnavailable, "cannot read the state file " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  return std::optional<std::string>(s.str());
}

Result<void> WriteState(const std::string& dir, std::string_view origin, std::string_view text) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "cannot create the state folder " + dir);
  const fs::path path = fs::path(dir) / StateFileName(origin);
  const fs::path temp = fs::path(dir) / (StateFileName(origin) + ".new");
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrorCode::kUnavailable, Posix("cannot write", temp.string()));
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto e = Fail(ErrorCode::kUnavailable, Posix("cannot write", temp.string()));
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto e = Fail(ErrorCode::kUnavailable, Posix("cannot sync", temp.string()));
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return Fail(ErrorCode::kUnavailable, Posix("cannot rename onto", path.string()));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Fail(ErrorCode::kUnavailable, Posix("cannot open the folder", dir));
  const int synced = ::fsync(dfd);
  ::close(dfd);
  if (synced != 0) return Fail(ErrorCode::kUnavailable, Posix("cannot sync the folder", dir));
  return {};
}

Result<std::optional<SignedCheckpoint>> KeptCheckpoint(const std::string& dir,
                                                       const note::Verifier& log_key,
                                                       std::string_view origin) {
  auto text = ReadState(dir, origin);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<SignedCheckpoint>();
  auto kept = VerifyCheckpoint(**text, log_key, "the kept checkpoint");
  if (!kept) {
    return Fail(ErrorCode::kValidationFailed,
                kept.error().message + " (state file " + StateFileName(origin) + ")");
  }
  if (kept->checkpoint.origin != origin) {
    return Fail(ErrorCode::kValidationFailed,
                "the state file " + StateFileName(origin) + " holds a checkpoint of " +
                    kept->checkpoint.origin + ", not of " + std::string(origin));
  }
  return std::optional<SignedCheckpoint>(std::move(*kept));
}

Result<void> CheckAgainstKept(const Client& client, const SignedCheckpoint& kept,
                              const SignedCheckpoint& fresh) {
  return CheckExtends(client, kept.checkpoint, fresh.checkpoint, "the kept checkpoint",
                      "the latest checkpoint");
}

std::uint64_t NowSeconds() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace expertflow::app::proof
