#include "engine/core/note.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace expertflow::engine::note {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Ed25519Key KeyFromHex(std::string_view hex) {
  std::string raw = Unhex(hex);
  Ed25519Key key{};
  std::copy(raw.begin(), raw.end(), key.begin());
  return key;
}

std::string Bytes(const Ed25519Key& key) { return std::string(key.begin(), key.end()); }

constexpr std::string_view kEmDash = "\xE2\x80\x94 ";

// A checkpoint text of a tree of 7 leaves whose root is 0x01 0x02 ... 0x20.
std::string SampleCheckpointText() {
  Checkpoint c;
  c.origin = "expertflow.example/log";
  c.size = 7;
  for (std::size_t i = 0; i < c.root.size(); ++i) c.root[i] = static_cast<std::uint8_t>(i + 1);
  return FormatCheckpoint(c);
}

TEST(NoteBase64, Rfc4648VectorsAndStrictDecoding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base64(plain), encoded);
    EXPECT_EQ(FromBase64(encoded), std::string(plain)) << encoded;
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    EXPECT_EQ(FromBase64(Base64(all.substr(0, n))), all.substr(0, n));
  }
  // Longer than the chunks OpenSSL is handed at a time.
  std::string big(7 * 1024 * 1024 + 1, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 12));
  std::string big64 = Base64(big);
  EXPECT_EQ(big64.size(), 4 * ((big.size() + 2) / 3));
  for (std::size_t at :
       {std::size_t{0}, std::size_t{3 << 20} - 3, std::size_t{3 << 20}, std::size_t{6 << 20}}) {
    EXPECT_EQ(big64.substr(at / 3 * 4, 8), Base64(big.substr(at, 6))) << at;
  }
  EXPECT_EQ(FromBase64(big64), big);
  for (std::string_view bad : {"Zg=", "Zg", "Z===", "====", "Zh==", "Zm9=", "Zm9v\n", " Zm9v",
                               "Zm=v", "Zm9v====", "Zg==Zg==", "Zm9v_-==", "Zm9v Yg=="}) {
    EXPECT_FALSE(FromBase64(bad)) << bad;
  }
}

TEST(NoteEd25519, Rfc8032TestVector1) {
  // RFC 8032 §7.1, TEST 1: the empty message.
  Ed25519Key seed = KeyFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  std::string public_key =
      Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  std::string expected = Unhex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
      "1cf9b46bd25bf5f0595bbe24655141438e7a100b");

  auto key = KeyFromSeed("rfc8032", seed, kAlgEd25519);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(Bytes(key->public_key), public_key);

  auto signature = Ed25519Sign(seed, "");
  ASSERT_TRUE(signature) << signature.error().ToString();
  EXPECT_EQ(*signature, expected);
  EXPECT_TRUE(Ed25519Verify(key->public_key, "", *signature));

  std::string flipped = *signature;
  flipped[10] ^= 0x01;
  EXPECT_FALSE(Ed25519Verify(key->public_key, "", flipped));
  EXPECT_FALSE(Ed25519Verify(key->public_key, "x", *signature));
  EXPECT_FALSE(Ed25519Verify(key->public_key, "", signature->substr(1)));
}

// The worked example of Go's sumdb/note package documentation: its keys, its text, and the
// signature Go made (Ed25519 is deterministic, so ours is byte for byte the same).
TEST(NoteGoExample, SameKeysSameSignature) {
  constexpr std::string_view kSkey =
      "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  constexpr std::string_view kVkey =
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const std::string text =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n";
  const std::string line =
      std::string(kEmDash) +
      "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
      "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

  auto key = ParsePrivateKey(kSkey);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->name, "PeterNeumann");
  EXPECT_EQ(key->key_id, 0xc74f20a3u);
  EXPECT_EQ(key->alg, kAlgEd25519);
  EXPECT_EQ(EncodePrivateKey(*key), kSkey);
  EXPECT_EQ(VerifierKey(*key), kVkey);

  auto signed_line = SignNote(*key, text);
  ASSERT_TRUE(signed_line) << signed_line.error().ToString();
  EXPECT_EQ(*signed_line, line);

  auto verifier = ParseVerifierKey(kVkey);
  ASSERT_TRUE(verifier) << verifier.error().ToString();
  auto note = ParseNote(text + "\n" + line);
  ASSERT_TRUE(note) << note.error().ToString();
  EXPECT_EQ(note->text, text);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].line, line);
  EXPECT_TRUE(VerifyNote(*verifier, *note));
  EXPECT_EQ(FormatNote(*note), text + "\n" + line);
}

