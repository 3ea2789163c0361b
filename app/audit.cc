// `expertflow audit`: verifies a running server's log from the outside.
//
// The latest checkpoint must carry the log's signature and enough witness cosignatures, and must
// extend the last checkpoint this auditor accepted (no rollback, no fork, a consistency proof
// that verifies). Then, as asked: inclusion proofs of single events, of every event of an
// instance, and a replay of the whole export recomputing the Merkle root and the hash chain.
// The new checkpoint is kept only when everything passed.
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/proof_client.h"
#include "engine/log/merkle.h"

namespace expertflow::app {
namespace {

namespace note = engine::note;
using engine::ErrorCode;
using engine::Fail;
using engine::Hash;
using proof::Client;
using proof::Result;
using proof::SignedCheckpoint;

constexpr std::uint64_t kExportPage = 10000;

Result<void> Failed(std::string message) {
  return Fail(ErrorCode::kValidationFailed, std::move(message));
}

// One line of the export: {"seq":..,"hash":..,"record":".."}.
struct ExportLine {
  std::uint64_t seq = 0;
  Hash hash{};
  std::string record;
};

Result<std::vector<ExportLine>> ExportPage(const Client& client, std::uint64_t after,
                                           std::uint64_t limit) {
  auto answer = client.Get("/api/v1/audit/export?after=" + std::to_string(after) +
                           "&limit=" + std::to_string(limit));
  if (!answer) return std::unexpected(answer.error());
  if (answer->status != 200) {
    return Fail(ErrorCode::kUnavailable, "the export after seq " + std::to_string(after) +
                                             ": the server answered " +
                                             std::to_string(answer->status));
  }
  std::vector<ExportLine> out;
  std::istringstream lines(answer->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto json = nlohmann::json::parse(line, nullptr, false);
    auto hash =
        json.is_object() ? proof::JsonHash(json.value("hash", nlohmann::json())) : std::nullopt;
    if (!hash || !json["seq"].is_number_unsigned() || !json["record"].is_string()) {
      return Fail(ErrorCode::kValidationFailed,
                  "the export after seq " + std::to_string(after) + " holds a malformed line");
    }
    out.push_back({json["seq"].get<std::uint64_t>(), *hash, json["record"].get<std::string>()});
  }
  return out;
}

// --seq S: the record of S from the export, its inclusion proof against `c`.
Result<void> ProveSeq(const Client& client, const note::Checkpoint& c, std::uint64_t seq) {
  const std::string name = "seq " + std::to_string(seq);
  if (seq == 0 || seq > c.size) {
    return Failed("inclusion: " + name + " is not in the checkpoint's tree of size " +
                  std::to_string(c.size));
  }
  auto page = ExportPage(client, seq - 1, 1);
  if (!page) return std::unexpected(page.error());
  if (page->size() != 1 || (*page)[0].seq != seq)
    return Failed("inclusion: the export does not give the record of " + name);
  const Hash leaf = engine::LeafHash((*page)[0].record);
  auto json =
      proof::JsonAnswer(client.Get("/api/v1/log/proof/inclusion?seq=" + std::to_string(seq) +
                                   "&tree_size=" + std::to_string(c.size)),
                        "the inclusion proof of " + name);
  if (!json) return std::unexpected(json.error());
  auto leaf_hash = proof::JsonHash(json->value("leaf_hash", nlohmann::json()));
  auto root = proof::JsonHash(json->value("root", nlohmann::json()));
  auto path = proof::JsonHashList(json->value("proof", nlohmann::json()));
  if (!leaf_hash || !root || !path || json->value("seq", nlohmann::json()) != seq ||
      json->value("leaf_index", nlohmann::json()) != seq - 1 ||
      json->value("tree_size", nlohmann::json()) != c.size)
    return Failed("inclusion: the proof of " + name + " is malformed");
  if (*leaf_hash != leaf)
    return Failed("inclusion: the server's leaf hash of " + name +
                  " is not the hash of its exported record");
  if (*root != c.root)
    return Failed("inclusion: the proof of " + name +
                  " is against another root than the checkpoint's");
  if (!engine::VerifyInclusion(seq - 1, c.size, leaf, *path, c.root)) {
    return Failed("inclusion: the proof of " + name + " does not verify against the tree of size " +
                  std::to_string(c.size));
  }
  return {};
}

// --instance c/id: every event of it proved in the tree of the answer's checkpoint, which must
// be consistent with the accepted one. `covered` and `pending` count the events proved and those
// after that checkpoint.
Result<void> ProveInstance(const Client& client, const note::Verifier& log_key,
                           const note::Checkpoint& accepted, const std::string& instance,
                           std::uint64_t& covered, std::uint64_t& pending) {
  const std::string name = "instance " + instance;
  std::optional<note::Checkpoint> checked;  // the answer checkpoint already shown consistent
  std::uint64_t after = 0;
  for (;;) {
    auto json = proof::JsonAnswer(
        client.Get("/api/v1/" + instance + "/events?proofs=true&after=" + std::to_string(after)),
        "the events of " + name);
    if (!json) return std::unexpected(json.error());
    if (!(*json)["checkpoint"].is_string())
      return Failed(name + ": the answer carries no checkpoint");
    auto signed_cp = proof::VerifyCheckpoint((*json)["checkpoint"].get<std::string>(), log_key,
                                             "the checkpoint of the events of " + instance);
    if (!signed_cp) return std::unexpected(signed_cp.error());
    const note::Checkpoint& cp = signed_cp->checkpoint;
    if (!checked || *checked != cp) {
      const bool older = cp.size < accepted.size;
      auto ok = older ? proof::CheckExtends(client, cp, accepted, "the events' checkpoint",
                                            "the latest checkpoint")
                      : proof::CheckExtends(client, accepted, cp, "the latest checkpoint",
                                            "the events' checkpoint");
      if (!ok) return Failed(name + ": " + ok.error().message);
      checked = cp;
    }
    const nlohmann::json* items = nullptr;
    for (const char* key : {"events", "items"})
      if (json->contains(key) && (*json)[key].is_array()) items = &(*json)[key];
    if (items == nullptr) return Failed(name + ": the answer lists no events");
    for (const auto& e : *items) {
      if (!e.is_object() || !e.value("seq", nlohmann::json()).is_number_unsigned() ||
          !e.value("record", nlohmann::json()).is_string())
        return Failed(name + ": an event without seq or record text");
      const auto seq = e["seq"].get<std::uint64_t>();
      const std::string what = name + ", seq " + std::to_string(seq);
      const auto& inc = e.value("inclusion", nlohmann::json());
      if (inc.is_null()) {
        if (seq <= cp.size)
          return Failed("inclusion: " + what +
                        " comes without a proof though the checkpoint covers it");
        ++pending;
        continue;
      }
      auto path = inc.is_object() ? proof::JsonHashList(inc.value("proof", nlohmann::json()))
                                  : std::nullopt;
      if (!path || inc.value("tree_size", nlohmann::json()) != cp.size ||
          inc.value("leaf_index", nlohmann::json()) != seq - 1 || seq == 0 || seq > cp.size)
        return Failed("inclusion: the proof of " + what + " is malformed");
      const Hash leaf = engine::LeafHash(e["record"].get_ref<const std::string&>());
      if (!engine::VerifyInclusion(seq - 1, cp.size, leaf, *path, cp.root)) {
        return Failed("inclusion: the proof of " + what +
                      " does not verify against the tree of size " + std::to_string(cp.size));
      }
      ++covered;
    }
    const auto& next = json->value("next_after", nlohmann::json());
    if (!next.is_number_unsigned()) break;
    if (next.get<std::uint64_t>() <= after) return Failed(name + ": the paging does not advance");
    after = next.get<std::uint64_t>();
  }
  return {};
}

// --replay: the whole export up to the checkpoint's size: the chain, every leaf and the root.
Result<void> Replay(const Client& client, const note::Checkpoint& c) {
  std::vector<Hash> leaves;
  leaves.reserve(c.size);
  Hash chain = engine::kZeroHash;
  std::uint64_t seq = 0;
  while (seq < c.size) {
    auto page = ExportPage(client, seq, std::min(kExportPage, c.size - seq));
    if (!page) return std::unexpected(page.error());
    if (page->empty()) {
      return Failed("replay: the export ends at seq " + std::to_string(seq) +
                    ", before the checkpoint's size " + std::to_string(c.size));
    }
    for (const ExportLine& line : *page) {
      if (seq == c.size) break;
      if (line.seq != seq + 1) {
        return Failed("replay: the export gives seq " + std::to_string(line.seq) + " after " +
                      std::to_string(seq));
      }
      ++seq;
      chain = engine::ChainHash(chain, line.record);
      if (chain != line.hash)
        return Failed("replay: the hash chain breaks at seq " + std::to_string(seq));
      leaves.push_back(engine::LeafHash(line.record));
    }
  }
  const engine::LeafList tree(leaves);
  auto root = c.size == 0 ? Result<Hash>(engine::EmptyTreeRoot()) : engine::TreeRoot(tree, c.size);
  if (!root) return Failed("replay: " + root.error().message);
  if (*root != c.root) {
    return Failed("replay: the root differs at size " + std::to_string(c.size) + ": recomputed " +
                  engine::ToHex(*root) + ", the checkpoint has " + engine::ToHex(c.root));
  }
  return {};
}

bool IsInstance(const std::string& s) {
  const auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size() ||
      s.find('/', slash + 1) != std::string::npos)
    return false;
  for (char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ||
          ch == '/'))
      return false;
  return true;
}

}  // namespace

