#include "engine/core/note.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <memory>

namespace expertflow::engine::note {
namespace {

// The em dash (U+2014) and the space that open every signature line.
constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";
constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";
constexpr std::size_t kEd25519SignatureSize = 64;
// A cosignature v1: timestamp (8 bytes) and the Ed25519 signature, after the key id.
constexpr std::size_t kCosignatureSize = 8 + kEd25519SignatureSize;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Overwrites secret bytes before their memory is released.
void Cleanse(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

// OpenSSL wants a pointer even for zero bytes; an empty string_view may hold none.
const unsigned char* Bytes(std::string_view s) {
  static constexpr unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view View(const Ed25519Key& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

void AppendBigEndian32(std::uint32_t v, std::string& out) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift & 0xff));
}

void AppendBigEndian64(std::uint64_t v, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift & 0xff));
}

std::uint64_t ReadBigEndian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (char c : bytes) v = v << 8 | static_cast<unsigned char>(c);
  return v;
}

std::string Hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(v));
  return std::string(buf, 8);
}

std::optional<std::uint32_t> ParseHex8(std::string_view hex) {
  if (hex.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : hex) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = v << 4 | static_cast<std::uint32_t>(d);
  }
  return v;
}

// Decodes the UTF-8 code point at s[i] and advances i past it; false on a malformed sequence
// (truncated, bad continuation, overlong, a surrogate, beyond U+10FFFF).
bool DecodeRune(std::string_view s, std::size_t& i, char32_t& rune) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    rune = b0;
    ++i;
    return true;
  }
  std::size_t n;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, rune = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, rune = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, rune = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < n) return false;
  for (std::size_t k = 1; k < n; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    rune = rune << 6 | (b & 0x3F);
  }
  if (rune < min || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return false;
  i += n;
  return true;
}

// Unicode White_Space, as Go's unicode.IsSpace reports it.
bool IsUnicodeSpace(char32_t r) {
  return (r >= 0x09 && r <= 0x0D) || r == 0x20 || r == 0x85 || r == 0xA0 || r == 0x1680 ||
         (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F ||
         r == 0x3000;
}

// Valid UTF-8 with no code point below U+0020 other than "\n" (the rule for a whole note).
bool IsCleanUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    char32_t r;
    if (!DecodeRune(s, i, r)) return false;
    if (r < 0x20 && r != '\n') return false;
  }
  return true;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The parts of "<name>+<hex id>+<base64(alg || 32-byte key)>", checked for form only.
struct KeyParts {
  std::string name;
  std::uint32_t key_id = 0;
  std::uint8_t alg = 0;
  Ed25519Key key{};
};

Result<KeyParts> ParseKeyParts(std::string_view text) {
  auto first = text.find('+');
  if (first == std::string_view::npos) return Fail(ErrorCode::kValidationFailed, "key: no '+'");
  std::string_view name = text.substr(0, first);
  std::string_view rest = text.substr(first + 1);
  auto second = rest.find('+');
  if (second == std::string_view::npos) {
    return Fail(ErrorCode::kValidationFailed, "key: no key id");
  }
  if (!IsValidKeyName(name)) return Fail(ErrorCode::kValidationFailed, "key: invalid name");
  auto id = ParseHex8(rest.substr(0, second));
  if (!id) return Fail(ErrorCode::kValidationFailed, "key: the key id is not 8 hex digits");
  auto raw = FromBase64(rest.substr(second + 1));
  if (!raw || raw->size() != 1 + 32) {
    if (raw) Cleanse(*raw);
    return Fail(ErrorCode::kValidationFailed, "key: the key is not base64 of 33 bytes");
  }
  KeyParts parts;
  parts.name = std::string(name);
  parts.key_id = *id;
  parts.alg = static_cast<std::uint8_t>((*raw)[0]);
  std::copy_n(reinterpret_cast<const std::uint8_t*>(raw->data()) + 1, 32, parts.key.begin());
  Cleanse(*raw);
  if (parts.alg != kAlgEd25519 && parts.alg != kAlgCosignatureV1) {
    OPENSSL_cleanse(parts.key.data(), parts.key.size());
    return Fail(ErrorCode::kValidationFailed, "key: unknown algorithm");
  }
  return parts;
}

