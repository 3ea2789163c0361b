#include "engine/runtime/checkpoints.h"

#include <map>
#include <nlohmann/json.hpp>

namespace expertflow::engine {
namespace {

using nlohmann::json;

// Space::kProofs: "c" + big-endian size -> {"note", "root", "made_at"}; "w" + big-endian size +
// witness name -> that witness's cosignature line; "latest" -> the latest checkpoint's size.
constexpr std::string_view kLatestKey = "latest";

std::string SizeKey(char kind, std::uint64_t size) {
  std::string k(1, kind);
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  return k;
}

std::uint64_t SizeOf(std::string_view key) {
  std::uint64_t v = 0;
  for (std::size_t i = 1; i < 9 && i < key.size(); ++i)
    v = v << 8 | static_cast<unsigned char>(key[i]);
  return v;
}

Result<StoredCheckpoint> Decode(std::uint64_t size, std::string_view value) {
  json j = json::parse(value, nullptr, false);
  if (!j.is_object() || !j.contains("note") || !j["note"].is_string())
    return Fail(ErrorCode::kCorruption, "checkpoint " + std::to_string(size) + " is malformed");
  StoredCheckpoint c;
  c.size = size;
  c.note = j["note"].get<std::string>();
  auto root = HashFromHex(j.value("root", ""));
  auto made = ParseRfc3339(j.value("made_at", ""));
  if (!root || !made)
    return Fail(ErrorCode::kCorruption, "checkpoint " + std::to_string(size) + " is malformed");
  c.root = *root;
  c.made_at = *made;
  return c;
}

}  // namespace

Checkpoints::Checkpoints(EventLog& log, note::SigningKey key, std::vector<note::Verifier> witnesses,
                         const Clock& clock)
    : log_(log), key_(std::move(key)), witnesses_(std::move(witnesses)), clock_(clock) {}

Result<std::optional<StoredCheckpoint>> Checkpoints::Load(std::uint64_t size) const {
  auto value = log_.Get(Space::kProofs, SizeKey('c', size));
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::optional<StoredCheckpoint>();
  auto c = Decode(size, **value);
  if (!c) return std::unexpected(c.error());
  auto note = WithCosignatures(size, std::move(c->note));
  if (!note) return std::unexpected(note.error());
  c->note = std::move(*note);
  return std::optional<StoredCheckpoint>(std::move(*c));
}

Result<std::string> Checkpoints::WithCosignatures(std::uint64_t size, std::string note) const {
  const std::string from = SizeKey('w', size);
  const std::string to = SizeKey('w', size + 1);
  auto lines = log_.Scan(Space::kProofs, from, to, 1000);
  if (!lines) return std::unexpected(lines.error());
  for (const auto& [key, line] : *lines) note += line;
  return note;
}

Result<std::optional<StoredCheckpoint>> Checkpoints::Latest() const {
  auto latest = log_.Get(Space::kProofs, kLatestKey);
  if (!latest) return std::unexpected(latest.error());
  if (!*latest) return std::optional<StoredCheckpoint>();
  return Load(SizeOf("c" + **latest));
}

Result<std::optional<StoredCheckpoint>> Checkpoints::At(std::uint64_t size) const {
  return Load(size);
}

Result<std::vector<StoredCheckpoint>> Checkpoints::Range(std::uint64_t from_size,
                                                         std::uint64_t to_size,
                                                         std::size_t max) const {
  auto rows =
      log_.Scan(Space::kProofs, SizeKey('c', from_size),
                to_size == 0 ? SizeKey('c', ~std::uint64_t{0}) : SizeKey('c', to_size + 1), max);
  if (!rows) return std::unexpected(rows.error());
  std::vector<StoredCheckpoint> out;
  for (const auto& [key, value] : *rows) {
    auto c = Decode(SizeOf(key), value);
    if (!c) return std::unexpected(c.error());
    auto note = WithCosignatures(c->size, std::move(c->note));
    if (!note) return std::unexpected(note.error());
    c->note = std::move(*note);
    out.push_back(std::move(*c));
  }
  return out;
}

Result<std::optional<StoredCheckpoint>> Checkpoints::Make() {
  std::lock_guard lock(make_mu_);
  const MerkleTree* tree = log_.Tree();
  if (tree == nullptr) return Fail(ErrorCode::kUnavailable, "this log keeps no Merkle tree");
  const std::uint64_t size = tree->Size();
  auto latest = Latest();
  if (!latest) return std::unexpected(latest.error());
  if (size == 0 || (*latest && (*latest)->size >= size)) return std::optional<StoredCheckpoint>();
  auto root = tree->Root(size);
  if (!root) return std::unexpected(root.error());
  if (*latest) {
    // The tree must extend what was signed before; a log rewritten under the server does not.
    const StoredCheckpoint& before = **latest;
    auto proof = tree->Consistency(before.size, size);
    if (!proof) return std::unexpected(proof.error());
    if (!VerifyConsistency(before.size, size, before.root, *root, *proof)) {
      return Fail(ErrorCode::kCorruption,
                  "the log no longer extends checkpoint " + std::to_string(before.size) +
                      ": its history was changed; no checkpoint is signed over it");
    }
  }
  const std::string text = note::FormatCheckpoint({key_.name, size, *root, {}});
  auto signature = note::SignNote(key_, text);
  if (!signature) return std::unexpected(signature.error());
  StoredCheckpoint c{size, *root, clock_.Now(), text + "\n" + *signature};
  AppendBatch batch;
  batch.writes.push_back(
      {Space::kProofs, SizeKey('c', size),
       json{{"note", c.note}, {"root", ToHex(c.root)}, {"made_at", FormatRfc3339(c.made_at)}}
           .dump()});
  batch.writes.push_back({Space::kProofs, std::string(kLatestKey), SizeKey('c', size).substr(1)});
  if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  return std::optional<StoredCheckpoint>(std::move(c));
}

Result<std::vector<std::string>> Checkpoints::AddCosignatures(std::string_view signed_note) {
  auto n = note::ParseNote(signed_note);
  if (!n) return std::unexpected(n.error());
  auto parsed = note::ParseCheckpoint(n->text);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->origin != key_.name)
    return Fail(ErrorCode::kValidationFailed,
                "the checkpoint is of the log \"" + parsed->origin + "\", not of this one");
  auto ours = log_.Get(Space::kProofs, SizeKey('c', parsed->size));
  if (!ours) return std::unexpected(ours.error());
  if (!*ours)
    return Fail(ErrorCode::kValidationFailed,
                "this log made no checkpoint of size " + std::to_string(parsed->size));
  auto kept = Decode(parsed->size, **ours);
  if (!kept) return std::unexpected(kept.error());
  auto kept_note = note::ParseNote(kept->note);
  if (!kept_note || kept_note->text != n->text)
    return Fail(ErrorCode::kValidationFailed,
                "the cosigned text is not the checkpoint this log made at size " +
                    std::to_string(parsed->size));
  AppendBatch batch;
  std::vector<std::string> names;
  for (const note::Verifier& w : witnesses_) {
    if (!note::VerifyCosignature(w, *n)) continue;
    for (const note::Signature& s : n->signatures) {
      if (s.name == w.name && s.key_id == w.key_id) {
        batch.writes.push_back({Space::kProofs, SizeKey('w', parsed->size) + w.name, s.line});
        break;
      }
    }
    names.push_back(w.name);
  }
  if (names.empty())
    return Fail(ErrorCode::kValidationFailed,
                "no cosignature in the note verifies with a witness key this log was given");
  if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  return names;
}