TEST(NoteKeys, GeneratedKeysRoundTrip) {
  auto key = GenerateKey("expertflow.example/log");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->alg, kAlgEd25519);
  EXPECT_EQ(key->key_id, KeyId(key->name, kAlgEd25519, key->public_key));
  auto other = GenerateKey("expertflow.example/log");
  ASSERT_TRUE(other);
  EXPECT_NE(key->seed, other->seed);

  std::string skey = EncodePrivateKey(*key);
  EXPECT_TRUE(skey.starts_with("PRIVATE+KEY+expertflow.example/log+"));
  auto parsed = ParsePrivateKey(skey);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->name, key->name);
  EXPECT_EQ(parsed->seed, key->seed);
  EXPECT_EQ(parsed->public_key, key->public_key);
  EXPECT_EQ(parsed->key_id, key->key_id);
  EXPECT_EQ(parsed->alg, key->alg);

  std::string vkey = VerifierKey(*key);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", key->key_id);
  EXPECT_EQ(vkey.substr(0, vkey.find('+', 23) + 1),
            "expertflow.example/log+" + std::string(hex) + "+");
  auto verifier = ParseVerifierKey(vkey);
  ASSERT_TRUE(verifier) << verifier.error().ToString();
  EXPECT_EQ(verifier->name, key->name);
  EXPECT_EQ(verifier->key_id, key->key_id);
  EXPECT_EQ(verifier->alg, kAlgEd25519);
  EXPECT_EQ(verifier->public_key, key->public_key);
  EXPECT_EQ(VerifierKey(*verifier), vkey);

  auto witness = GenerateWitnessKey("witness.example/w1");
  ASSERT_TRUE(witness);
  EXPECT_EQ(witness->alg, kAlgCosignatureV1);
  auto witness_parsed = ParsePrivateKey(EncodePrivateKey(*witness));
  ASSERT_TRUE(witness_parsed) << witness_parsed.error().ToString();
  EXPECT_EQ(witness_parsed->alg, kAlgCosignatureV1);
  EXPECT_EQ(witness_parsed->key_id, witness->key_id);
  auto witness_verifier = ParseVerifierKey(VerifierKey(*witness));
  ASSERT_TRUE(witness_verifier);
  EXPECT_EQ(witness_verifier->alg, kAlgCosignatureV1);
  // The verifier key's base64 opens with the algorithm byte 0x04.
  std::string vw = VerifierKey(*witness);
  // (The base64 may hold '+' too: the key starts after the second one.)
  std::size_t key_start = vw.find('+', vw.find('+') + 1) + 1;
  EXPECT_EQ(FromBase64(vw.substr(key_start))->at(0), '\x04');
}

TEST(NoteKeys, TheAlgorithmByteSeparatesKeyIds) {
  Ed25519Key seed{};
  seed[0] = 7;
  auto plain = KeyFromSeed("same.example", seed, kAlgEd25519);
  auto witness = KeyFromSeed("same.example", seed, kAlgCosignatureV1);
  ASSERT_TRUE(plain && witness);
  EXPECT_EQ(plain->public_key, witness->public_key);
  EXPECT_NE(plain->key_id, witness->key_id);
  EXPECT_FALSE(KeyFromSeed("same.example", seed, 2));
  EXPECT_FALSE(KeyFromSeed("bad name", seed, kAlgEd25519));
}