std::string EncodeKey(std::string_view name, std::uint32_t key_id, std::uint8_t alg,
                      const Ed25519Key& key) {
  std::string raw(1, static_cast<char>(alg));
  raw.append(View(key));
  std::string out(name);
  out += '+';
  out += Hex8(key_id);
  out += '+';
  out += Base64(raw);
  Cleanse(raw);
  return out;
}

std::string SignatureLine(std::string_view name, std::string_view bytes) {
  std::string line(kSigPrefix);
  line += name;
  line += ' ';
  line += Base64(bytes);
  line += '\n';
  return line;
}

std::string CosignedMessage(std::uint64_t timestamp, std::string_view checkpoint_text) {
  std::string message = "cosignature/v1\ntime ";
  message += std::to_string(timestamp);
  message += '\n';
  message += checkpoint_text;
  return message;
}

// Checks that a key's fields agree enough to sign with it, for `alg`.
std::optional<Error> UnusableKey(const SigningKey& key, std::uint8_t alg) {
  if (key.alg != alg) {
    return Error{ErrorCode::kValidationFailed,
                 alg == kAlgEd25519 ? "a witness key signs cosignatures only"
                                    : "a cosignature needs a witness key (algorithm 4)"};
  }
  if (!IsValidKeyName(key.name)) return Error{ErrorCode::kValidationFailed, "invalid key name"};
  if (KeyId(key.name, key.alg, key.public_key) != key.key_id) {
    return Error{ErrorCode::kValidationFailed, "the key id does not match the public key"};
  }
  return std::nullopt;
}

// The lines of `note` that carry `verifier`'s name and key id.
std::vector<const Signature*> LinesOf(const Verifier& verifier, const Note& note) {
  std::vector<const Signature*> lines;
  for (const Signature& sig : note.signatures) {
    if (sig.name == verifier.name && sig.key_id == verifier.key_id) lines.push_back(&sig);
  }
  return lines;
}

}  // namespace

// --- Encodings -----------------------------------------------------------------------------

std::string Base64(std::string_view bytes) {
  // EVP_EncodeBlock takes an int length and writes a NUL after its output: whole 3-byte groups
  // in bounded chunks, into a buffer one byte longer than the result.
  constexpr std::size_t kChunk = 3 * (1 << 20);
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  std::size_t in = 0;
  std::size_t written = 0;
  while (in < bytes.size()) {
    std::size_t n = std::min(kChunk, bytes.size() - in);
    int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()) + written,
                              Bytes(bytes.substr(in)), static_cast<int>(n));
    written += static_cast<std::size_t>(len);
    in += n;
  }
  out.resize(written);
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (Base64Value(text[i]) < 0) return std::nullopt;
  }
  // The bits of the last character beyond the data must be zero: one encoding per byte string.
  int last = Base64Value(text[text.size() - padding - 1]);
  if ((padding == 1 && (last & 0x03) != 0) || (padding == 2 && (last & 0x0F) != 0)) {
    return std::nullopt;
  }
  // EVP_DecodeBlock decodes whole 4-character groups (padding to zero bytes, which we drop) and
  // takes an int length: bounded chunks.
  constexpr std::size_t kChunk = 4 * (1 << 20);
  std::string out(text.size() / 4 * 3, '\0');
  std::size_t in = 0;
  std::size_t written = 0;
  while (in < text.size()) {
    std::size_t n = std::min(kChunk, text.size() - in);
    int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()) + written,
                              Bytes(text.substr(in)), static_cast<int>(n));
    if (len < 0 || static_cast<std::size_t>(len) != n / 4 * 3) return std::nullopt;
    written += static_cast<std::size_t>(len);
    in += n;
  }
  out.resize(written - padding);
  return out;
}

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size();) {
    char32_t r;
    if (!DecodeRune(name, i, r)) return false;
    if (r < 0x20 || r == '+' || IsUnicodeSpace(r)) return false;
  }
  return true;
}

