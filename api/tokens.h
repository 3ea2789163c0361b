#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/time.h"
#include "engine/decide/policy.h"
#include "engine/log/event_log.h"
#include "engine/model/directory.h"

namespace expertflow::api {

// A bearer token as stored: never the token itself, only its SHA-256 (API.md, Authentication).
struct TokenRecord {
  std::string id;  // public, 12 hex characters; the first part of the token
  std::string org;
  std::string role;
  std::string name;
  std::string created_at;
  bool revoked = false;
};

struct IssuedToken {
  TokenRecord record;
  std::string token;  // "<id>.<64 hex of 32 random bytes>": shown once, stored hashed
};

// The roles of API.md (one list, in engine/model/directory.h).
using engine::IsKnownRole;

// Tokens live in Space::kTokens, written through the event log's atomic batches:
//   "t/<id>" -> {"hash": hex SHA-256 of the whole token, "org", "role", "name", "created_at",
//                "revoked"}
// A token is "<id>.<secret>": the id finds the record, and the hash of the presented token is
// compared with the stored one in constant time. Revocation writes the record again, so it takes
// effect on the next request.
class TokenStore {
 public:
  TokenStore(engine::EventLog& log, const engine::Directory& directory)
      : log_(log), directory_(directory) {}

  // 32 bytes from OpenSSL's CSPRNG. Refuses an unknown organisation or role.
  engine::Result<IssuedToken> Issue(std::string_view org, std::string_view role,
                                    std::string_view name, engine::Timestamp now);
  engine::Result<void> Revoke(std::string_view id);
  engine::Result<std::vector<TokenRecord>> List() const;
  engine::Result<std::optional<TokenRecord>> Find(std::string_view id) const;
  // The principal of a presented token, or kUnauthenticated (missing, unknown, revoked, malformed).
  engine::Result<engine::Principal> Authenticate(std::string_view token) const;
  // True when some admin token is not revoked (a start without one writes one).
  engine::Result<bool> HasActiveAdmin() const;

 private:
  struct Cached {
    engine::Hash hash{};
    engine::Principal principal;
    bool revoked = false;
  };
  std::optional<Cached> Lookup(std::string_view id) const;

  engine::EventLog& log_;
  const engine::Directory& directory_;
  // Records read once and kept: every request authenticates, and a store read plus a JSON parse
  // per request cost a third of a GET. Issue and Revoke go through this object, and no other
  // process can write the store while the server holds it, so the cache cannot go stale.
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Cached> cache_;
};

}  // namespace expertflow::api
