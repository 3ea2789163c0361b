#pragma once

// What `expertflow audit` and `expertflow witness` share: a small HTTP client for a running
// server's proof endpoints, the bearer token from a file or the environment, the checkpoint a
// verifier keeps between runs (written atomically), and the local verification of everything the
// server answers: signatures, consistency and inclusion proofs. The server is never trusted.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/core/note.h"

namespace expertflow::app::proof {

using engine::Hash;
using engine::Result;

// The exit codes of audit and witness: 0 all verified, 1 something failed, 2 a usage error.
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// A base URL: http://HOST[:PORT][/PREFIX]. Only plain http is spoken.
struct Url {
  std::string host;
  std::string port = "80";
  std::string prefix;  // "" or "/something", no trailing slash
};
// nullopt for anything but http://host[:port][/prefix] (no query, no fragment, no user info).
std::optional<Url> ParseUrl(std::string_view text);

// The bearer token: the first line of `token_file` when given, else the environment variable
// EXPERTFLOW_TOKEN. An error (never naming the token) when neither holds one.
Result<std::string> ReadToken(const std::string& token_file);

struct Answer {
  int status = 0;
  std::string content_type;
  std::string body;
};

// One request per connection, with a time limit. Errors are network failures only: any HTTP
// status is an answer.
class Client {
 public:
  Client(Url url, std::string token) : url_(std::move(url)), token_(std::move(token)) {}
  Result<Answer> Get(const std::string& target) const;
  Result<Answer> Post(const std::string& target, const std::string& json_body) const;
  const Url& url() const { return url_; }

 private:
  Result<Answer> Send(bool post, const std::string& target, const std::string& body) const;
  Url url_;
  std::string token_;
};

// A checkpoint as a signed note whose log signature verified.
struct SignedCheckpoint {
  std::string message;  // the whole signed note as received
  engine::note::Note note;
  engine::note::Checkpoint checkpoint;
};

// Parses `message` as a signed note, verifies the log's signature with `log_key` and parses the
// checkpoint text. `what` names the note in errors ("the latest checkpoint").
Result<SignedCheckpoint> VerifyCheckpoint(std::string_view message,
                                          const engine::note::Verifier& log_key,
                                          std::string_view what);

// GET /api/v1/log/checkpoint, verified.
Result<SignedCheckpoint> FetchCheckpoint(const Client& client,
                                         const engine::note::Verifier& log_key);

// Whether the tree `to` extends the tree `from` (both verified checkpoints of one origin):
// from a smaller tree, a consistency proof fetched from the server and checked locally; for equal
// sizes, equal roots. The errors say "rollback", "fork" or "rewritten history".
Result<void> CheckExtends(const Client& client, const engine::note::Checkpoint& from,
                          const engine::note::Checkpoint& to, std::string_view from_name,
                          std::string_view to_name);

// The state a verifier keeps: per origin, the last checkpoint it accepted (the signed note), in
// `dir`/<hex SHA-256 of the origin>.
std::string StateFileName(std::string_view origin);
// nullopt when nothing was kept for the origin yet.
Result<std::optional<std::string>> ReadState(const std::string& dir, std::string_view origin);
// Writes a temporary file, syncs it, renames it over the state file and syncs the folder (which is
// created, mode 0700, when missing).
Result<void> WriteState(const std::string& dir, std::string_view origin, std::string_view text);

// The kept checkpoint for the fresh one's origin, verified again with `log_key` (a state file is
// no more trusted than the server), or nullopt when none was kept.
Result<std::optional<SignedCheckpoint>> KeptCheckpoint(const std::string& dir,
                                                       const engine::note::Verifier& log_key,
                                                       std::string_view origin);

// Rollback / fork / consistency of `fresh` against `kept` (see CheckExtends).
Result<void> CheckAgainstKept(const Client& client, const SignedCheckpoint& kept,
                              const SignedCheckpoint& fresh);

// A hash as JSON carries it (a hex string), or a list of them; nullopt when malformed.
std::optional<Hash> JsonHash(const nlohmann::json& value);
std::optional<std::vector<Hash>> JsonHashList(const nlohmann::json& value);

// Parses a JSON answer; an error naming `what` when it is not JSON or not a 200.
Result<nlohmann::json> JsonAnswer(const Result<Answer>& answer, std::string_view what);

// The current time in POSIX seconds.
std::uint64_t NowSeconds();

// "<origin> size N root <hex>", for reports and errors.
std::string Describe(const engine::note::Checkpoint& c);

}  // namespace expertflow::app::proof