TEST(NoteKeys, ParsersRefuseMalformedKeys) {
  auto key = GenerateKey("k.example");
  ASSERT_TRUE(key);
  std::string vkey = VerifierKey(*key);
  std::string skey = EncodePrivateKey(*key);

  std::string wrong_id = vkey;
  wrong_id[vkey.find('+') + 1] = wrong_id[vkey.find('+') + 1] == '0' ? '1' : '0';
  std::string renamed = "j" + vkey.substr(1);
  std::string upper = vkey;
  for (std::size_t i = vkey.find('+') + 1; i < vkey.find('+') + 9; ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  EXPECT_TRUE(ParseVerifierKey(upper));  // hex of either case, as Go reads it

  std::string raw = std::string(1, '\x02') + Bytes(key->public_key);
  std::string alg2 = "k.example+" + vkey.substr(10, 8) + "+" + Base64(raw);
  std::string shortkey = "k.example+" + vkey.substr(10, 8) + "+" + Base64(raw.substr(0, 32));

  for (const std::string& bad :
       {wrong_id, renamed, alg2, shortkey, std::string("k.example"), std::string("k.example+abc"),
        "k.example+" + vkey.substr(10, 7) + "+" + vkey.substr(19), "k example" + vkey.substr(9),
        "+" + vkey.substr(10), vkey + "=", vkey.substr(0, vkey.size() - 1), skey}) {
    EXPECT_FALSE(ParseVerifierKey(bad)) << bad;
  }
  for (const std::string& bad :
       {vkey, "PRIVATE+KEY+j" + skey.substr(13), "private+key+" + skey.substr(12),
        skey.substr(0, skey.size() - 2)}) {
    EXPECT_FALSE(ParsePrivateKey(bad)) << bad;
  }
}

TEST(NoteKeys, KeyNames) {
  for (std::string_view good : {"a", "example.com/log42", "oid/1.3.6.1.4.1", "журнал"}) {
    EXPECT_TRUE(IsValidKeyName(good)) << good;
  }
  for (std::string_view bad : {"", "a b", "a+b", "a\tb", "a\nb", "a\x01", "a\xc2\xa0z",
                               "a\xe3\x80\x80z", "a\xff", "a\xc0\xafz", "\xed\xa0\x80"}) {
    EXPECT_FALSE(IsValidKeyName(bad)) << bad;
  }
}

class NoteSigned : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = GenerateKey("expertflow.example/log");
    ASSERT_TRUE(k);
    key = *k;
    verifier = VerifierOf(key);
    text = SampleCheckpointText();
    auto line = SignNote(key, text);
    ASSERT_TRUE(line) << line.error().ToString();
    message = text + "\n" + *line;
  }

  bool Verifies(const std::string& msg) {
    auto n = ParseNote(msg);
    return n && VerifyNote(verifier, *n);
  }

  SigningKey key;
  Verifier verifier;
  std::string text;
  std::string message;
};

TEST_F(NoteSigned, VerifiesAndParsesBack) {
  auto n = ParseNote(message);
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(n->text, text);
  ASSERT_EQ(n->signatures.size(), 1u);
  EXPECT_EQ(n->signatures[0].name, key.name);
  EXPECT_EQ(n->signatures[0].key_id, key.key_id);
  EXPECT_EQ(n->signatures[0].bytes.size(), 64u);
  EXPECT_TRUE(VerifyNote(verifier, *n));
  EXPECT_EQ(FormatNote(*n), message);

  // Through the verifier key string too.
  auto parsed = ParseVerifierKey(VerifierKey(key));
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(VerifyNote(*parsed, *n));
}

