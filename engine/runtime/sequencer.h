#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/core/clock.h"
#include "engine/decide/decide.h"
#include "engine/log/event_log.h"
#include "engine/model/instance.h"
#include "engine/model/registry_layer.h"
#include "engine/projections/rebuild.h"
#include "engine/projections/work_in_progress.h"

namespace expertflow::engine {

// What an accepted command did: the instance after it and the events it appended, in order.
struct CommandResult {
  InstanceState instance;  // the instance right after the command (now, for a replay)
  std::vector<AppendedEvent> events;
  std::uint64_t version = 0;  // the instance's version and state right after the command
  std::string state;
  bool replayed = false;  // an Idempotency-Key repeat: the first answer, nothing appended
};

// A command as handed to the sequencer, with what the write path needs besides the decision.
struct Submission {
  Command command;
  // Idempotency (API.md): a key already scoped to the principal, and a digest of the request. A
  // repeat with the same digest answers the first result; another digest is refused.
  std::string idempotency_key;
  std::string request_digest;
};

// Instance ids for new instances. Tests use a deterministic one.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId() = 0;
};

// 12 lower-case hex characters from a random 48-bit number.
class RandomIdGenerator final : public IdGenerator {
 public:
  RandomIdGenerator();
  std::string NewId() override;

 private:
  std::mutex mu_;
  std::uint64_t state_;
};

struct SequencerOptions {
  std::size_t max_batch = 1024;  // commands decided into one durable write at most
  // How long an idempotency record answers a repeat (`serve --idempotency-retention`). Within it
  // a repeat answers the first result; after it the key is new again, and the record is purged:
  // a pass over the records begins every `idempotency_purge_every` of business time, with the
  // first batch decided after that, and reads `idempotency_purge_page` records with each batch
  // until it has read them all, so that no batch waits long for it.
  Duration idempotency_retention = std::chrono::hours(24);
  Duration idempotency_purge_every = std::chrono::hours(1);
  std::size_t idempotency_purge_page = 256;
  // The stored instance views follow the log from a checkpoint (docs/decisions.md, "Instance
  // views are checkpointed"): once `view_checkpoint_events` events have been made durable since
  // the last one, the views of the instances they changed are written, `view_checkpoint_chunk`
  // of them along with each batch of commands, and with the last of them the seq they cover.
  // Every state the sequencer answers from and decides on is in memory either way; a start
  // replays the events after that seq.
  std::uint64_t view_checkpoint_events = 16384;
  std::size_t view_checkpoint_chunk = 256;
};

// Upper bounds, in microseconds, of the buckets of SequencerStats::write_buckets.
inline constexpr std::array<std::uint64_t, 10> kWriteBucketsMicros = {
    500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 250000, 1000000};
// Upper bounds of the buckets of SequencerStats::batch_buckets, in commands (the default
// max_batch is the last).
inline constexpr std::array<std::uint64_t, 11> kBatchBucketsCommands = {1,  2,   4,   8,   16,  32,
                                                                        64, 128, 256, 512, 1024};

struct SequencerStats {
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;  // accepted
  std::uint64_t rejected = 0;
  std::uint64_t events = 0;
  std::uint64_t timers_fired = 0;
  std::uint64_t append_failures = 0;
  std::uint64_t sync_micros_total = 0;
  // How long each durable batch took from its hand-over to the log to its answer, counted in
  // the buckets of kWriteBucketsMicros (the last counts the rest): the disk's sync time and
  // the wait behind the batch before it. Where a command's latency tail comes from
  // (benchmarks/README.md, issue 19).
  std::array<std::uint64_t, kWriteBucketsMicros.size() + 1> write_buckets{};
  // How long the sequencer's thread took to decide each durable batch (from taking its commands
  // to handing it to the log), in the same buckets: the other part of a command's wait, which
  // grows with the batch and with the CPU the thread gets.
  std::uint64_t decide_micros_total = 0;
  std::array<std::uint64_t, kWriteBucketsMicros.size() + 1> decide_buckets{};
  // The commands accepted into each durable batch, in the buckets of kBatchBucketsCommands (a
  // batch of fired timers alone counts as none): how well group commit groups.
  std::array<std::uint64_t, kBatchBucketsCommands.size() + 1> batch_buckets{};
  std::uint64_t views_checkpoint_seq = 0;  // the seq the stored instance views cover
  std::uint64_t idempotency_purged = 0;    // records past their retention deleted

