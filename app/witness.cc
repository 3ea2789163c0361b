// `expertflow witness`: a tlog-cosignature witness for the log of a running server.
//
// Each round: fetch the latest checkpoint, verify the log's signature, and compare it with the
// last checkpoint this witness cosigned for that origin (kept in the state folder). A smaller
// tree is a rollback, another root for the same size a fork: both are refused. A larger tree
// must be proved consistent with the kept one. Only then is the new checkpoint kept (durably),
// and only after that cosigned and posted, so that a crash can never leave a cosignature out for
// a tree the witness did not keep: it never cosigns two roots for one size nor a smaller tree.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/proof_client.h"

namespace expertflow::app {
namespace {

namespace note = engine::note;
using proof::Client;
using proof::Result;
using proof::SignedCheckpoint;

// One round; the line to log on success.
Result<std::string> Round(const Client& client, const note::Verifier& log_key,
                          const note::SigningKey& witness, const std::string& state) {
  auto fresh = proof::FetchCheckpoint(client, log_key);
  if (!fresh) return std::unexpected(fresh.error());
  const note::Checkpoint& c = fresh->checkpoint;
  auto kept = proof::KeptCheckpoint(state, log_key, c.origin);
  if (!kept) return std::unexpected(kept.error());
  const bool same_as_kept =
      *kept && (*kept)->checkpoint.size == c.size && (*kept)->checkpoint.root == c.root;
  if (*kept) {
    if (auto ok = proof::CheckAgainstKept(client, **kept, *fresh); !ok)
      return std::unexpected(ok.error());
  }
  if (same_as_kept && note::VerifyCosignature(note::VerifierOf(witness), fresh->note))
    return "already cosigned " + proof::Describe(c);
  // Keep before cosigning: once a cosignature may be out, the kept tree is at least its tree.
  if (!same_as_kept) {
    if (auto ok = proof::WriteState(state, c.origin, fresh->message); !ok)
      return std::unexpected(ok.error());
  }
  auto line = note::Cosign(witness, fresh->note.text, proof::NowSeconds());
  if (!line) return std::unexpected(line.error());
  const std::string body = nlohmann::json{{"cosignature", fresh->note.text + "\n" + *line}}.dump();
  auto answer = client.Post("/api/v1/log/cosignatures", body);
  if (!answer) return std::unexpected(answer.error());
  if (answer->status != 201 && answer->status != 200) {
    std::string detail;
    auto problem = nlohmann::json::parse(answer->body, nullptr, false);
    if (problem.is_object() && problem.contains("detail") && problem["detail"].is_string())
      detail = ": " + problem["detail"].get<std::string>();
    return engine::Fail(engine::ErrorCode::kUnavailable,
                        "the server refused the cosignature of " + proof::Describe(c) + " (" +
                            std::to_string(answer->status) + detail + ")");
  }
  return "cosigned " + proof::Describe(c);
}

Result<note::SigningKey> ReadWitnessKey(const std::string& path) {
  std::ifstream in(path);
  if (!in) return engine::Fail(engine::ErrorCode::kBadRequest, "cannot read the key file " + path);
  std::string text;
  std::getline(in, text);
  auto key = note::ParsePrivateKey(text);
  if (!key) {
    return engine::Fail(engine::ErrorCode::kBadRequest,
                        "the key file " + path + " holds no private key");
  }
  if (key->alg != note::kAlgCosignatureV1) {
    return engine::Fail(engine::ErrorCode::kBadRequest,
                        "the key in " + path + " is no witness key (make one with witness keygen)");
  }
  return key;
}

}  // namespace

int WitnessKeygen(const std::string& name, const std::string& out) {
  if (name.empty() || !note::IsValidKeyName(name)) {
    std::cerr << "expertflow witness keygen: --name must be a key name (no spaces, no '+')\n";
    return proof::kExitUsage;
  }
  if (out.empty()) {
    std::cerr << "expertflow witness keygen: --out FILE is required\n";
    return proof::kExitUsage;
  }
  auto key = note::GenerateWitnessKey(name);
  if (!key) {
    std::cerr << "expertflow witness keygen: " << key.error().message << "\n";
    return proof::kExitFailed;
  }
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "expertflow witness keygen: cannot create " << out << ": "
              << (errno == EEXIST ? "it exists already (never overwritten)" : std::strerror(errno))
              << "\n";
    return proof::kExitFailed;
  }
  const std::string text = note::EncodePrivateKey(*key) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    std::cerr << "expertflow witness keygen: cannot write " << out << "\n";
    return proof::kExitFailed;
  }
  std::cout << note::VerifierKey(*key) << "\n";
  return 0;
}

int Witness(const WitnessOptions& o) {
  const auto usage = [](const std::string& what) {
    std::cerr << "expertflow witness: " << what << "\n";
    return proof::kExitUsage;
  };
  if (o.url.empty() || o.log_key.empty() || o.key_file.empty() || o.state.empty())
    return usage("--url, --log-key, --key and --state are required");
  auto url = proof::ParseUrl(o.url);
  if (!url) return usage("--url must be http://HOST[:PORT][/PREFIX] (only http is spoken)");
  auto log_key = note::ParseVerifierKey(o.log_key);
  if (!log_key || log_key->alg != note::kAlgEd25519)
    return usage("--log-key is not the verifier key of a log (alg 1)");
  if (!(o.interval > 0)) return usage("--interval must be a positive number of seconds");
  auto witness = ReadWitnessKey(o.key_file);
  if (!witness) return usage(witness.error().message);
  auto token = proof::ReadToken(o.token_file);
  if (!token) return usage(token.error().message);
  const Client client(*url, *token);
  for (;;) {
    auto round = Round(client, *log_key, *witness, o.state);
    if (o.once) {
      if (!round) {
        std::cerr << "expertflow witness: " << round.error().message << "\n";
        return proof::kExitFailed;
      }
      std::cout << *round << "\n";
      return 0;
    }
    if (round)
      std::cout << *round << std::endl;
    else
      std::cerr << "expertflow witness: " << round.error().message << std::endl;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.interval));
  }
}

}  // namespace expertflow::app