int Audit(const AuditOptions& o) {
  const auto usage = [](const std::string& what) {
    std::cerr << "expertflow audit: " << what << "\n";
    return proof::kExitUsage;
  };
  const auto failed = [](const std::string& what) {
    std::cerr << "expertflow audit: FAILED: " << what << "\n";
    return proof::kExitFailed;
  };
  if (o.url.empty() || o.log_key.empty() || o.state.empty())
    return usage("--url, --key and --state are required");
  auto url = proof::ParseUrl(o.url);
  if (!url) return usage("--url must be http://HOST[:PORT][/PREFIX] (only http is spoken)");
  auto log_key = note::ParseVerifierKey(o.log_key);
  if (!log_key || log_key->alg != note::kAlgEd25519)
    return usage("--key is not the verifier key of a log (alg 1)");
  std::vector<note::Verifier> witnesses;
  for (const std::string& w : o.witnesses) {
    auto v = note::ParseVerifierKey(w);
    if (!v || v->alg != note::kAlgCosignatureV1)
      return usage("--witness " + w + " is not the verifier key of a witness (alg 4)");
    witnesses.push_back(*v);
  }
  if (o.min_witnesses < 0 || static_cast<std::size_t>(o.min_witnesses) > witnesses.size()) {
    return usage("--min-witnesses must be between 0 and the number of --witness keys (" +
                 std::to_string(witnesses.size()) + ")");
  }
  for (const std::string& i : o.instances)
    if (!IsInstance(i)) return usage("--instance must be COLLECTION/ID, not " + i);
  auto token = proof::ReadToken(o.token_file);
  if (!token) return usage(token.error().message);
  const Client client(*url, *token);

  auto fresh = proof::FetchCheckpoint(client, *log_key);
  if (!fresh) return failed(fresh.error().message);
  const note::Checkpoint& c = fresh->checkpoint;

  std::vector<std::string> cosigned;
  for (const note::Verifier& w : witnesses)
    if (note::VerifyCosignature(w, fresh->note)) cosigned.push_back(w.name);
  if (cosigned.size() < static_cast<std::size_t>(o.min_witnesses)) {
    return failed("too few witnesses: " + std::to_string(cosigned.size()) + " of the " +
                  std::to_string(witnesses.size()) + " given cosigned " + proof::Describe(c) +
                  ", " + std::to_string(o.min_witnesses) + " required");
  }

  auto kept = proof::KeptCheckpoint(o.state, *log_key, c.origin);
  if (!kept) return failed(kept.error().message);
  if (*kept) {
    if (auto ok = proof::CheckAgainstKept(client, **kept, *fresh); !ok)
      return failed(ok.error().message);
  }

  for (std::uint64_t seq : o.seqs)
    if (auto ok = ProveSeq(client, c, seq); !ok) return failed(ok.error().message);
  std::uint64_t covered = 0, pending = 0;
  for (const std::string& i : o.instances)
    if (auto ok = ProveInstance(client, *log_key, c, i, covered, pending); !ok)
      return failed(ok.error().message);
  if (o.replay)
    if (auto ok = Replay(client, c); !ok) return failed(ok.error().message);

  if (auto ok = proof::WriteState(o.state, c.origin, fresh->message); !ok)
    return failed("could not keep the checkpoint: " + ok.error().message);

  std::cout << "origin:    " << c.origin << "\n"
            << "size:      " << c.size << "\n"
            << "root:      " << engine::ToHex(c.root) << "\n"
            << "witnesses: " << cosigned.size() << " of " << witnesses.size();
  for (std::size_t i = 0; i < cosigned.size(); ++i) std::cout << (i ? ", " : " (") << cosigned[i];
  std::cout << (cosigned.empty() ? "" : ")") << "\n";
  if (!*kept)
    std::cout << "previous:  none kept (first audit of this origin)\n";
  else if ((*kept)->checkpoint.size == c.size)
    std::cout << "previous:  the same tree\n";
  else
    std::cout << "previous:  size " << (*kept)->checkpoint.size << ", consistency proved\n";
  for (std::uint64_t seq : o.seqs) std::cout << "included:  seq " << seq << "\n";
  if (!o.instances.empty()) {
    std::cout << "instances: " << o.instances.size() << ", " << covered << " events proved";
    if (pending) std::cout << ", " << pending << " after the checkpoint (not yet provable)";
    std::cout << "\n";
  }
  if (o.replay) std::cout << "replayed:  chain and root of all " << c.size << " events\n";
  std::cout << "OK\n";
  return 0;
}

}  // namespace expertflow::app