  // Adds the counts of `earlier` (another sequencer's, on the same log in the same process) to
  // these; the checkpoint's seq stays this sequencer's.
  void Add(const SequencerStats& earlier);
};

// The single writer (DESIGN.md, "Writing: one sequencer, group commit"). One thread owns every
// write: it drains the queue, decides and evolves each command against the instance states in
// memory, and puts all resulting events, timers and idempotency records into ONE append (one
// durable sync). The log's report that the append is durable publishes the batch's instances and
// completes every caller (Settle), while the sequencer's thread decides the next batch. Due timers fire on the same path as system
// commands. Callers never wait on the disk one by one. The stored instance views follow from a
// checkpoint, a chunk with each batch (SequencerOptions; docs/decisions.md).
class Sequencer {
 public:
  using Callback = std::function<void(Result<CommandResult>)>;
  using GroupCallback = std::function<void(Result<std::vector<CommandResult>>)>;
  using TickCallback = std::function<void(Result<std::uint64_t>)>;

  Sequencer(EventLog& log, const DefinitionSet& definitions, const Directory& directory,
            const RoutingTable& routing, Clock& clock, IdGenerator& ids,
            SequencerOptions options = {});
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Loads instance states from their stored views (or replays the log when there are none),
  // replays the events after the views' checkpoint onto them and writes the views it changed,
  // loads the timer index, then starts the writer thread.
  [[nodiscard]] Result<void> Start();
  // Finishes what is queued, writes the views changed since the last checkpoint, then stops.
  // Later submissions are refused with kUnavailable.
  void Stop();

  // True between Start and Stop: writes are accepted.
  bool Running() const;

  // Queues a command; `done` runs once the batch holding it is durable, on the thread the log
  // reports that on (RocksDbEventLog's completer; the sequencer's own for a log that writes at
  // once), or with the batch's other answers for a rejection. It must not block, and must not
  // wait for another answer of the sequencer.
  void Submit(Submission submission, Callback done);
  std::future<Result<CommandResult>> Submit(Submission submission);

  // Queues commands that succeed or fail together: all are decided into the same durable write,
  // or, when any is refused, none is written and `done` gets that refusal. (A protocol and the
  // assignments it makes.) The first submission's Idempotency-Key stands for the group: a
  // repeat answers the first member's result again (the instance as it stands now) and decides
  // nothing; the other members' keys are not looked at.
  void SubmitGroup(std::vector<Submission> group, GroupCallback done);

  // Fires every timer due at the clock's current time (and those that firing makes due), then
  // answers how many fired. With the system clock this happens by itself as well.
  void FireDueTimers(TickCallback done);
  Result<std::uint64_t> FireDueTimers();

  // Read side: instance states as of the last durable batch. Thread-safe.
  std::optional<InstanceState> Find(std::string_view collection, std::string_view id) const;
  // Calls `look` with the instance under a shared lock, without copying it; false when there is
  // no such instance.
  bool Inspect(std::string_view collection, std::string_view id,
               const std::function<void(const InstanceState&)>& look) const;
  // Visits every instance under a shared lock; return false to stop.
  void ForEachInstance(const std::function<bool(const InstanceState&)>& visit) const;

  SequencerStats Stats() const;
  // Counts what an earlier sequencer of this process did on the same log (the demo's, before
  // the server's) in Stats(), so that the counters of /metrics cover the process's life.
  void CarryStats(const SequencerStats& earlier);
  // The durable instances now in each stage of each workflow, and how many are overdue (kept as
  // batches become durable; no instance is visited to answer). Thread-safe.
  std::map<WorkInProgress::Key, StageLoad> StageLoads() const;
  const DefinitionSet& definitions() const { return definitions_; }
  // The registry as durable: the embedded one with the log's reference data over it (issue 15).
  // Deciding reads it as the batch stands (Batch::Process).
  const Directory& directory() const { return durable_directory_; }
  // The registry compiled into the binary, under the log's versions.
  const Directory& embedded_directory() const { return directory_; }
  // Ids of organisations or groups the log holds a version of (retired ones too), sorted.
  std::vector<std::string> RegistryIds(std::string_view collection) const {
    return registry_.DurableIds(collection);
  }
  Clock& clock() const { return clock_; }