TEST_F(NoteSigned, TamperingFailsVerification) {
  // The text: a different size.
  std::string tampered_text = message;
  tampered_text[tampered_text.find("\n7\n") + 1] = '8';
  EXPECT_FALSE(Verifies(tampered_text));

  // The signature: one byte of the Ed25519 signature.
  auto n = ParseNote(message);
  ASSERT_TRUE(n);
  Note bad_sig = *n;
  bad_sig.signatures[0].bytes[20] ^= 0x40;
  EXPECT_FALSE(VerifyNote(verifier, bad_sig));

  // The same through the line's base64 (a character in the middle of the signature).
  std::string tampered_b64 = message;
  std::size_t pos = tampered_b64.size() - 20;
  tampered_b64[pos] = tampered_b64[pos] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Verifies(tampered_b64));

  // The name: the line no longer names the key, so nothing verifies.
  std::string renamed = message;
  renamed.replace(renamed.rfind("expertflow.example/log"), 22, "expertflow.example/lag");
  EXPECT_FALSE(Verifies(renamed));

  // The key id.
  Note other_id = *n;
  other_id.signatures[0].key_id ^= 1;
  EXPECT_FALSE(VerifyNote(verifier, other_id));

  // Another key of the same name.
  auto other = GenerateKey(key.name);
  ASSERT_TRUE(other);
  EXPECT_FALSE(VerifyNote(VerifierOf(*other), *n));
}

TEST_F(NoteSigned, LinesOfOtherKeysAreIgnoredButABadLineOfTheKeyRejects) {
  auto other = GenerateKey("another.example");
  ASSERT_TRUE(other);
  auto other_line = SignNote(*other, text);
  ASSERT_TRUE(other_line);
  auto both = ParseNote(message + *other_line);
  ASSERT_TRUE(both);
  EXPECT_TRUE(VerifyNote(verifier, *both));
  EXPECT_TRUE(VerifyNote(VerifierOf(*other), *both));

  // A second line of our key that does not verify rejects the note.
  Note doubled = *both;
  Signature bad = doubled.signatures[0];
  bad.bytes[0] ^= 1;
  doubled.signatures.push_back(bad);
  EXPECT_FALSE(VerifyNote(verifier, doubled));
}

TEST_F(NoteSigned, SigningRefusals) {
  EXPECT_FALSE(SignNote(key, ""));
  EXPECT_FALSE(SignNote(key, "no final newline"));
  EXPECT_FALSE(SignNote(key, "tab\there\n"));
  EXPECT_FALSE(SignNote(key, "bad \xff utf8\n"));
  SigningKey inconsistent = key;
  inconsistent.key_id ^= 1;
  EXPECT_FALSE(SignNote(inconsistent, text));
  auto witness = GenerateWitnessKey("witness.example");
  ASSERT_TRUE(witness);
  EXPECT_FALSE(SignNote(*witness, text));
  // A text with blank lines signs and parses back.
  std::string blank = "a\n\nb\n\n";
  auto line = SignNote(key, blank);
  ASSERT_TRUE(line);
  auto n = ParseNote(blank + "\n" + *line);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->text, blank);
  EXPECT_TRUE(VerifyNote(verifier, *n));
}

TEST(NoteParse, StrictRefusals) {
  const std::string dash(kEmDash);
  const std::string sig = "AAAAAAE=";  // key id 0, one byte
  const std::string ok = "text\n\n" + dash + "name " + sig + "\n";
  ASSERT_TRUE(ParseNote(ok));

  for (const std::string& bad : std::vector<std::string>{
           std::string(""),
           std::string("text\n"),
           "text\n" + dash + "name " + sig + "\n",                 // no blank line
           "text\n\n",                                             // no signature lines
           "text\n\n" + dash + "name " + sig,                      // no final newline
           "text\n\n- name " + sig + "\n",                         // not an em dash
           "text\n\n" + dash.substr(0, 3) + "name " + sig + "\n",  // no space after the dash
           "text\n\n" + dash + "name\n",                           // no signature
           "text\n\n" + dash + "name \n",                          // empty signature
           "text\n\n" + dash + "na+me " + sig + "\n",              // '+' in the name
           "text\n\n" + dash + " " + sig + "\n",                   // empty name
           "text\n\n" + dash + "name AAAAAA==\n",                  // only 4 bytes
           "text\n\n" + dash + "name AAAAAAE\n",                   // not padded
           "text\n\n" + dash + "name AAAAAAF=\n",                  // non-canonical
           "text\n\n" + dash + "name " + sig + " x\n",             // trailing junk
           "text\n\n" + dash + "name " + sig + "\nx\n",            // a line that is no signature
           "te\rxt\n\n" + dash + "name " + sig + "\n",             // a control character
           "te\xffxt\n\n" + dash + "name " + sig + "\n",           // not UTF-8
           "text\n\n" + dash + "name " + sig + "\n\n",             // a blank line at the end
       }) {
    EXPECT_FALSE(ParseNote(bad)) << bad;
  }
}