bool IsValidNoteText(std::string_view text) {
  return !text.empty() && text.back() == '\n' && IsCleanUtf8(text);
}

// --- Keys ----------------------------------------------------------------------------------

std::uint32_t KeyId(std::string_view name, std::uint8_t alg, const Ed25519Key& public_key) {
  std::string input(name);
  input += '\n';
  input += static_cast<char>(alg);
  input += View(public_key);
  Hash digest = Sha256(input);
  return static_cast<std::uint32_t>(digest[0]) << 24 | static_cast<std::uint32_t>(digest[1]) << 16 |
         static_cast<std::uint32_t>(digest[2]) << 8 | static_cast<std::uint32_t>(digest[3]);
}

Result<SigningKey> KeyFromSeed(std::string_view name, const Ed25519Key& seed, std::uint8_t alg) {
  if (!IsValidKeyName(name)) return Fail(ErrorCode::kValidationFailed, "invalid key name");
  if (alg != kAlgEd25519 && alg != kAlgCosignatureV1) {
    return Fail(ErrorCode::kValidationFailed, "unknown key algorithm");
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  SigningKey key;
  std::size_t len = key.public_key.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), key.public_key.data(), &len) != 1 ||
      len != key.public_key.size()) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "OpenSSL could not derive an Ed25519 public key");
  }
  key.name = std::string(name);
  key.seed = seed;
  key.alg = alg;
  key.key_id = KeyId(name, alg, key.public_key);
  return key;
}

namespace {
Result<SigningKey> GenerateWith(std::string_view name, std::uint8_t alg) {
  Ed25519Key seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "OpenSSL's RAND_bytes failed");
  }
  auto key = KeyFromSeed(name, seed, alg);
  OPENSSL_cleanse(seed.data(), seed.size());
  return key;
}
}  // namespace

Result<SigningKey> GenerateKey(std::string_view name) { return GenerateWith(name, kAlgEd25519); }

Result<SigningKey> GenerateWitnessKey(std::string_view name) {
  return GenerateWith(name, kAlgCosignatureV1);
}

std::string EncodePrivateKey(const SigningKey& key) {
  return std::string(kPrivatePrefix) + EncodeKey(key.name, key.key_id, key.alg, key.seed);
}

Result<SigningKey> ParsePrivateKey(std::string_view text) {
  if (!text.starts_with(kPrivatePrefix)) {
    return Fail(ErrorCode::kValidationFailed, "private key: no PRIVATE+KEY+ prefix");
  }
  auto parts = ParseKeyParts(text.substr(kPrivatePrefix.size()));
  if (!parts) return std::unexpected(parts.error());
  auto key = KeyFromSeed(parts->name, parts->key, parts->alg);
  OPENSSL_cleanse(parts->key.data(), parts->key.size());
  if (!key) return key;
  if (key->key_id != parts->key_id) {
    return Fail(ErrorCode::kValidationFailed, "private key: the key id does not match the key");
  }
  return key;
}

std::string VerifierKey(const SigningKey& key) {
  return EncodeKey(key.name, key.key_id, key.alg, key.public_key);
}

std::string VerifierKey(const Verifier& verifier) {
  return EncodeKey(verifier.name, verifier.key_id, verifier.alg, verifier.public_key);
}

Result<Verifier> ParseVerifierKey(std::string_view text) {
  auto parts = ParseKeyParts(text);
  if (!parts) return std::unexpected(parts.error());
  if (KeyId(parts->name, parts->alg, parts->key) != parts->key_id) {
    return Fail(ErrorCode::kValidationFailed, "verifier key: the key id does not match the key");
  }
  return Verifier{parts->name, parts->key_id, parts->alg, parts->key};
}