  // The key of an instance's stored view in Space::kViews.
  static std::string ViewKey(std::string_view stream);

 private:
  // The group of an accepted command that is in none.
  static constexpr std::size_t kNoGroup = static_cast<std::size_t>(-1);

  struct Request {
    std::vector<Submission> submissions;  // one, or an all-or-nothing group
    Callback done;                        // a single submission
    GroupCallback group_done;             // a group
    TickCallback tick;                    // a FireDueTimers request
  };
  struct TimerKey {
    Timestamp due;
    std::string stream;
    std::string name;
    auto operator<=>(const TimerKey&) const = default;
  };

  // An accepted command waiting for the durable write. Group members carry their group's index.
  // Its answer's instance is copied from the batch's overlay when the batch is settled, unless a
  // later command of the same batch changed that instance (then it was copied at that moment):
  // the copy is made off the sequencer's thread for all but such commands.
  struct Accepted {
    Callback done;
    CommandResult result;
    std::string stream;
    bool has_instance = false;    // result.instance is already the state after this command
    std::size_t first_event = 0;  // index into the batch's events
    std::size_t event_count = 0;
    std::size_t group = kNoGroup;
  };
  struct Group {
    GroupCallback done;
    std::vector<CommandResult> results;
  };
  // What settling a batch left for the sequencer's bookkeeping (written under queue_mu_).
  struct Slot {
    bool settled = false;  // published and answered (or failed and answered)
    bool ok = false;       // the write is durable
    std::uint64_t head_seq = 0;
    std::uint64_t events = 0;
  };
  // A decided batch whose durable write is under way. Its instances are the state the next batch
  // is decided on; readers see them only once the write is durable.
  struct InFlight {
    std::vector<Accepted> accepted;
    std::vector<Group> groups;
    std::vector<std::pair<Callback, Result<CommandResult>>> answered;  // refusals and replays
    std::vector<std::pair<GroupCallback, Error>> groups_refused;
    std::unordered_map<std::string, InstanceState> overlay;
    std::map<std::string, std::string> idempotency;  // key -> digest, of this batch
    std::vector<std::string> views;                  // streams whose views the batch writes
    std::optional<std::uint64_t> checkpoint;         // the seq the views cover, with the last
    std::uint64_t fired = 0;
    std::uint64_t purged = 0;  // idempotency records the batch deletes
    std::chrono::steady_clock::time_point started;
    std::uint64_t decide_micros = 0;  // its decision, on the sequencer's thread
    std::shared_ptr<Slot> slot;
    // A batch that writes nothing (refusals, replays) while others are in flight: settled by the
    // sequencer's thread when it is the oldest, so that its answers follow theirs (and turn into
    // errors should one of them fail).
    bool settle_at_turn = false;
    std::uint64_t number = 0;  // in the order of the hand-over to the log
  };

  // One batch being decided (sequencer_batch.cc): the states it changed, what it will write and
  // whom it will answer, with a step for each thing deciding does.
  class Batch;

