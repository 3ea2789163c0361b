#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/log/event.h"
#include "engine/log/merkle.h"

namespace expertflow::engine {

// Key/value spaces stored beside the log and written in the same atomic batch as the events
// (DESIGN.md, storage layout). The engine names them; storage maps them to column families.
enum class Space : std::uint8_t {
  kViews,        // instance views (checkpointed by the sequencer)
  kAnalytics,    // asynchronous projections and their checkpoints
  kIdempotency,  // Idempotency-Key records
  kTokens,       // SHA-256 of a token -> principal
  kTimers,       // due time + instance -> timer
  kProofs,       // signed checkpoints and their cosignatures (engine/runtime/checkpoints.h)
};
inline constexpr std::size_t kSpaceCount = 6;

// A put (value set) or a delete (value empty) in one space.
struct KvWrite {
  Space space;
  std::string key;
  std::optional<std::string> value;
};

// A hash for maps keyed by stream id that can be looked up with a string_view (no copy of the key
// for each event read).
struct StreamHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Events for one stream. `expected_version` is the stream's version before them (0 for a new
// stream); when it does not match, the whole batch is refused with kVersionConflict.
// nullopt means "any version".
struct StreamAppend {
  std::string stream;
  std::optional<std::uint64_t> expected_version;
  std::vector<NewEvent> events;
};

// Everything one durable write holds: the events of several commands and the key/values that go
// with them. Either all of it is durable or none of it is.
struct AppendBatch {
  std::vector<StreamAppend> appends;
  std::vector<KvWrite> writes;
  // The seq the batch was decided after. When set, the batch is refused (kUnavailable, nothing
  // written) unless its events would follow exactly that seq: a writer that decided it on top of
  // an earlier batch of its own that then failed must not have it chained after something else.
  std::optional<std::uint64_t> after_seq;
};

struct Head {
  std::uint64_t seq = 0;
  Hash hash = kZeroHash;
  friend bool operator==(const Head&, const Head&) = default;
};

// An appended event: where the log put it and the exact record that was hashed.
struct AppendedEvent {
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t version = 0;
  Hash hash{};
  std::string record;
};

struct AppendResult {
  std::vector<AppendedEvent> events;  // in the order of the batch
  Head head;                          // the head after the batch
};

// Called for each event of a forward read with the seq, the stored hash and the record text.
// The views are valid only during the call. Return false to stop early.
using AppendCallback = std::function<void(Result<AppendResult>)>;

using EventVisitor =
    std::function<bool(std::uint64_t seq, const Hash& hash, std::string_view record)>;

// The one global, gapless, hash-chained log and the key/value spaces beside it (DESIGN.md).
// Implemented in memory (engine tests) and on RocksDB (storage/). One writer at a time: Append is
// serialised internally, but the sequencer is the only caller in the server.
class EventLog {
 public:
  virtual ~EventLog() = default;

  // Validates, numbers, encodes and chains every event of `batch`, then writes events, stream
  // index, head and `batch.writes` atomically and durably. On any error nothing is written and
  // the head does not move.
  [[nodiscard]] virtual Result<AppendResult> Append(const AppendBatch& batch) = 0;

  // Append without waiting for the disk: the batch is checked, numbered, encoded and chained at
  // once, after every batch before it (durable or not), and `done` runs when it is durable or has
  // failed, in the order of the calls. A refusal of the batch itself (validation, a version
  // conflict, after_seq) is answered before AppendAsync returns. A failed write fails every batch
  // chained after it too, and the head goes back to the last durable batch. `done` may run on a
  // thread of the log's: it must not block, and must not append and wait. The caller keeps
  // deciding its next batch while the disk syncs this one. By default: Append, then `done`.
  virtual void AppendAsync(AppendBatch batch, AppendCallback done);

  virtual Head GetHead() const = 0;

  // Why writes are refused now, if they are: the last write failed and none has succeeded since
  // (a full disk, a failed sync). What /readyz reports; nothing by default.
  virtual std::optional<std::string> WritesRefused() const { return std::nullopt; }