TEST(NoteParse, AtMostAHundredSignatures) {
  std::string message = "text\n\n";
  for (int i = 0; i < 100; ++i) message += std::string(kEmDash) + "name AAAAAAE=\n";
  auto hundred = ParseNote(message);
  ASSERT_TRUE(hundred);
  EXPECT_EQ(hundred->signatures.size(), 100u);
  message += std::string(kEmDash) + "name AAAAAAE=\n";
  EXPECT_FALSE(ParseNote(message));
}

TEST(NoteCosignature, VerifiesOnlyWithTheWitnessKeyAndItsTimestamp) {
  auto witness = GenerateWitnessKey("witness.example/w1");
  ASSERT_TRUE(witness);
  std::string text = SampleCheckpointText();
  constexpr std::uint64_t kTime = 1679315147;
  auto line = Cosign(*witness, text, kTime);
  ASSERT_TRUE(line) << line.error().ToString();
  auto n = ParseNote(text + "\n" + *line);
  ASSERT_TRUE(n) << n.error().ToString();
  ASSERT_EQ(n->signatures.size(), 1u);
  const Signature& sig = n->signatures[0];
  EXPECT_EQ(sig.key_id, witness->key_id);
  ASSERT_EQ(sig.bytes.size(), 72u);

  // The wire form: timestamp big-endian, then an Ed25519 signature over the v1 message.
  EXPECT_EQ(sig.bytes.substr(0, 8), Unhex("00000000641850cb"));
  EXPECT_TRUE(Ed25519Verify(witness->public_key, "cosignature/v1\ntime 1679315147\n" + text,
                            sig.bytes.substr(8)));

  Verifier wv = VerifierOf(*witness);
  EXPECT_EQ(VerifyCosignature(wv, *n), kTime);
  auto wv_parsed = ParseVerifierKey(VerifierKey(*witness));
  ASSERT_TRUE(wv_parsed);
  EXPECT_EQ(VerifyCosignature(*wv_parsed, *n), kTime);

  // The same public key as an alg-1 verifier: another key id, and not a cosigner.
  Verifier as_plain{wv.name, KeyId(wv.name, kAlgEd25519, wv.public_key), kAlgEd25519,
                    wv.public_key};
  EXPECT_FALSE(VerifyCosignature(as_plain, *n));
  EXPECT_FALSE(VerifyNote(as_plain, *n));
  EXPECT_FALSE(VerifyNote(wv, *n));
  Verifier forced = wv;
  forced.alg = kAlgEd25519;
  EXPECT_FALSE(VerifyCosignature(forced, *n));

  // Another timestamp in the line does not verify.
  Note retimed = *n;
  retimed.signatures[0].bytes[7] ^= 1;
  EXPECT_FALSE(VerifyCosignature(wv, retimed));

  // Another checkpoint does not verify.
  Note other_text = *n;
  other_text.text[other_text.text.find("\n7\n") + 1] = '9';
  EXPECT_FALSE(VerifyCosignature(wv, other_text));

  // Another witness does not verify.
  auto stranger = GenerateWitnessKey("witness.example/w1");
  ASSERT_TRUE(stranger);
  EXPECT_FALSE(VerifyCosignature(VerifierOf(*stranger), *n));

  // A log signature and a cosignature side by side, each verified by its own key.
  auto log = GenerateKey("expertflow.example/log");
  ASSERT_TRUE(log);
  auto log_line = SignNote(*log, text);
  ASSERT_TRUE(log_line);
  auto both = ParseNote(text + "\n" + *log_line + *line);
  ASSERT_TRUE(both);
  EXPECT_TRUE(VerifyNote(VerifierOf(*log), *both));
  EXPECT_EQ(VerifyCosignature(wv, *both), kTime);
  EXPECT_FALSE(VerifyCosignature(wv, *ParseNote(text + "\n" + *log_line)));
}

