#include "engine/sequencer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <utility>

#include "engine/rebuild.h"

namespace expertflow::engine {
namespace {

constexpr std::string_view kViewPrefix = "i/";
constexpr std::size_t kScanPage = 4096;
constexpr std::size_t kNoGroup = static_cast<std::size_t>(-1);

std::uint64_t ReadBigEndian(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

// "proposals/ab12" -> {"proposals", "ab12"}.
std::pair<std::string, std::string> SplitStream(std::string_view stream) {
  auto slash = stream.find('/');
  return {std::string(stream.substr(0, slash)), std::string(stream.substr(slash + 1))};
}

}  // namespace

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
      routing_(routing),
      clock_(clock),
      ids_(ids),
      options_(options) {}

Sequencer::~Sequencer() { Stop(); }

std::string Sequencer::ViewKey(std::string_view stream) { return engine::ViewKey(stream); }

std::string Sequencer::TimerIndexKey(const TimerKey& key) {
  return engine::TimerIndexKey(key.due, key.stream, key.name);
}

Result<void> Sequencer::Load() {
  // The stored views are rebuilt from the log when there are none for existing events, or when
  // they were built by another version of the projection code.
  auto version = log_.Get(Space::kAnalytics, kInstanceViewsVersionKey);
  if (!version) return std::unexpected(version.error());
  auto any = log_.Scan(Space::kViews, "i/", "i0", 1);
  if (!any) return std::unexpected(any.error());
  const bool current = version->has_value() && **version == std::to_string(kInstanceViewsVersion);
  if (!current || (any->empty() && log_.GetHead().seq > 0)) {
    auto rebuilt = RebuildInstanceViews(log_);
    if (!rebuilt) return std::unexpected(rebuilt.error());
  }
  std::string from(kViewPrefix);
  const std::string to = "i0";  // '0' follows '/': the end of the "i/" keys
  while (true) {
    auto page = log_.Scan(Space::kViews, from, to, kScanPage);
    if (!page) return std::unexpected(page.error());
    for (auto& [key, value] : *page) {
      auto json = nlohmann::json::parse(value, nullptr, false);
      auto state = json.is_discarded()
                       ? Fail(ErrorCode::kCorruption, "view " + key + " is not JSON")
                       : StateFromJson(json);
      if (!state) return std::unexpected(state.error());
      instances_[key.substr(kViewPrefix.size())] = std::move(*state);
    }
    if (page->size() < kScanPage) break;
    from = page->back().first + '\0';
  }
  if (auto r = LoadTimers(); !r) return r;
  decided_seq_ = durable_seq_ = log_.GetHead().seq;
  // The views cover the log up to their checkpoint; what came after is replayed onto them. A view
  // written after the checkpoint already counts some of those events: its version says which.
  auto covered = log_.Get(Space::kAnalytics, kInstanceViewsSeqKey);
  if (!covered) return std::unexpected(covered.error());
  std::uint64_t covers = durable_seq_;  // no checkpoint: views written with their events
  if (*covered) {
    const std::string& text = **covered;
    if (std::from_chars(text.data(), text.data() + text.size(), covers).ec != std::errc{})
      return Fail(ErrorCode::kCorruption, "the instance views' checkpoint is malformed");
  }
  if (covers < durable_seq_) {
    auto r = ReplayOnto(log_, covers + 1, durable_seq_, instances_,
                        [this](const std::string& stream) { dirty_.insert(stream); });
    if (!r) return r;
  }
  // Caught up (or a store from before checkpoints): the checkpoint now covers the head.
  if (!*covered || !dirty_.empty()) return WriteCheckpoint();
  std::lock_guard lock(stats_mu_);
  stats_.views_checkpoint_seq = covers;
  return {};
}

std::optional<std::uint64_t> Sequencer::AddCheckpointChunk(AppendBatch& batch,
                                                           std::vector<std::string>& streams) {
  if (!checkpoint_seq_) return std::nullopt;
  const std::size_t n = std::min(std::max<std::size_t>(options_.view_checkpoint_chunk, 1),
                                 checkpoint_pending_.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string stream = std::move(checkpoint_pending_.back());
    checkpoint_pending_.pop_back();
    AddView(batch, stream);
    streams.push_back(std::move(stream));
  }
  if (!checkpoint_pending_.empty()) return std::nullopt;
  const std::uint64_t covers = *std::exchange(checkpoint_seq_, std::nullopt);
  batch.writes.push_back(InstanceViewsCover(covers));
  return covers;
}

void Sequencer::AddView(AppendBatch& batch, const std::string& stream) const {
  // The durable state: the batches in flight are not in instances_, so no view runs ahead of the
  // log. (Only the sequencer's thread changes instances_.)
  if (auto it = instances_.find(stream); it != instances_.end())
    batch.writes.push_back({Space::kViews, ViewKey(stream), StateToText(it->second)});
}

Result<void> Sequencer::WriteCheckpoint() {
  for (auto& stream : checkpoint_pending_) dirty_.insert(std::move(stream));
  checkpoint_pending_.clear();
  checkpoint_seq_.reset();
  const std::vector<std::string> streams(dirty_.begin(), dirty_.end());
  constexpr std::size_t kChunk = 4096;  // views a write, so a big catch-up is not one huge batch
  for (std::size_t first = 0;; first += kChunk) {
    AppendBatch batch;
    const std::size_t end = std::min(first + kChunk, streams.size());
    for (std::size_t i = first; i < end; ++i) AddView(batch, streams[i]);
    const bool last = end == streams.size();
    if (last) batch.writes.push_back(InstanceViewsCover(durable_seq_));
    // On failure every stream stays dirty, for the next checkpoint; the stored one stands.
    if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
    if (last) break;
  }
  dirty_.clear();
  events_since_checkpoint_ = 0;
  std::lock_guard lock(stats_mu_);
  stats_.views_checkpoint_seq = durable_seq_;
  return {};
}

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
  {
    std::lock_guard lock(queue_mu_);
    if (!started_ || stopping_) return false;
    queue_.push_back(std::move(request));
  }
  queue_cv_.notify_one();
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

void Sequencer::Run() {
  while (true) {
    std::vector<Request> batch;
    {
      std::unique_lock lock(queue_mu_);
      // A batch in flight that is done, or room for another one and commands to fill it.
      auto ready = [&] {
        const bool oldest_done = !inflight_.empty() && inflight_.front().slot->result;
        const bool room = inflight_.size() < kMaxInFlight;
        return oldest_done || (room && (stopping_ || !queue_.empty()));
      };
      if (clock_.IsManual() || timers_.empty() || inflight_.size() >= kMaxInFlight) {
        // Manual time moves only on request; with no timers there is nothing to wake for.
        queue_cv_.wait(lock, ready);
      } else {
        auto due = std::chrono::system_clock::time_point(timers_.begin()->due);
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
    const bool timer_due = !timers_.empty() && timers_.begin()->due <= clock_.Now();
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
      while (ok && !timers_.empty() && timers_.begin()->due <= clock_.Now()) {
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

Result<void> Sequencer::LoadTimers() {
  timers_.clear();
  std::string from;
  while (true) {
    auto page = log_.Scan(Space::kTimers, from, "", kScanPage);
    if (!page) return std::unexpected(page.error());
    for (auto& [key, value] : *page) {
      if (key.size() < 10) continue;
      auto nul = key.find('\0', 8);
      if (nul == std::string::npos) continue;
      TimerKey t{Timestamp(Duration(static_cast<Duration::rep>(ReadBigEndian(key)))),
                 key.substr(8, nul - 8), key.substr(nul + 1)};
      timers_.insert(std::move(t));
    }
    if (page->size() < kScanPage) break;
    from = page->back().first + '\0';
  }
  return {};
}

Result<void> Sequencer::Recover() {
  failed_since_drain_ = false;
  decided_seq_ = log_.GetHead().seq;
  return LoadTimers();
}

bool Sequencer::Drain() {
  while (!inflight_.empty()) CompleteOldest(true);
  return !std::exchange(failed_since_drain_, false);
}

bool Sequencer::CompleteOldest(bool wait) {
  if (inflight_.empty()) return false;
  InFlight& f = inflight_.front();
  {
    std::unique_lock lock(queue_mu_);
    if (wait) {
      queue_cv_.wait(lock, [&] { return f.slot->result.has_value(); });
    } else if (!f.slot->result) {
      return false;
    }
  }
  Result<AppendResult>& appended = *f.slot->result;
  if (appended && failed_since_drain_) {
    // Decided while an earlier batch was in flight, whose write then failed: what this batch
    // decided (a refusal too, such as a second submit_to_umc) may rest on effects never written.
    appended =
        Fail(ErrorCode::kUnavailable, "an earlier write failed; this batch was decided on it");
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - f.started)
                          .count();
  if (!appended) {
    // Nothing was written: nobody is acknowledged, memory goes back to the last durable state
    // (Recover, before the next decision).
    failed_since_drain_ = true;
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.append_failures;
    }
    for (auto& a : f.accepted) {
      if (a.done) a.done(std::unexpected(appended.error()));
    }
    // Refusals of this batch may rest on effects that were never written (a second
    // submit_to_umc refused as "already in umc_review"): they get the write's error as well,
    // and a retry gets the answer of the durable state.
    for (auto& [done, result] : f.answered) {
      if (!result) result = std::unexpected(appended.error());
    }
    for (auto& [done, error] : f.groups_refused) error = appended.error();
    for (auto& g : f.groups) g.done(std::unexpected(appended.error()));
    f.groups.clear();
    // The views this batch was to write were not written, and the checkpoint under way must not
    // claim to cover them: it starts again from everything not yet written.
    for (auto& stream : f.views) dirty_.insert(std::move(stream));
    for (auto& stream : checkpoint_pending_) dirty_.insert(std::move(stream));
    checkpoint_pending_.clear();
    checkpoint_seq_.reset();
  } else {
    {
      std::unique_lock lock(state_mu_);
      for (auto& [stream, state] : f.overlay) {
        instances_[stream] = std::move(state);
        dirty_.insert(stream);
      }
    }
    durable_seq_ = appended->head.seq;
    events_since_checkpoint_ += appended->events.size();
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
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.batches;
      stats_.commands += f.accepted.size();
      stats_.events += appended->events.size();
      stats_.timers_fired += f.fired;
      stats_.last_batch_commands = f.accepted.size();
      stats_.sync_micros_total += static_cast<std::uint64_t>(micros);
      if (f.checkpoint) stats_.views_checkpoint_seq = *f.checkpoint;
    }
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
  }
  for (auto& g : f.groups) g.done(std::move(g.results));
  {
    std::lock_guard lock(stats_mu_);
    for (auto& [done, result] : f.answered) {
      if (!result) ++stats_.rejected;
    }
    stats_.rejected += f.groups_refused.size();
  }
  for (auto& [done, result] : f.answered) {
    if (done) done(std::move(result));
  }
  for (auto& [done, error] : f.groups_refused) done(std::unexpected(std::move(error)));
  inflight_.pop_front();
  return true;
}

void Sequencer::ProcessBatch(std::vector<Request>& requests, bool fire_timers) {
  const Timestamp now = clock_.Now();
  const std::uint64_t base_seq = decided_seq_;
  std::vector<Accepted> accepted;
  std::vector<Group> groups;
  std::vector<std::pair<Callback, Result<CommandResult>>> answered;  // rejections and replays
  std::vector<std::pair<GroupCallback, Error>> groups_refused;
  std::unordered_map<std::string, InstanceState> overlay;
  std::map<std::string, std::string> idempotency_in_batch;  // key -> digest
  std::vector<TimerKey> timers_removed;
  std::vector<TimerKey> timers_added;
  AppendBatch batch;
  std::size_t event_total = 0;
  std::uint64_t fired = 0;
  // While a group is decided, what each overlay entry was before it, to undo a refused group.
  std::vector<std::pair<std::string, std::optional<InstanceState>>>* undo = nullptr;

  // The state to decide on: this batch's, else the newest batch in flight's, else the durable one.
  auto current = [&](const std::string& stream) -> const InstanceState* {
    if (auto it = overlay.find(stream); it != overlay.end()) return &it->second;
    for (auto f = inflight_.rbegin(); f != inflight_.rend(); ++f) {
      if (auto it = f->overlay.find(stream); it != f->overlay.end()) return &it->second;
    }
    if (auto it = instances_.find(stream); it != instances_.end()) return &it->second;
    return nullptr;
  };

  // Decides one command into the batch. A refusal is returned (nothing was added); a replay of
  // an idempotent repeat is answered through `done` at once.
  auto process = [&](Submission& sub, Callback& done, std::size_t group) -> std::optional<Error> {
    Command& cmd = sub.command;
    if (cmd.kind == Command::Kind::kCreate && cmd.instance_id.empty()) {
      do {
        cmd.instance_id = ids_.NewId();
      } while (current(cmd.collection + "/" + cmd.instance_id) != nullptr);
    }
    const std::string stream = cmd.collection + "/" + cmd.instance_id;

    if (!sub.idempotency_key.empty() && group == kNoGroup) {
      // The digest of a request with this key that is decided but not yet durable, in this
      // batch or one in flight.
      const std::string* pending = nullptr;
      if (auto it = idempotency_in_batch.find(sub.idempotency_key);
          it != idempotency_in_batch.end())
        pending = &it->second;
      for (auto f = inflight_.begin(); pending == nullptr && f != inflight_.end(); ++f) {
        if (auto it = f->idempotency.find(sub.idempotency_key); it != f->idempotency.end())
          pending = &it->second;
      }
      if (pending != nullptr) {
        // The first of two concurrent repeats is not durable yet: the second must retry.
        return Error{*pending == sub.request_digest ? ErrorCode::kVersionConflict
                                                    : ErrorCode::kIdempotencyKeyReused,
                     "a request with this Idempotency-Key is in progress",
                     nlohmann::json::object()};
      }
      auto stored = log_.Get(Space::kIdempotency, sub.idempotency_key);
      if (!stored) return stored.error();
      if (*stored) {
        auto rec = nlohmann::json::parse(**stored, nullptr, false);
        auto at = rec.is_object() ? ParseRfc3339(rec.value("at", "")) : std::nullopt;
        if (at && *at + options_.idempotency_ttl >= now) {
          if (rec.value("digest", "") != sub.request_digest) {
            return Error{ErrorCode::kIdempotencyKeyReused,
                         "this Idempotency-Key was used for a different request",
                         nlohmann::json::object()};
          }
          CommandResult replay;
          replay.replayed = true;
          replay.version = rec.value("version", std::uint64_t{0});
          replay.state = rec.value("state", "");
          if (const InstanceState* s = current(rec.value("stream", ""))) replay.instance = *s;
          std::uint64_t first = rec.value("first_seq", std::uint64_t{0});
          std::uint64_t count = rec.value("count", std::uint64_t{0});
          if (count > 0) {
            auto r = log_.ForEach(
                first, first + count - 1,
                [&](std::uint64_t seq, const Hash& hash, std::string_view record) {
                  auto e = DecodeRecord(record);
                  replay.events.push_back(AppendedEvent{seq, e ? e->stream : "", e ? e->version : 0,
                                                        hash, std::string(record)});
                  return true;
                });
            if (!r) return r.error();
          }
          answered.emplace_back(std::move(done), std::move(replay));
          return std::nullopt;
        }
      }
    }

    const InstanceState* cur = current(stream);
    if (cmd.expected_version) {
      if (cur == nullptr && cmd.kind != Command::Kind::kCreate) {
        return Error{ErrorCode::kNotFound, "no instance " + stream, nlohmann::json::object()};
      }
      std::uint64_t have = cur ? cur->version : 0;
      if (*cmd.expected_version != have) {
        return Error{ErrorCode::kVersionConflict,
                     "instance is at version " + std::to_string(have) + ", not " +
                         std::to_string(*cmd.expected_version),
                     {{"current_version", have}}};
      }
    }
    DecideContext ctx{now, definitions_, directory_, routing_};
    auto decided = Decide(cur, cmd, ctx);
    if (!decided) return std::move(decided.error());
    if (decided->empty()) {
      // A stale timer: nothing to do, nothing to answer.
      if (done) {
        answered.emplace_back(std::move(done), CommandResult{cur ? *cur : InstanceState{},
                                                             {},
                                                             cur ? cur->version : 0,
                                                             cur ? cur->state : "",
                                                             false});
      }
      return std::nullopt;
    }

    InstanceState next = cur ? *cur : InstanceState{};
    StreamAppend part{stream, cur ? cur->version : 0, {}};
    const std::string command_id = ids_.NewId() + ids_.NewId().substr(0, 4);
    for (auto& d : *decided) {
      NewEvent e;
      e.type = d.type;
      e.occurred_at = now;
      e.actor = Actor{cmd.actor.org, cmd.actor.role, cmd.actor.token_id};
      e.command = cmd.kind == Command::Kind::kFireTimer ? "deadline" : cmd.name;
      e.command_id = command_id;
      e.data = JsonText(d.data);
      if (auto ok = ValidateNewEvent(stream, e); !ok) return ok.error();
      if (e.data.size() + 2048 > kMaxRecordBytes) {
        return Error{ErrorCode::kPayloadTooLarge, "the event would exceed the record bound",
                     nlohmann::json::object()};
      }
      Evolve(next, now, e.data);
      part.events.push_back(std::move(e));
    }

    // Keep the timer index in step with the instance's armed deadlines.
    const std::map<std::string, Timestamp> no_timers;
    const auto& before = cur ? cur->timers : no_timers;
    for (const auto& [name, due] : before) {
      auto it = next.timers.find(name);
      if (it == next.timers.end() || it->second != due) {
        timers_removed.push_back({due, stream, name});
        batch.writes.push_back(
            {Space::kTimers, TimerIndexKey(timers_removed.back()), std::nullopt});
      }
    }
    for (const auto& [name, due] : next.timers) {
      auto it = before.find(name);
      if (it == before.end() || it->second != due) {
        timers_added.push_back({due, stream, name});
        batch.writes.push_back({Space::kTimers, TimerIndexKey(timers_added.back()), ""});
      }
    }

    Accepted a;
    a.done = std::move(done);
    a.group = group;
    a.first_event = event_total;
    a.event_count = part.events.size();
    a.result.version = next.version;
    a.result.state = next.state;
    if (!sub.idempotency_key.empty() && group == kNoGroup) {
      nlohmann::json rec = {{"digest", sub.request_digest},
                            {"stream", stream},
                            {"first_seq", base_seq + event_total + 1},
                            {"count", part.events.size()},
                            {"version", next.version},
                            {"state", next.state},
                            {"at", FormatRfc3339(now)}};
      batch.writes.push_back({Space::kIdempotency, sub.idempotency_key, rec.dump()});
      idempotency_in_batch[sub.idempotency_key] = sub.request_digest;
    }
    event_total += part.events.size();
    batch.appends.push_back(std::move(part));
    a.result.instance = next;
    if (undo != nullptr) {
      auto prior = overlay.find(stream);
      undo->emplace_back(stream, prior == overlay.end()
                                     ? std::nullopt
                                     : std::optional<InstanceState>(prior->second));
    }
    overlay[stream] = std::move(next);
    accepted.push_back(std::move(a));
    return std::nullopt;
  };

  if (fire_timers) {
    std::vector<TimerKey> due;
    for (const auto& t : timers_) {
      if (t.due > now || due.size() >= options_.max_batch) break;
      due.push_back(t);
    }
    for (const auto& t : due) {
      auto [collection, id] = SplitStream(t.stream);
      Submission sub;
      sub.command.kind = Command::Kind::kFireTimer;
      sub.command.collection = collection;
      sub.command.instance_id = id;
      sub.command.name = "deadline";
      sub.command.actor = SystemPrincipal();
      sub.command.timer = t.name;
      sub.command.timer_due = t.due;
      const std::size_t before = accepted.size();
      Callback none;
      // A timer that cannot fire (its instance refuses) is dropped rather than retried forever.
      (void)process(sub, none, kNoGroup);
      if (accepted.size() > before) ++fired;
      // The fired (or stale) entry leaves the index in any case.
      timers_removed.push_back(t);
      batch.writes.push_back({Space::kTimers, TimerIndexKey(t), std::nullopt});
    }
  }

  for (auto& r : requests) {
    if (!r.group_done) {
      if (auto refused = process(r.submissions.front(), r.done, kNoGroup)) {
        answered.emplace_back(std::move(r.done), std::unexpected(std::move(*refused)));
      }
      continue;
    }
    // All or nothing: remember where the batch stood, and roll back to it on a refusal.
    const std::size_t appends = batch.appends.size(), writes = batch.writes.size();
    const std::size_t accepted_before = accepted.size(), events_before = event_total;
    const std::size_t removed = timers_removed.size(), added = timers_added.size();
    std::vector<std::pair<std::string, std::optional<InstanceState>>> undo_log;
    undo = &undo_log;
    std::optional<Error> refused;
    for (auto& sub : r.submissions) {
      Callback none;
      if ((refused = process(sub, none, groups.size()))) break;
    }
    undo = nullptr;
    if (!refused) {
      groups.push_back(Group{std::move(r.group_done), {}});
      continue;
    }
    batch.appends.resize(appends);
    batch.writes.resize(writes);
    accepted.resize(accepted_before);
    event_total = events_before;
    timers_removed.resize(removed);
    timers_added.resize(added);
    for (auto it = undo_log.rbegin(); it != undo_log.rend(); ++it) {
      if (it->second)
        overlay[it->first] = std::move(*it->second);
      else
        overlay.erase(it->first);
    }
    groups_refused.emplace_back(std::move(r.group_done), std::move(*refused));
  }

  // No view per command: the views are a checkpointed projection (SequencerOptions). The batch
  // carries the next chunk of a checkpoint under way.
  std::vector<std::string> views;
  const std::optional<std::uint64_t> checkpoint = AddCheckpointChunk(batch, views);

  InFlight f;
  f.accepted = std::move(accepted);
  f.groups = std::move(groups);
  f.answered = std::move(answered);
  f.groups_refused = std::move(groups_refused);
  f.overlay = std::move(overlay);
  f.idempotency = std::move(idempotency_in_batch);
  f.views = std::move(views);
  f.checkpoint = checkpoint;
  f.fired = fired;
  f.started = std::chrono::steady_clock::now();
  f.slot = std::make_shared<Slot>();
  if (f.accepted.empty() && f.groups.empty() && f.answered.empty() && f.groups_refused.empty() &&
      batch.writes.empty()) {
    return;  // nothing decided, nobody to answer
  }
  if (batch.appends.empty() && batch.writes.empty()) {
    f.slot->result = AppendResult{{}, log_.GetHead()};  // nothing to write: done at once
  } else {
    // The timers as decided: the next batch must not fire again what this one fired. Should the
    // write fail, Recover reads the index back from the store.
    for (const auto& t : timers_removed) timers_.erase(t);
    for (const auto& t : timers_added) timers_.insert(t);
    batch.after_seq = decided_seq_;
    decided_seq_ += event_total;
  }
  std::shared_ptr<Slot> slot = f.slot;
  inflight_.push_back(std::move(f));
  if (slot->result) return;
  log_.AppendAsync(std::move(batch), [this, slot](Result<AppendResult> r) {
    {
      std::lock_guard lock(queue_mu_);
      slot->result = std::move(r);
    }
    queue_cv_.notify_all();
  });
}

}  // namespace expertflow::engine
