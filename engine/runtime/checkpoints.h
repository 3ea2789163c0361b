#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/clock.h"
#include "engine/core/error.h"
#include "engine/core/note.h"
#include "engine/core/time.h"
#include "engine/log/event_log.h"

// Signed checkpoints of the log's Merkle tree and the witnesses' cosignatures of them
// (docs/audit.md; C2SP tlog-checkpoint and tlog-cosignature). A checkpoint is a signed note of
// the log's origin, the tree size and its root; every one made is kept, in Space::kProofs,
// written durably through the log. The key comes from the caller (app/ keeps it in the data
// folder): the engine knows no disk.
namespace expertflow::engine {

struct StoredCheckpoint {
  std::uint64_t size = 0;
  Hash root{};
  Timestamp made_at{};
  // The signed note as the log signed it, then the cosignature lines witnesses sent for it.
  std::string note;
};

class Checkpoints {
 public:
  // `key` signs (a note key, whose name is the log's origin); cosignatures are kept from the
  // `witnesses` only (alg 4 verifier keys).
  Checkpoints(EventLog& log, note::SigningKey key, std::vector<note::Verifier> witnesses,
              const Clock& clock);

  const std::string& Origin() const { return key_.name; }
  std::string VerifierKey() const { return note::VerifierKey(key_); }
  const std::vector<note::Verifier>& Witnesses() const { return witnesses_; }

  // Signs and keeps a checkpoint of the tree as it is now, when it has grown since the latest
  // (nullopt when it has not). Refuses (kCorruption) to sign a tree that does not extend the
  // latest checkpoint: the log was rewritten under the server, and it never signs a fork.
  [[nodiscard]] Result<std::optional<StoredCheckpoint>> Make();

  [[nodiscard]] Result<std::optional<StoredCheckpoint>> Latest() const;
  [[nodiscard]] Result<std::optional<StoredCheckpoint>> At(std::uint64_t size) const;
  // Checkpoints with from_size <= size <= to_size (to_size 0: no bound), oldest first.
  [[nodiscard]] Result<std::vector<StoredCheckpoint>> Range(std::uint64_t from_size,
                                                            std::uint64_t to_size,
                                                            std::size_t max) const;

  // Keeps the cosignatures in `signed_note` (a checkpoint this log made, with cosignature lines)
  // of the witnesses it knows; answers their names. kValidationFailed when the note is not one
  // of this log's checkpoints or no known witness's cosignature in it verifies.
  [[nodiscard]] Result<std::vector<std::string>> AddCosignatures(std::string_view signed_note);

  // Keeps checkpoints made elsewhere for this log (an import): each must carry this log's
  // signature and its root must be the tree's at its size.
  [[nodiscard]] Result<void> Adopt(const std::vector<std::string>& signed_notes, Timestamp made_at);

 private:
  Result<std::optional<StoredCheckpoint>> Load(std::uint64_t size) const;
  Result<std::string> WithCosignatures(std::uint64_t size, std::string note) const;

  EventLog& log_;
  note::SigningKey key_;
  std::vector<note::Verifier> witnesses_;
  const Clock& clock_;
  std::mutex make_mu_;  // one Make (or Adopt) at a time
};

// What recomputing the tree from the records found (`expertflow verify`, /audit/verify).
struct ProofsVerifyResult {
  bool ok = true;
  std::uint64_t tree_size = 0;    // leaves recomputed (the head, when the log has no gap)
  std::uint64_t checkpoints = 0;  // checkpoints checked
  std::string reason;             // when !ok
};

// Recomputes the Merkle tree from the records alone (not from the stored tiles) and checks that
// the log's stored tree has that root, and that every kept checkpoint names the recomputed root
// at its size and (when `log_key` is given) carries the log's signature. A record changed after
// a checkpoint was signed shows here even when its chain was recomputed.
[[nodiscard]] Result<ProofsVerifyResult> VerifyProofs(const EventLog& log,
                                                      const std::optional<note::Verifier>& log_key);

}  // namespace expertflow::engine
