#pragma once

// Signed notes, transparency-log checkpoints and witness cosignatures, as C2SP specifies them
// (signed-note, tlog-checkpoint, tlog-cosignature v1), with Ed25519 through OpenSSL.
//
// A note is UTF-8 text of newline-terminated lines with no ASCII control character (below
// U+0020) other than newline. A signed note is the text, one blank line, and one or more signature
// lines:
//
//   example.com/log
//   42
//   <base64 root hash>
//
//   — example.com/log <base64(key id || signature)>
//
// A key is named (non-empty, no Unicode space, no '+', no control character), identified by
// its key id, the first four bytes (big-endian) of SHA-256(name || "\n" || alg || public key).
// Two algorithms are known: 1, Ed25519 over the note text, and 4, timestamped Ed25519 witness
// cosignatures over "cosignature/v1\ntime <t>\n" followed by the checkpoint text. A key of one
// algorithm never signs for the other.
//
// Nothing here throws: malformed input is a kValidationFailed error (or nullopt / false), a
// failure inside OpenSSL is kInternal.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/hash.h"

namespace expertflow::engine::note {

// Raw Ed25519 key material: a private key seed (RFC 8032) or a public key.
using Ed25519Key = std::array<std::uint8_t, 32>;

// Signature type identifier bytes (signed-note, Signature types).
inline constexpr std::uint8_t kAlgEd25519 = 0x01;
inline constexpr std::uint8_t kAlgCosignatureV1 = 0x04;

// ParseNote refuses a note with more signature lines than this (the specification asks every
// verifier to accept at least 16).
inline constexpr std::size_t kMaxSignatures = 100;

// The largest cosignature timestamp (tlog-cosignature: it must not exceed 2^63 - 1).
inline constexpr std::uint64_t kMaxTimestamp = 0x7fff'ffff'ffff'ffffULL;

// A private key with what is derived from it. `seed` is secret.
struct SigningKey {
  std::string name;
  Ed25519Key seed{};
  Ed25519Key public_key{};
  std::uint32_t key_id = 0;
  std::uint8_t alg = kAlgEd25519;  // kAlgEd25519 (signs notes) or kAlgCosignatureV1 (cosigns)
};

// A public key as a verifier is configured with it.
struct Verifier {
  std::string name;
  std::uint32_t key_id = 0;
  std::uint8_t alg = kAlgEd25519;
  Ed25519Key public_key{};
};

// One signature line of a note, parsed but not verified.
struct Signature {
  std::string name;
  std::uint32_t key_id = 0;
  std::string bytes;  // the decoded signature after the 4-byte key id
  std::string line;   // the whole line as it appeared: "— <name> <base64>\n"
};

// A signed note: its text (ending in "\n") and its signature lines in order.
struct Note {
  std::string text;
  std::vector<Signature> signatures;
};

// The text of a checkpoint (tlog-checkpoint).
struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // the optional lines after the root hash, without "\n"

  bool operator==(const Checkpoint&) const = default;
};

// --- Encodings -----------------------------------------------------------------------------

// Standard base64 (RFC 4648 §4) with padding.
std::string Base64(std::string_view bytes);
// Decodes standard padded base64 strictly: the length is a multiple of 4, only the alphabet, at
// most two '=' and only at the end, and the unused bits of the last character are zero (so every
// byte string has exactly one accepted encoding). nullopt otherwise.
std::optional<std::string> FromBase64(std::string_view text);

// Whether `name` may name a key: non-empty valid UTF-8 without Unicode spaces (those Go's
// unicode.IsSpace reports), '+' or ASCII control characters.
bool IsValidKeyName(std::string_view name);
// Whether `text` may be the text of a note: non-empty valid UTF-8 ending in "\n", without ASCII
// control characters other than "\n".
bool IsValidNoteText(std::string_view text);

// --- Keys ----------------------------------------------------------------------------------

// The key id of a public key: SHA-256(name || "\n" || alg || public_key)[:4], big-endian.
std::uint32_t KeyId(std::string_view name, std::uint8_t alg, const Ed25519Key& public_key);