  // The current version of a stream (0 when it has no events).
  [[nodiscard]] virtual Result<std::uint64_t> StreamVersion(std::string_view stream) const = 0;

  // Events of one stream with version >= from_version, oldest first, at most `max`.
  [[nodiscard]] virtual Result<std::vector<StoredEvent>> ReadStream(std::string_view stream,
                                                                    std::uint64_t from_version,
                                                                    std::size_t max) const = 0;

  // Forward iteration of the global log from `from_seq` up to and including `to_seq`.
  [[nodiscard]] virtual Result<void> ForEach(std::uint64_t from_seq, std::uint64_t to_seq,
                                             const EventVisitor& visit) const = 0;

  // ForEach for a long read taken a short range at a time (the streamed export): the same
  // events, read past any cache of the store's, so that one reader walking the whole log does
  // not fill it with blocks nobody reads again. ForEach by default.
  [[nodiscard]] virtual Result<void> ForEachUncached(std::uint64_t from_seq, std::uint64_t to_seq,
                                                     const EventVisitor& visit) const {
    return ForEach(from_seq, to_seq, visit);
  }

  [[nodiscard]] virtual Result<std::optional<std::string>> Get(Space space,
                                                               std::string_view key) const = 0;

  // Entries of `space` with from <= key < to (an empty `to` means to the end), in key order.
  [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::string>>> Scan(
      Space space, std::string_view from, std::string_view to, std::size_t max) const = 0;

  // The Merkle tree over the log (engine/log/merkle.h, docs/audit.md): the record of seq s is
  // leaf s - 1. The log keeps it beside the events once they are durable, so it may trail the
  // head for a moment; an open brings it up to the head. nullptr when a log keeps none.
  virtual const MerkleTree* Tree() const { return nullptr; }
  // Waits until the tree holds every event answered before the call (a log whose tree is kept
  // as it appends, or that keeps none, returns at once).
  virtual void AwaitTree() const {}

  // One page of the global log: events with seq >= from_seq, at most `max`.
  [[nodiscard]] Result<std::vector<StoredEvent>> ReadAll(std::uint64_t from_seq,
                                                         std::size_t max) const;
};

// ForEach with the reading on a second thread: records are copied in chunks and handed to the
// calling thread, which runs `visit`, so that reading the store and the visitor's work (decoding,
// evolving, hashing) overlap on two cores. For long scans: rebuilds, catch-up, verify.
[[nodiscard]] Result<void> ForEachPipelined(const EventLog& log, std::uint64_t from_seq,
                                            std::uint64_t to_seq, const EventVisitor& visit);
// The same read once for several visitors, each on its own thread (the first on the calling
// thread), each seeing every record in order: a rebuild of several projections reads the store
// once. A visitor that returns false stops them all.
[[nodiscard]] Result<void> ForEachPipelined(const EventLog& log, std::uint64_t from_seq,
                                            std::uint64_t to_seq,
                                            std::span<const EventVisitor> visitors);

// The outcome of recomputing the chain.
struct VerifyResult {
  bool ok = true;
  std::uint64_t checked = 0;
  std::uint64_t first_bad_seq = 0;  // when !ok
  std::string reason;               // when !ok
  Head head;                        // the last verified event (the log's head when ok)
};

// Recomputes hash(n) = SHA-256(hash(n-1) || record(n)) for from_seq..to_seq (to_seq 0 or past the
// head means up to the head) and checks each record's seq, prev_hash and the stored hash, that no
// seq is missing, and (when the range reaches it) that the head agrees with the last event.
[[nodiscard]] Result<VerifyResult> Verify(const EventLog& log, std::uint64_t from_seq = 1,
                                          std::uint64_t to_seq = 0);

// The part of Append that every implementation shares: checks the batch and lays out its events
// after `head`. `current_version` answers a stream's version as stored before the batch.
// Streams that appear twice in one batch continue from the version the first part left.
[[nodiscard]] Result<AppendResult> PrepareAppend(
    const AppendBatch& batch, const Head& head,
    const std::function<Result<std::uint64_t>(std::string_view stream)>& current_version);

}  // namespace expertflow::engine
