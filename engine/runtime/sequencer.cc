#include "engine/runtime/sequencer.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

namespace expertflow::engine {

RandomIdGenerator::RandomIdGenerator()
    : state_(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32)) {}

std::string RandomIdGenerator::NewId() {
  std::lock_guard lock(mu_);
  // splitmix64: a well-mixed sequence from a random start; ids need to be unique, not secret.
  state_ += 0x9e3779b97f4a7c15ull;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 0; i < 12; ++i) out[i] = kHex[(z >> (4 * i)) & 0xf];
  return out;
}

Sequencer::Sequencer(EventLog& log, const DefinitionSet& definitions, const Directory& directory,
                     const RoutingTable& routing, Clock& clock, IdGenerator& ids,
                     SequencerOptions options)
    : log_(log),
      definitions_(definitions),
      directory_(directory),
      registry_(directory),
      durable_directory_(
          directory, LayeredDirectory::Source{
                         [this](std::string_view id) { return registry_.DurableOrganization(id); },
                         [this](std::string_view id) { return registry_.DurableGroup(id); },
                         [this](std::string_view c) { return registry_.DurableIds(c); }}),
      routing_(routing),
      clock_(clock),
      ids_(ids),
      options_(options),
      work_in_progress_(definitions) {}

Sequencer::~Sequencer() { Stop(); }

Result<void> Sequencer::Start() {
  {
    std::lock_guard lock(queue_mu_);
    if (started_) return {};
  }
  if (auto r = Load(); !r) return r;
  std::lock_guard lock(queue_mu_);
  started_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return {};
}

void Sequencer::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Sequencer::Running() const {
  std::lock_guard lock(queue_mu_);
  return started_ && !stopping_;
}

void Sequencer::Submit(Submission submission, Callback done) {
  Request r;
  r.submissions.push_back(std::move(submission));
  r.done = std::move(done);
  if (!Enqueue(r)) r.done(Fail(ErrorCode::kUnavailable, "the service is not accepting writes"));
}

void Sequencer::SubmitGroup(std::vector<Submission> group, GroupCallback done) {
  Request r;
  r.submissions = std::move(group);
  r.group_done = std::move(done);
  if (!Enqueue(r))
    r.group_done(Fail(ErrorCode::kUnavailable, "the service is not accepting writes"));
}

bool Sequencer::Enqueue(Request& request) {
  bool first = false;
  {
    std::lock_guard lock(queue_mu_);
    if (!started_ || stopping_) return false;
    first = queue_.empty();
    queue_.push_back(std::move(request));
  }
  // Only a request that finds the queue empty wakes the sequencer. Behind a queued one, the
  // sequencer was woken already, or it waits for a batch in flight to settle (Settle wakes it and
  // it then takes the whole queue): waking it for every request made a futex round trip per
  // command in which it could take nothing.
  if (first) queue_cv_.notify_one();
  return true;
}

std::future<Result<CommandResult>> Sequencer::Submit(Submission submission) {
  auto promise = std::make_shared<std::promise<Result<CommandResult>>>();
  auto future = promise->get_future();
  Submit(std::move(submission),
         [promise](Result<CommandResult> r) { promise->set_value(std::move(r)); });
  return future;
}

void Sequencer::FireDueTimers(TickCallback done) {
  Request r;
  r.tick = std::move(done);
  if (!Enqueue(r)) r.tick(Fail(ErrorCode::kUnavailable, "the sequencer is not running"));
}

Result<std::uint64_t> Sequencer::FireDueTimers() {
  std::promise<Result<std::uint64_t>> promise;
  auto future = promise.get_future();
  FireDueTimers([&promise](Result<std::uint64_t> r) { promise.set_value(std::move(r)); });
  return future.get();
}

bool Sequencer::Inspect(std::string_view collection, std::string_view id,
                        const std::function<void(const InstanceState&)>& look) const {
  std::string stream(collection);
  stream += '/';
  stream += id;
  std::shared_lock lock(state_mu_);
  auto it = instances_.find(stream);
  if (it == instances_.end()) return false;
  look(it->second);
  return true;
}