  bool Enqueue(Request& request);
  void Run();
  // Decides one batch of requests and hands it to the log without waiting for the disk: the next
  // batch is decided while this one syncs (at most kMaxInFlight batches at a time).
  void ProcessBatch(std::vector<Request>& requests, bool fire_timers);
  // Hands a decided batch to the log (or answers it at once when it writes nothing).
  // `begun`: when the batch's decision began (for decide_buckets).
  void Launch(Batch& b, std::chrono::steady_clock::time_point begun);
  // Called with the log's answer for a batch, on the log's thread (or inline for a log that
  // answers at once), in the order the batches were handed over: publishes the batch's instances
  // to readers and answers its callers as soon as the write is durable (or answers them with the
  // failure), without waiting for the sequencer's thread to finish deciding the next batch. The
  // sequencer's thread only reads a batch's overlay, never changes it, while it is in flight.
  void Settle(InFlight& f, Result<AppendResult> appended);
  // The sequencer thread's part once the oldest batch in flight is settled: the checkpoint's
  // bookkeeping, the timers fired, and the batch leaves the flight; with `wait`, waits for it.
  bool CompleteOldest(bool wait);
  // Waits for and answers every batch in flight; false when one of them failed.
  bool Drain();
  // After a failed write: memory goes back to what is durable (the timer index is read again,
  // and the next batch is decided after the log's head).
  Result<void> Recover();
  Result<void> Load();
  Result<void> LoadTimers();
  // Views to write in the batch being decided: the next chunk of the checkpoint under way, and
  // once it is complete, the seq it covers.
  // Answers the seq the checkpoint covers when this chunk completes it.
  std::optional<std::uint64_t> AddCheckpointChunk(AppendBatch& batch,
                                                  std::vector<std::string>& streams);
  // Deletes of idempotency records past their retention, into the batch being decided: the next
  // page of the purge pass under way (or of one that is due). A key that this batch or one in
  // flight writes again is left alone: its delete would land after the new record.
  void AddIdempotencyPurge(Batch& b, Timestamp now);
  // The stored view of `stream`'s durable state, into `batch`.
  void AddView(AppendBatch& batch, const std::string& stream) const;
  // Writes the views of every instance changed since the last checkpoint, and the durable seq
  // they cover, waiting for the writes (at start after catching up, and at stop).
  Result<void> WriteCheckpoint();
  static std::string TimerIndexKey(const TimerKey& key);
  static constexpr std::size_t kMaxInFlight = 2;

  EventLog& log_;
  const DefinitionSet& definitions_;
  const Directory& directory_;  // the embedded registry
  RegistryVersions registry_;
  LayeredDirectory durable_directory_;
  const RoutingTable& routing_;
  Clock& clock_;
  IdGenerator& ids_;
  SequencerOptions options_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;

  // instances_ is written by Settle on the log's thread: the sequencer's thread reads it under a
  // shared lock as well. An element it reads is never one Settle writes: Settle writes only the
  // streams of a batch in flight, which the sequencer's thread reads from that batch's overlay.
  mutable std::shared_mutex state_mu_;
  InstanceStates instances_;         // by stream
  WorkInProgress work_in_progress_;  // of instances_
  // Writer thread only: the timers as decided (batches in flight included), the batches in
  // flight oldest first, the seq after them, and timers fired by batches since made durable.
  std::set<TimerKey> timers_;
  std::deque<InFlight> inflight_;
  std::uint64_t decided_seq_ = 0;
  std::uint64_t fired_durable_ = 0;
  // The time of the newest event decided: business time is never earlier (a system clock set
  // back, a manual one restarted behind the log), so occurred_at never goes backwards.
  Timestamp latest_time_{};
  bool failed_since_drain_ = false;
  // Settle's: the first batch whose write failed; every batch handed over after it was decided on
  // it and fails with it, until Recover (after Drain, when nothing is in flight) clears it. By
  // number, not by the order of the reports: a batch handed over before it is not touched.
  // Settles are serialised by settle_mu_.
  std::mutex settle_mu_;
  std::optional<std::uint64_t> failed_from_;
  std::uint64_t launched_ = 0;  // the sequencer thread's count of batches handed over
  // Writer thread only, the view checkpoints: the seq everything in instances_ stands at; the
  // streams whose durable state changed since the checkpoint under way began, the streams of
  // that checkpoint still to write and the seq it covers, and the events made durable since.
  std::uint64_t durable_seq_ = 0;
  std::unordered_set<std::string> dirty_;
  std::vector<std::string> checkpoint_pending_;
  std::optional<std::uint64_t> checkpoint_seq_;
  std::uint64_t events_since_checkpoint_ = 0;
  // Writer thread only, the idempotency purge: the key the pass under way reads from next (none:
  // no pass under way), and when the next pass begins.
  std::optional<std::string> purge_from_;
  Timestamp next_purge_{};

  mutable std::mutex stats_mu_;
  SequencerStats stats_;
};

}  // namespace expertflow::engine