// The key of `seed` for `alg` (kAlgEd25519 or kAlgCosignatureV1): derives the public key and id.
Result<SigningKey> KeyFromSeed(std::string_view name, const Ed25519Key& seed, std::uint8_t alg);
// A new random note-signing key (alg 1); the seed comes from OpenSSL's RAND_bytes.
Result<SigningKey> GenerateKey(std::string_view name);
// A new random witness key (alg 4), for cosignatures only.
Result<SigningKey> GenerateWitnessKey(std::string_view name);

// "PRIVATE+KEY+<name>+<8 hex key id>+<base64(alg || seed)>", as Go's note.GenerateKey writes it
// (for alg 1 Go's note.NewSigner accepts it). Secret.
std::string EncodePrivateKey(const SigningKey& key);
// Parses EncodePrivateKey's form for alg 1 or 4; the key id must be the one the seed derives.
Result<SigningKey> ParsePrivateKey(std::string_view text);

// "<name>+<8 lowercase hex key id>+<base64(alg || public key)>", the verifier key (vkey).
std::string VerifierKey(const SigningKey& key);
std::string VerifierKey(const Verifier& verifier);
// Parses a verifier key of alg 1 or 4 (hex digits of either case); the key id must match.
Result<Verifier> ParseVerifierKey(std::string_view text);
// The verifier of a signing key.
Verifier VerifierOf(const SigningKey& key);

// --- Ed25519 -------------------------------------------------------------------------------

// The 64-byte RFC 8032 Ed25519 signature of `message` by the key of `seed`.
Result<std::string> Ed25519Sign(const Ed25519Key& seed, std::string_view message);
// Whether `signature` (64 bytes) is a valid Ed25519 signature of `message` by `public_key`.
bool Ed25519Verify(const Ed25519Key& public_key, std::string_view message,
                   std::string_view signature);

// --- Notes ---------------------------------------------------------------------------------

// Parses a signed note strictly: valid UTF-8 without control characters other than "\n"; the
// text is everything up to the last blank line, and after it come 1..kMaxSignatures lines, each
// "— <valid key name> <base64 of at least 5 bytes>\n". Signatures are not verified here.
Result<Note> ParseNote(std::string_view message);
// The message of a note: text, a blank line, the signature lines (the inverse of ParseNote).
std::string FormatNote(const Note& note);

// The signature line "— <name> <base64(key id || Ed25519 signature of text)>\n" of `key`, which
// must be an alg-1 key, over `text`, which must be valid note text.
Result<std::string> SignNote(const SigningKey& key, std::string_view text);
// Whether `verifier` (alg 1) signed `note`: at least one signature line carries its name and key
// id, and every such line verifies over note.text (signed-note: a failing signature from a known
// key rejects the note). Lines of other keys are ignored.
bool VerifyNote(const Verifier& verifier, const Note& note);

// The cosignature line of `witness` (an alg-4 key) over the checkpoint `checkpoint_text` (it
// must parse with ParseCheckpoint) at `timestamp` (POSIX seconds, at most kMaxTimestamp):
// "— <name> <base64(key id || timestamp u64 big-endian || Ed25519 signature)>\n", the signed
// message being "cosignature/v1\ntime <timestamp>\n" followed by checkpoint_text.
Result<std::string> Cosign(const SigningKey& witness, std::string_view checkpoint_text,
                           std::uint64_t timestamp);
// The timestamp of the cosignature of `witness` (alg 4) on `note`: at least one line carries its
// name and key id, and every such line is 72 bytes whose signature verifies over its timestamp
// and note.text. With several such lines, the latest timestamp. nullopt otherwise.
std::optional<std::uint64_t> VerifyCosignature(const Verifier& witness, const Note& note);

// --- Checkpoints ---------------------------------------------------------------------------

// "<origin>\n<size>\n<base64 root>\n" and each extension line followed by "\n". The origin and the
// extensions must be non-empty and free of newlines for ParseCheckpoint to read it back.
std::string FormatCheckpoint(const Checkpoint& checkpoint);
// Parses checkpoint text strictly: valid note text, a non-empty origin, a decimal size without
// leading zeros that fits 64 bits, the canonical base64 of a 32-byte root, then non-empty
// extension lines.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

}  // namespace expertflow::engine::note