TEST(NoteCosignature, Refusals) {
  auto witness = GenerateWitnessKey("witness.example/w1");
  auto log = GenerateKey("expertflow.example/log");
  ASSERT_TRUE(witness && log);
  std::string text = SampleCheckpointText();
  EXPECT_FALSE(Cosign(*log, text, 1));
  EXPECT_FALSE(Cosign(*witness, "not a checkpoint\n", 1));
  EXPECT_FALSE(Cosign(*witness, text, kMaxTimestamp + 1));
  auto max = Cosign(*witness, text, kMaxTimestamp);
  ASSERT_TRUE(max);
  EXPECT_EQ(VerifyCosignature(VerifierOf(*witness), *ParseNote(text + "\n" + *max)), kMaxTimestamp);
  auto zero = Cosign(*witness, text, 0);
  ASSERT_TRUE(zero);
  EXPECT_EQ(VerifyCosignature(VerifierOf(*witness), *ParseNote(text + "\n" + *zero)), 0u);
}

TEST(NoteCheckpoint, FormatsAndParsesBack) {
  Checkpoint c;
  c.origin = "expertflow.example/log";
  c.size = 20852163;
  auto root = FromBase64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  ASSERT_TRUE(root);
  std::copy(root->begin(), root->end(), c.root.begin());
  EXPECT_EQ(FormatCheckpoint(c),
            "expertflow.example/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  auto parsed = ParseCheckpoint(FormatCheckpoint(c));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, c);

  c.extensions = {"extension one", "— two"};
  c.size = 0;
  parsed = ParseCheckpoint(FormatCheckpoint(c));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, c);

  c.size = UINT64_MAX;
  c.extensions.clear();
  EXPECT_EQ(ParseCheckpoint(FormatCheckpoint(c)), c);
}

TEST(NoteCheckpoint, StrictRefusals) {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  ASSERT_TRUE(ParseCheckpoint("o\n1\n" + root + "\n"));
  for (const std::string& bad : std::vector<std::string>{
           std::string(""),
           "o\n1\n" + root,                            // no final newline
           "o\n1\n",                                   // no root
           "\n1\n" + root + "\n",                      // empty origin
           "o\n01\n" + root + "\n",                    // leading zero
           "o\n00\n" + root + "\n",                    //
           "o\n+1\n" + root + "\n",                    // sign
           "o\n-1\n" + root + "\n",                    //
           "o\n 1\n" + root + "\n",                    // space
           "o\n\n" + root + "\n",                      // empty size
           "o\n0x1\n" + root + "\n",                   // hex
           "o\n18446744073709551616\n" + root + "\n",  // 2^64
           "o\n1\n" + root.substr(0, 40) + "\n",       // short root
           "o\n1\nAAAA" + root + "\n",                 // long root
           "o\n1\n" + root + "\n\n",                   // an empty extension line
           "o\n1\n" + root + "\next\n\n",              //
           "o\r\n1\n" + root + "\n",                   // a control character
       }) {
    EXPECT_FALSE(ParseCheckpoint(bad)) << bad;
  }
}

}  // namespace
}  // namespace expertflow::engine::note