std::optional<InstanceState> Sequencer::Find(std::string_view collection,
                                             std::string_view id) const {
  std::string stream(collection);
  stream += '/';
  stream += id;
  std::shared_lock lock(state_mu_);
  auto it = instances_.find(stream);
  if (it == instances_.end()) return std::nullopt;
  return it->second;
}

void Sequencer::ForEachInstance(const std::function<bool(const InstanceState&)>& visit) const {
  std::shared_lock lock(state_mu_);
  for (const auto& [stream, state] : instances_) {
    if (!visit(state)) return;
  }
}

SequencerStats Sequencer::Stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void SequencerStats::Add(const SequencerStats& earlier) {
  batches += earlier.batches;
  commands += earlier.commands;
  rejected += earlier.rejected;
  events += earlier.events;
  timers_fired += earlier.timers_fired;
  append_failures += earlier.append_failures;
  sync_micros_total += earlier.sync_micros_total;
  for (std::size_t i = 0; i < write_buckets.size(); ++i)
    write_buckets[i] += earlier.write_buckets[i];
  decide_micros_total += earlier.decide_micros_total;
  for (std::size_t i = 0; i < decide_buckets.size(); ++i)
    decide_buckets[i] += earlier.decide_buckets[i];
  for (std::size_t i = 0; i < batch_buckets.size(); ++i)
    batch_buckets[i] += earlier.batch_buckets[i];
  idempotency_purged += earlier.idempotency_purged;
}

void Sequencer::CarryStats(const SequencerStats& earlier) {
  std::lock_guard lock(stats_mu_);
  stats_.Add(earlier);
}

std::map<WorkInProgress::Key, StageLoad> Sequencer::StageLoads() const {
  std::shared_lock lock(state_mu_);
  return work_in_progress_.stages();
}