Result<void> Checkpoints::Adopt(const std::vector<std::string>& signed_notes, Timestamp made_at) {
  std::lock_guard lock(make_mu_);
  log_.AwaitTree();  // the events just imported
  const MerkleTree* tree = log_.Tree();
  if (tree == nullptr) return Fail(ErrorCode::kUnavailable, "this log keeps no Merkle tree");
  const note::Verifier self = note::VerifierOf(key_);
  AppendBatch batch;
  std::uint64_t latest = 0;
  for (const std::string& text : signed_notes) {
    auto n = note::ParseNote(text);
    if (!n) return std::unexpected(n.error());
    auto c = note::ParseCheckpoint(n->text);
    if (!c) return std::unexpected(c.error());
    if (!note::VerifyNote(self, *n))
      return Fail(ErrorCode::kValidationFailed,
                  "checkpoint " + std::to_string(c->size) + " is not signed by this log's key");
    auto root = tree->Root(c->size);
    if (!root) return std::unexpected(root.error());
    if (*root != c->root)
      return Fail(ErrorCode::kValidationFailed, "checkpoint " + std::to_string(c->size) +
                                                    " names root " + ToHex(c->root) +
                                                    "; the events give " + ToHex(*root));
    // The log's own signature line is kept with the text; cosignatures beside it.
    std::string own = n->text + "\n";
    for (const note::Signature& s : n->signatures) {
      if (s.name == self.name && s.key_id == self.key_id) {
        own += s.line;
      } else {
        batch.writes.push_back({Space::kProofs, SizeKey('w', c->size) + s.name, s.line});
      }
    }
    batch.writes.push_back(
        {Space::kProofs, SizeKey('c', c->size),
         json{{"note", own}, {"root", ToHex(c->root)}, {"made_at", FormatRfc3339(made_at)}}
             .dump()});
    latest = std::max(latest, c->size);
  }
  if (latest > 0)
    batch.writes.push_back(
        {Space::kProofs, std::string(kLatestKey), SizeKey('c', latest).substr(1)});
  if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  return {};
}

