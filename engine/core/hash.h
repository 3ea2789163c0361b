#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace expertflow::engine {

// A SHA-256 digest. hash(0) of the chain is all zeros (API.md, Events).
using Hash = std::array<std::uint8_t, 32>;

inline constexpr Hash kZeroHash{};

// SHA-256 of `prev` (raw 32 bytes) followed by `record` (API.md: the chain rule). OpenSSL computes
// it.
Hash ChainHash(const Hash& prev, std::string_view record);

// RFC 9162 §2.1.1 (the Merkle tree over the log, docs/audit.md): a leaf's hash is
// SHA-256(0x00 || record), an interior node's SHA-256(0x01 || left || right).
Hash LeafHash(std::string_view record);
Hash NodeHash(const Hash& left, const Hash& right);

// Plain SHA-256 of bytes, e.g. of a bearer token.
Hash Sha256(std::string_view bytes);

// SHA-256 of bytes given a piece at a time (an attachment streamed in). Not copyable.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view bytes);
  // The digest of everything given; the stream starts again empty.
  Hash Final();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Lower-case hex, 64 characters.
std::string ToHex(const Hash& hash);
// Lower-case hex of any bytes (a random id, an HMAC).
std::string ToHex(const unsigned char* data, std::size_t n);
// Appends the 64 hex characters of `hash` to `out` (no allocation beyond the append).
void AppendHex(const Hash& hash, std::string& out);
// Parses exactly 64 hex characters (either case); nullopt otherwise.
std::optional<Hash> HashFromHex(std::string_view hex);

}  // namespace expertflow::engine