void Sequencer::Run() {
  while (true) {
    std::vector<Request> batch;
    {
      std::unique_lock lock(queue_mu_);
      // A batch in flight that is done, or room for another one and commands to fill it.
      auto ready = [&] {
        const bool oldest_done = !inflight_.empty() && (inflight_.front().slot->settled ||
                                                        inflight_.front().settle_at_turn);
        const bool room = inflight_.size() < kMaxInFlight;
        return oldest_done || (room && (stopping_ || !queue_.empty()));
      };
      if (clock_.IsManual() || timers_.empty() || inflight_.size() >= kMaxInFlight) {
        // Manual time moves only on request; with no timers there is nothing to wake for.
        queue_cv_.wait(lock, ready);
      } else {
        // Woken in the second after the due one: that is when the deadline has passed.
        auto due = std::chrono::system_clock::time_point(timers_.begin()->due + Duration(1));
        queue_cv_.wait_until(lock, due, ready);
      }
      if (stopping_ && queue_.empty() && inflight_.empty()) break;
      if (inflight_.size() < kMaxInFlight) {
        while (!queue_.empty() && batch.size() < options_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    while (CompleteOldest(false)) {
    }
    if (failed_since_drain_ && !Drain()) {
      // Everything decided on top of the failed write has failed with it; memory goes back to
      // what is durable before anything new is decided.
      if (auto r = Recover(); !r) {
        for (auto& request : batch) {
          const Error e = r.error();
          if (request.done) request.done(std::unexpected(e));
          if (request.group_done) request.group_done(std::unexpected(e));
          if (request.tick) request.tick(std::unexpected(e));
        }
        continue;
      }
    }
    std::vector<Request> commands;
    std::vector<Request> ticks;
    for (auto& r : batch) (r.tick ? ticks : commands).push_back(std::move(r));
    const bool fire_timers = !clock_.IsManual() || !ticks.empty();
    // With the system clock a wake-up may be for a timer; with nothing due and nothing asked
    // there is nothing to decide (and deciding nothing would wake this loop again at once).
    const bool timer_due = !timers_.empty() && HasPassed(timers_.begin()->due, clock_.Now());
    if (commands.empty() && ticks.empty() && !timer_due) continue;
    if (ticks.empty()) {
      ProcessBatch(commands, fire_timers);
      continue;
    }
    // A tick answers how many timers fired, durably: it waits for its writes.
    fired_durable_ = 0;
    ProcessBatch(commands, true);
    bool ok = Drain();
    std::uint64_t fired = std::exchange(fired_durable_, 0);
    for (auto& tick : ticks) {
      // Firing can arm timers that are already due (a repeating deadline after a long jump of
      // the manual clock): fire until none is due.
      while (ok && !timers_.empty() && HasPassed(timers_.begin()->due, clock_.Now())) {
        std::vector<Request> none;
        ProcessBatch(none, true);
        ok = Drain();
        fired += std::exchange(fired_durable_, 0);
      }
      if (!ok) {
        tick.tick(Fail(ErrorCode::kUnavailable, "storage failed while firing timers"));
      } else {
        tick.tick(std::exchange(fired, 0));
      }
    }
    if (!ok) (void)Recover();
  }
  // Everything is durable and answered: the views of what changed since the last checkpoint are
  // written, so the next start replays nothing. Should this fail, that start replays instead.
  (void)WriteCheckpoint();
}

Result<void> Sequencer::Recover() {
  failed_since_drain_ = false;
  {
    std::lock_guard lock(settle_mu_);  // nothing is in flight: no Settle runs
    failed_from_.reset();
  }
  decided_seq_ = log_.GetHead().seq;
  return LoadTimers();
}

bool Sequencer::Drain() {
  while (!inflight_.empty()) CompleteOldest(true);
  return !std::exchange(failed_since_drain_, false);
}

void Sequencer::Settle(InFlight& f, Result<AppendResult> appended) {
  std::lock_guard settle(settle_mu_);
  if (appended && failed_from_ && f.number > *failed_from_) {
    // Decided while an earlier batch was in flight, whose write then failed: what this batch
    // decided (a refusal too, such as a second submit_to_umc) may rest on effects never written.
    appended =
        Fail(ErrorCode::kUnavailable, "an earlier write failed; this batch was decided on it");
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - f.started)
                          .count();
  Slot outcome;
  outcome.settled = true;
  outcome.ok = appended.has_value();
  if (!appended) {
    // Nothing was written: nobody is acknowledged, and memory goes back to the last durable
    // state (Recover, before the next decision). Refusals of this batch may rest on effects
    // that were never written (a second submit_to_umc refused as "already in umc_review"): they
    // get the write's error as well, and a retry gets the answer of the durable state.
    failed_from_ = std::min(f.number, failed_from_.value_or(f.number));
    for (auto& [done, result] : f.answered) {
      if (!result) result = std::unexpected(appended.error());
    }
    for (auto& [done, error] : f.groups_refused) error = appended.error();
  } else {
    outcome.head_seq = appended->head.seq;
    outcome.events = appended->events.size();
    // The answers' instances, copied here rather than on the sequencer's thread, from the
    // overlay that the sequencer's thread only reads. A fired timer has nobody to answer.
    for (auto& a : f.accepted) {
      if (!a.has_instance && (a.done || a.group != kNoGroup))
        a.result.instance = f.overlay.at(a.stream);
    }
    std::unique_lock lock(state_mu_);
    for (const auto& [stream, state] : f.overlay) {
      if (IsRegistryStream(stream)) registry_.Publish(state);
      InstanceState& durable = instances_[stream];
      work_in_progress_.Remove(durable);
      work_in_progress_.Add(state);
      durable = state;
    }
  }
  // The counters before the answers: a caller that reads /metrics after its answer counts it.
  {
    std::lock_guard lock(stats_mu_);
    stats_.rejected += f.groups_refused.size();
    for (auto& [done, result] : f.answered) {
      if (!result) ++stats_.rejected;
    }
    if (!outcome.ok) {
      ++stats_.append_failures;
    } else {
      ++stats_.batches;
      stats_.commands += f.accepted.size();
      stats_.events += outcome.events;
      stats_.timers_fired += f.fired;
      stats_.idempotency_purged += f.purged;
      stats_.sync_micros_total += static_cast<std::uint64_t>(micros);
      // The first bucket whose bound is not below the time (the last: none is).
      const auto bucket = [](std::uint64_t us) {
        return static_cast<std::size_t>(
            std::lower_bound(kWriteBucketsMicros.begin(), kWriteBucketsMicros.end(), us) -
            kWriteBucketsMicros.begin());
      };
      ++stats_.write_buckets[bucket(static_cast<std::uint64_t>(micros))];
      stats_.decide_micros_total += f.decide_micros;
      ++stats_.decide_buckets[bucket(f.decide_micros)];
      ++stats_.batch_buckets[std::lower_bound(kBatchBucketsCommands.begin(),
                                              kBatchBucketsCommands.end(), f.accepted.size()) -
                             kBatchBucketsCommands.begin()];
      if (f.checkpoint) stats_.views_checkpoint_seq = *f.checkpoint;
    }
  }
  if (!appended) {
    for (auto& a : f.accepted) {
      if (a.done) a.done(std::unexpected(appended.error()));
    }
    for (auto& g : f.groups) g.done(std::unexpected(appended.error()));
  } else {
    for (auto& a : f.accepted) {
      auto first = appended->events.begin() + static_cast<std::ptrdiff_t>(a.first_event);
      a.result.events.assign(
          std::make_move_iterator(first),
          std::make_move_iterator(first + static_cast<std::ptrdiff_t>(a.event_count)));
      if (a.group != kNoGroup) {
        f.groups[a.group].results.push_back(std::move(a.result));
      } else if (a.done) {
        a.done(std::move(a.result));
      }
    }
    for (auto& g : f.groups) g.done(std::move(g.results));
  }
  for (auto& [done, result] : f.answered) {
    if (done) done(std::move(result));
  }
  for (auto& [done, error] : f.groups_refused) done(std::unexpected(std::move(error)));
  // The last touch of `f` and of this sequencer: once settled, the sequencer's thread may remove
  // the batch, and (when it was the last) stop; so the notification is made under the lock.
  std::lock_guard lock(queue_mu_);
  *f.slot = outcome;
  queue_cv_.notify_all();
}

bool Sequencer::CompleteOldest(bool wait) {
  if (inflight_.empty()) return false;
  InFlight& f = inflight_.front();
  if (f.settle_at_turn) {
    // Writes nothing, and every batch before it is settled: its answers now.
    f.settle_at_turn = false;
    Settle(f, AppendResult{});
  }
  Slot outcome;
  {
    std::unique_lock lock(queue_mu_);
    if (wait) {
      queue_cv_.wait(lock, [&] { return f.slot->settled; });
    } else if (!f.slot->settled) {
      return false;
    }
    outcome = *f.slot;
  }
  if (!outcome.ok) {
    failed_since_drain_ = true;
    // The views this batch was to write were not written, and the checkpoint under way must not
    // claim to cover them: it starts again from everything not yet written.
    for (auto& stream : f.views) dirty_.insert(std::move(stream));
    for (auto& stream : checkpoint_pending_) dirty_.insert(std::move(stream));
    checkpoint_pending_.clear();
    checkpoint_seq_.reset();
  } else {
    for (const auto& [stream, state] : f.overlay) dirty_.insert(stream);
    durable_seq_ = std::max(durable_seq_, outcome.head_seq);
    events_since_checkpoint_ += outcome.events;
    if (!checkpoint_seq_ && events_since_checkpoint_ >= options_.view_checkpoint_events &&
        !dirty_.empty()) {
      // A checkpoint begins: the views of everything changed up to now, written a chunk a batch
      // from the states as they will then be (durable, at or after this seq).
      checkpoint_pending_.assign(dirty_.begin(), dirty_.end());
      dirty_.clear();
      checkpoint_seq_ = durable_seq_;
      events_since_checkpoint_ = 0;
    }
    fired_durable_ += f.fired;
  }
  inflight_.pop_front();
  return true;
}

}  // namespace expertflow::engine