Result<ProofsVerifyResult> VerifyProofs(const EventLog& log,
                                        const std::optional<note::Verifier>& log_key) {
  ProofsVerifyResult out;
  // Every kept checkpoint, by size.
  std::vector<StoredCheckpoint> kept;
  for (std::string from = SizeKey('c', 0);;) {
    auto rows = log.Scan(Space::kProofs, from, SizeKey('c', ~std::uint64_t{0}), 1000);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& [key, value] : *rows) {
      auto c = Decode(SizeOf(key), value);
      if (!c) return std::unexpected(c.error());
      kept.push_back(std::move(*c));
    }
    if (rows->size() < 1000) break;
    from = SizeKey('c', kept.back().size + 1);
  }
  auto fail = [&](std::string reason) {
    out.ok = false;
    out.reason = std::move(reason);
    return out;
  };
  // A fresh tree in memory, fed from the records a chunk at a time; its root is read at each
  // checkpoint's size as the leaves reach it.
  std::map<std::pair<int, std::uint64_t>, std::string> tiles;
  MerkleTree fresh(
      [&tiles](int level, std::uint64_t index) -> Result<std::optional<std::string>> {
        auto it = tiles.find({level, index});
        if (it == tiles.end()) return std::nullopt;
        return it->second;
      },
      [&tiles](const std::vector<FullTile>& full, std::uint64_t) -> Result<void> {
        for (const FullTile& t : full) tiles[{t.level, t.index}] = t.hashes;
        return {};
      });
  std::size_t next = 0;  // the next checkpoint to check
  std::optional<std::string> problem;
  auto check_up_to = [&](std::uint64_t size) {
    for (; next < kept.size() && kept[next].size <= size && !problem; ++next) {
      const StoredCheckpoint& c = kept[next];
      auto root = fresh.Root(c.size);
      if (!root || *root != c.root) {
        problem = "checkpoint " + std::to_string(c.size) + " names root " + ToHex(c.root) +
                  "; the records give " + (root ? ToHex(*root) : root.error().message) +
                  ": the history it signed was changed";
        return;
      }
      auto n = note::ParseNote(c.note);
      std::optional<note::Checkpoint> parsed;
      if (n) {
        if (auto p = note::ParseCheckpoint(n->text)) parsed = *p;
      }
      if (!parsed || parsed->size != c.size || parsed->root != c.root) {
        problem = "checkpoint " + std::to_string(c.size) + " is not the note it says it is";
        return;
      }
      if (log_key && !note::VerifyNote(*log_key, *n)) {
        problem = "checkpoint " + std::to_string(c.size) + " is not signed by the log's key";
        return;
      }
      ++out.checkpoints;
    }
  };
  std::vector<Hash> leaves;
  leaves.reserve(64 * 1024);
  const std::uint64_t head = log.GetHead().seq;
  auto flush = [&]() -> Result<void> {
    // Appended in pieces that end at checkpoint sizes, so that each root is read at its size.
    std::size_t at = 0;
    while (at < leaves.size() && !problem) {
      std::size_t take = leaves.size() - at;
      if (next < kept.size() && kept[next].size > fresh.Size())
        take = std::min<std::size_t>(take, kept[next].size - fresh.Size());
      if (auto r = fresh.Append(std::span(leaves).subspan(at, take)); !r) return r;
      at += take;
      check_up_to(fresh.Size());
    }
    leaves.clear();
    return {};
  };
  Result<void> appended;
  auto read =
      ForEachPipelined(log, 1, head, [&](std::uint64_t seq, const Hash&, std::string_view record) {
        if (seq != fresh.Size() + leaves.size() + 1) {
          problem = "seq " + std::to_string(fresh.Size() + leaves.size() + 1) +
                    " is missing from the log";
          return false;
        }
        leaves.push_back(LeafHash(record));
        if (leaves.size() == leaves.capacity()) appended = flush();
        return appended.has_value() && !problem;
      });
  if (!read) return std::unexpected(read.error());
  if (appended) appended = flush();
  if (!appended) return std::unexpected(appended.error());
  out.tree_size = fresh.Size();
  if (problem) return fail(*problem);
  if (next < kept.size())
    return fail("checkpoint " + std::to_string(kept[next].size) +
                " is of a longer log than this (" + std::to_string(fresh.Size()) +
                " events): events were removed");
  // The tree the server serves proofs from must be the records' tree.
  if (const MerkleTree* stored = log.Tree(); stored != nullptr && stored->Size() > 0) {
    const std::uint64_t size = std::min(stored->Size(), fresh.Size());
    auto a = stored->Root(size);
    auto b = fresh.Root(size);
    if (!a || !b || *a != *b)
      return fail("the stored tree's root at " + std::to_string(size) +
                  " is not the records' tree root");
  }
  return out;
}

}  // namespace expertflow::engine
