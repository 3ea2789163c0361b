#include "api/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

#include "engine/core/hash.h"

namespace expertflow::api {
namespace {

constexpr std::string_view kPrefix = "t/";
constexpr std::size_t kIdHex = 12;
constexpr std::size_t kSecretBytes = 32;

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

nlohmann::json ToJson(const TokenRecord& r, const std::string& hash_hex) {
  return {{"hash", hash_hex},           {"org", r.org},        {"role", r.role}, {"name", r.name},
          {"created_at", r.created_at}, {"revoked", r.revoked}};
}

std::optional<TokenRecord> FromJson(std::string_view id, const nlohmann::json& j,
                                    std::string* hash) {
  if (!j.is_object()) return std::nullopt;
  TokenRecord r;
  r.id = std::string(id);
  r.org = j.value("org", "");
  r.role = j.value("role", "");
  r.name = j.value("name", "");
  r.created_at = j.value("created_at", "");
  r.revoked = j.value("revoked", false);
  if (hash) *hash = j.value("hash", "");
  return r;
}

// Why `org` cannot hold `role`, or nothing when it can. Auditors and admins may belong to
// organisations outside the registry (an audit chamber), and so may witnesses; everyone else acts
// for a registered organisation, in the role of its kind.
std::optional<engine::Error> CheckPrincipal(const engine::Directory& directory,
                                            std::string_view org, std::string_view role) {
  // A witness (docs/audit.md) cosigns checkpoints; it is an outside party too.
  if (role == "auditor" || role == "admin" || role == "witness") return std::nullopt;
  auto invalid = [](std::string field, std::string message, std::string detail) {
    return engine::Error{engine::ErrorCode::kValidationFailed,
                         std::move(detail),
                         {{"errors", {{{"field", field}, {"message", message}}}}}};
  };
  const engine::Organization* o = directory.FindOrganization(org);
  if (o == nullptr) {
    return invalid("org", "is not a known organisation",
                   "unknown organisation " + std::string(org));
  }
  if (!directory.MayHoldRole(*o, role)) {
    return invalid("role", "is not a role an organisation of kind " + o->kind + " holds",
                   std::string(org) + " (" + o->kind + ") cannot act as " + std::string(role));
  }
  return std::nullopt;
}

}  // namespace

engine::Result<IssuedToken> TokenStore::Issue(std::string_view org, std::string_view role,
                                              std::string_view name, engine::Timestamp now) {
  if (!IsKnownRole(role)) {
    return engine::Fail(
        engine::ErrorCode::kValidationFailed, "unknown role " + std::string(role),
        {{"errors", {{{"field", "role"}, {"message", "is not a role of API.md"}}}}});
  }
  if (auto refused = CheckPrincipal(directory_, org, role)) return std::unexpected(*refused);
  if (org.empty() || org.size() > 100 || name.size() > 200) {
    return engine::Fail(
        engine::ErrorCode::kValidationFailed, "org or name is out of bounds",
        {{"errors", {{{"field", "name"}, {"message", "must be at most 200 characters"}}}}});
  }
  unsigned char random[6 + kSecretBytes];
  if (RAND_bytes(random, sizeof random) != 1) {
    return engine::Fail(engine::ErrorCode::kInternal, "the random generator failed");
  }
  IssuedToken out;
  out.record.id = engine::ToHex(random, 6);
  out.record.org = std::string(org);
  out.record.role = std::string(role);
  out.record.name = std::string(name);
  out.record.created_at = engine::FormatRfc3339(now);
  out.token = out.record.id + "." + engine::ToHex(random + 6, kSecretBytes);
  const std::string hash = engine::ToHex(engine::Sha256(out.token));
  engine::AppendBatch batch;
  batch.writes.push_back({engine::Space::kTokens, std::string(kPrefix) + out.record.id,
                          ToJson(out.record, hash).dump()});
  if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  return out;
}

engine::Result<void> TokenStore::Revoke(std::string_view id) {
  auto stored = log_.Get(engine::Space::kTokens, std::string(kPrefix) + std::string(id));
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return engine::Fail(engine::ErrorCode::kNotFound, "no token " + std::string(id));
  auto j = nlohmann::json::parse(**stored, nullptr, false);
  if (!j.is_object())
    return engine::Fail(engine::ErrorCode::kCorruption, "token record is not JSON");
  j["revoked"] = true;
  engine::AppendBatch batch;
  batch.writes.push_back(
      {engine::Space::kTokens, std::string(kPrefix) + std::string(id), j.dump()});
  if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(std::string(id)); it != cache_.end()) it->second.revoked = true;
  return {};
}

engine::Result<std::vector<TokenRecord>> TokenStore::List() const {
  auto page = log_.Scan(engine::Space::kTokens, kPrefix, "t0", 100000);
  if (!page) return std::unexpected(page.error());
  std::vector<TokenRecord> out;
  for (const auto& [key, value] : *page) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (auto r = FromJson(std::string_view(key).substr(kPrefix.size()), j, nullptr))
      out.push_back(*r);
  }
  return out;
}

engine::Result<std::optional<TokenRecord>> TokenStore::Find(std::string_view id) const {
  auto stored = log_.Get(engine::Space::kTokens, std::string(kPrefix) + std::string(id));
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return std::optional<TokenRecord>();
  return FromJson(id, nlohmann::json::parse(**stored, nullptr, false), nullptr);
}

std::optional<TokenStore::Cached> TokenStore::Lookup(std::string_view id) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(std::string(id)); it != cache_.end()) return it->second;
  }
  auto stored = log_.Get(engine::Space::kTokens, std::string(kPrefix) + std::string(id));
  if (!stored || !*stored) return std::nullopt;
  std::string hash_hex;
  auto record = FromJson(id, nlohmann::json::parse(**stored, nullptr, false), &hash_hex);
  auto hash = engine::HashFromHex(hash_hex);
  // A record written before roles were checked against organisations authenticates no one.
  if (!record || !hash || CheckPrincipal(directory_, record->org, record->role))
    return std::nullopt;
  Cached c{*hash, engine::Principal{record->org, record->role, record->id}, record->revoked};
  std::lock_guard lock(mu_);
  cache_.insert_or_assign(std::string(id), c);
  return c;
}

engine::Result<engine::Principal> TokenStore::Authenticate(std::string_view token) const {
  auto unauthenticated = [] {
    return engine::Fail(engine::ErrorCode::kUnauthenticated, "missing, unknown or revoked token");
  };
  if (token.size() != kIdHex + 1 + 2 * kSecretBytes || token[kIdHex] != '.')
    return unauthenticated();
  std::string_view id = token.substr(0, kIdHex);
  if (!IsHex(id) || !IsHex(token.substr(kIdHex + 1))) return unauthenticated();
  auto cached = Lookup(id);
  if (!cached) return unauthenticated();
  const engine::Hash presented = engine::Sha256(token);
  // Constant time: how much of the hash matched must not show in the timing.
  if (CRYPTO_memcmp(presented.data(), cached->hash.data(), presented.size()) != 0 ||
      cached->revoked) {
    return unauthenticated();
  }
  // The registry changes (issue 15): the people of an organisation retired since the token was
  // cached act for it no more.
  if (CheckPrincipal(directory_, cached->principal.org, cached->principal.role))
    return unauthenticated();
  return cached->principal;
}

engine::Result<bool> TokenStore::HasActiveAdmin() const {
  auto list = List();
  if (!list) return std::unexpected(list.error());
  return std::any_of(list->begin(), list->end(),
                     [](const TokenRecord& r) { return r.role == "admin" && !r.revoked; });
}

}  // namespace expertflow::api