Verifier VerifierOf(const SigningKey& key) {
  return Verifier{key.name, key.key_id, key.alg, key.public_key};
}

// --- Ed25519 -------------------------------------------------------------------------------

Result<std::string> Ed25519Sign(const Ed25519Key& seed, std::string_view message) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureSize, '\0');
  std::size_t len = signature.size();
  // Ed25519 hashes internally: no digest is named.
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     Bytes(message), message.size()) != 1 ||
      len != kEd25519SignatureSize) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "OpenSSL could not make an Ed25519 signature");
  }
  return signature;
}

bool Ed25519Verify(const Ed25519Key& public_key, std::string_view message,
                   std::string_view signature) {
  if (signature.size() != kEd25519SignatureSize) return false;
  PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = pkey && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                             message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// --- Notes ---------------------------------------------------------------------------------

Result<Note> ParseNote(std::string_view message) {
  if (!IsCleanUtf8(message)) {
    return Fail(ErrorCode::kValidationFailed,
                "note: not valid UTF-8, or holds a control character other than newline");
  }
  auto split = message.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Fail(ErrorCode::kValidationFailed, "note: no blank line before the signatures");
  }
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  std::string_view rest = message.substr(split + 2);
  if (rest.empty()) return Fail(ErrorCode::kValidationFailed, "note: no signature lines");
  if (rest.back() != '\n') {
    return Fail(ErrorCode::kValidationFailed, "note: the last signature line has no newline");
  }
  while (!rest.empty()) {
    auto end = rest.find('\n');  // found: rest ends in a newline
    std::string_view whole = rest.substr(0, end + 1);
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (note.signatures.size() == kMaxSignatures) {
      return Fail(ErrorCode::kValidationFailed, "note: more than 100 signatures");
    }
    if (!line.starts_with(kSigPrefix)) {
      return Fail(ErrorCode::kValidationFailed, "note: a signature line does not begin with '— '");
    }
    line.remove_prefix(kSigPrefix.size());
    auto space = line.find(' ');
    if (space == std::string_view::npos) {
      return Fail(ErrorCode::kValidationFailed, "note: a signature line has no signature");
    }
    std::string_view name = line.substr(0, space);
    if (!IsValidKeyName(name)) {
      return Fail(ErrorCode::kValidationFailed, "note: a signature line has an invalid key name");
    }
    auto raw = FromBase64(line.substr(space + 1));
    if (!raw || raw->size() < 5) {
      return Fail(ErrorCode::kValidationFailed,
                  "note: a signature is not base64 of a key id and at least one byte");
    }
    Signature sig;
    sig.name = std::string(name);
    sig.key_id = static_cast<std::uint32_t>(ReadBigEndian(std::string_view(*raw).substr(0, 4)));
    sig.bytes = raw->substr(4);
    sig.line = std::string(whole);
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

std::string FormatNote(const Note& note) {
  std::string out = note.text;
  out += '\n';
  for (const Signature& sig : note.signatures) out += sig.line;
  return out;
}

Result<std::string> SignNote(const SigningKey& key, std::string_view text) {
  if (auto bad = UnusableKey(key, kAlgEd25519)) return std::unexpected(std::move(*bad));
  if (!IsValidNoteText(text)) {
    return Fail(ErrorCode::kValidationFailed,
                "note text: empty, not ending in a newline, not UTF-8, or with control characters");
  }
  auto signature = Ed25519Sign(key.seed, text);
  if (!signature) return std::unexpected(signature.error());
  std::string bytes;
  AppendBigEndian32(key.key_id, bytes);
  bytes += *signature;
  return SignatureLine(key.name, bytes);
}

bool VerifyNote(const Verifier& verifier, const Note& note) {
  if (verifier.alg != kAlgEd25519) return false;
  auto lines = LinesOf(verifier, note);
  if (lines.empty()) return false;
  return std::all_of(lines.begin(), lines.end(), [&](const Signature* sig) {
    return Ed25519Verify(verifier.public_key, note.text, sig->bytes);
  });
}

Result<std::string> Cosign(const SigningKey& witness, std::string_view checkpoint_text,
                           std::uint64_t timestamp) {
  if (auto bad = UnusableKey(witness, kAlgCosignatureV1)) return std::unexpected(std::move(*bad));
  if (timestamp > kMaxTimestamp) {
    return Fail(ErrorCode::kValidationFailed, "cosignature: the timestamp exceeds 2^63 - 1");
  }
  if (auto checkpoint = ParseCheckpoint(checkpoint_text); !checkpoint) {
    return std::unexpected(checkpoint.error());
  }
  auto signature = Ed25519Sign(witness.seed, CosignedMessage(timestamp, checkpoint_text));
  if (!signature) return std::unexpected(signature.error());
  std::string bytes;
  AppendBigEndian32(witness.key_id, bytes);
  AppendBigEndian64(timestamp, bytes);
  bytes += *signature;
  return SignatureLine(witness.name, bytes);
}

std::optional<std::uint64_t> VerifyCosignature(const Verifier& witness, const Note& note) {
  if (witness.alg != kAlgCosignatureV1) return std::nullopt;
  auto lines = LinesOf(witness, note);
  if (lines.empty()) return std::nullopt;
  std::uint64_t latest = 0;
  for (const Signature* sig : lines) {
    if (sig->bytes.size() != kCosignatureSize) return std::nullopt;
    std::string_view bytes = sig->bytes;
    std::uint64_t timestamp = ReadBigEndian(bytes.substr(0, 8));
    if (timestamp > kMaxTimestamp) return std::nullopt;
    if (!Ed25519Verify(witness.public_key, CosignedMessage(timestamp, note.text),
                       bytes.substr(8))) {
      return std::nullopt;
    }
    latest = std::max(latest, timestamp);
  }
  return latest;
}

// --- Checkpoints ---------------------------------------------------------------------------

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  std::string out = checkpoint.origin;
  out += '\n';
  out += std::to_string(checkpoint.size);
  out += '\n';
  out += Base64(std::string_view(reinterpret_cast<const char*>(checkpoint.root.data()),
                                 checkpoint.root.size()));
  out += '\n';
  for (const std::string& line : checkpoint.extensions) {
    out += line;
    out += '\n';
  }
  return out;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (!IsValidNoteText(text)) {
    return Fail(
        ErrorCode::kValidationFailed,
        "checkpoint: empty, not ending in a newline, not UTF-8, or with control characters");
  }
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    auto end = rest.find('\n');  // found: the text ends in a newline
    lines.push_back(rest.substr(0, end));
    rest.remove_prefix(end + 1);
  }
  if (lines.size() < 3) return Fail(ErrorCode::kValidationFailed, "checkpoint: fewer than 3 lines");
  Checkpoint checkpoint;
  if (lines[0].empty()) return Fail(ErrorCode::kValidationFailed, "checkpoint: empty origin");
  checkpoint.origin = std::string(lines[0]);

  std::string_view size = lines[1];
  bool digits = !size.empty() &&
                std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (size.size() > 1 && size[0] == '0')) {
    return Fail(ErrorCode::kValidationFailed,
                "checkpoint: the size is not a decimal without leading zeros");
  }
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), checkpoint.size);
  if (ec != std::errc() || end != size.data() + size.size()) {
    return Fail(ErrorCode::kValidationFailed, "checkpoint: the size does not fit 64 bits");
  }

  auto root = FromBase64(lines[2]);
  if (!root || root->size() != checkpoint.root.size()) {
    return Fail(ErrorCode::kValidationFailed, "checkpoint: the root is not base64 of 32 bytes");
  }
  std::copy_n(reinterpret_cast<const std::uint8_t*>(root->data()), root->size(),
              checkpoint.root.begin());

  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return Fail(ErrorCode::kValidationFailed, "checkpoint: an empty extension line");
    }
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

}  // namespace expertflow::engine::note
