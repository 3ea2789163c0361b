// Deciding a batch: each request's commands decided and evolved against the instances as the
// batches before it left them, their events, timers, idempotency records and views put into one
// append handed to the log.
#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/runtime/sequencer.h"

namespace expertflow::engine {
namespace {

// "proposals/ab12" -> {"proposals", "ab12"}.
std::pair<std::string, std::string> SplitStream(std::string_view stream) {
  auto slash = stream.find('/');
  return {std::string(stream.substr(0, slash)), std::string(stream.substr(slash + 1))};
}

// The id a creation names for its instance through its definition's `id_from` (an
// organisation's, a group's), or "" when the definition does not name one. A value that is not
// an id is left to the definition's checks, which refuse it.
std::string NamedInstanceId(const DefinitionSet& definitions, const Command& cmd) {
  const Definition* def = nullptr;
  if (!cmd.workflow.empty()) {
    def = cmd.workflow_version == 0 ? definitions.Latest(cmd.workflow)
                                    : definitions.Find(cmd.workflow, cmd.workflow_version);
  } else if (auto list = definitions.InCollection(cmd.collection); list.size() == 1) {
    def = list.front();
  }
  if (def == nullptr || def->id_from.empty() || def->collection != cmd.collection) return {};
  auto it = cmd.payload.find(def->id_from);
  if (it == cmd.payload.end() || !it->is_string()) return {};
  const std::string& id = it->get_ref<const std::string&>();
  const bool plain = !id.empty() && id.size() <= 100 && id.find('/') == std::string::npos;
  return plain ? id : std::string();
}

}  // namespace

class Sequencer::Batch {
 public:
  Batch(Sequencer& s, Timestamp now)
      : s_(s),
        now_(now),
        base_seq_(s.decided_seq_),
        directory_(s.directory_,
                   LayeredDirectory::Source{
                       [this](std::string_view id) -> const Organization* {
                         const InstanceState* st =
                             Current(std::string(kOrganizationsCollection) + "/" + std::string(id));
                         return st ? s_.registry_.OrganizationOf(*st) : nullptr;
                       },
                       [this](std::string_view id) -> const ::expertflow::engine::Group* {
                         const InstanceState* st =
                             Current(std::string(kGroupsCollection) + "/" + std::string(id));
                         return st ? s_.registry_.GroupOf(*st) : nullptr;
                       },
                       [this](std::string_view c) { return s_.registry_.DecidedIds(c); }}) {}

  void FireDueTimers();
  void DecideOne(Request& r);
  void DecideGroup(Request& r);

  // What the batch decided, handed on to the batch in flight by Launch.
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
  std::uint64_t purged = 0;  // idempotency records deleted

 private:
  const InstanceState* Current(const std::string& stream) const;
  Result<std::optional<CommandResult>> RepeatOf(const Submission& sub) const;
  std::optional<Error> CheckVersion(const Command& cmd, const InstanceState* cur,
                                    const std::string& stream) const;
  std::optional<Error> BuildEvents(const Command& cmd, const std::vector<DecidedEvent>& decided,
                                   InstanceState& next, StreamAppend& part);
  void IndexTimers(const InstanceState* cur, const InstanceState& next, const std::string& stream);
  std::optional<Error> Process(Submission& sub, Callback& done, std::size_t group);

  Sequencer& s_;
  const Timestamp now_;
  const std::uint64_t base_seq_;
  // The registry as this batch decides on it: its own changes and those in flight count.
  LayeredDirectory directory_;
  // While a group is decided, what each overlay entry was before it, to undo a refused group.
  std::vector<std::pair<std::string, std::optional<InstanceState>>>* undo = nullptr;
};

// The state to decide on: this batch's, else the newest batch in flight's, else the durable one.
const InstanceState* Sequencer::Batch::Current(const std::string& stream) const {
  if (auto it = overlay.find(stream); it != overlay.end()) return &it->second;
  for (auto f = s_.inflight_.rbegin(); f != s_.inflight_.rend(); ++f) {
    if (auto it = f->overlay.find(stream); it != f->overlay.end()) return &it->second;
  }
  // Settle inserts into instances_ on the log's thread; the element found stays put (a node), and
  // is not one Settle writes (see state_mu_).
  std::shared_lock lock(s_.state_mu_);
  if (auto it = s_.instances_.find(stream); it != s_.instances_.end()) return &it->second;
  return nullptr;
}

// An Idempotency-Key seen before: the first result again (a replay), nothing when the key is new
// or expired, or the refusal of a repeat that cannot be answered.
Result<std::optional<CommandResult>> Sequencer::Batch::RepeatOf(const Submission& sub) const {
  // The digest of a request with this key that is decided but not yet durable, in this
  // batch or one in flight.
  const std::string* pending = nullptr;
  if (auto it = idempotency_in_batch.find(sub.idempotency_key); it != idempotency_in_batch.end())
    pending = &it->second;
  for (auto f = s_.inflight_.begin(); pending == nullptr && f != s_.inflight_.end(); ++f) {
    if (auto it = f->idempotency.find(sub.idempotency_key); it != f->idempotency.end())
      pending = &it->second;
  }
  if (pending != nullptr) {
    // The first of two concurrent repeats is not durable yet: the second must retry.
    return std::unexpected(Error{*pending == sub.request_digest ? ErrorCode::kVersionConflict
                                                                : ErrorCode::kIdempotencyKeyReused,
                                 "a request with this Idempotency-Key is in progress",
                                 nlohmann::json::object()});
  }
  auto stored = s_.log_.Get(Space::kIdempotency, sub.idempotency_key);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return std::nullopt;
  auto rec = nlohmann::json::parse(**stored, nullptr, false);
  auto at = rec.is_object() ? ParseRfc3339(rec.value("at", "")) : std::nullopt;
  if (!at || *at + s_.options_.idempotency_retention < now_) return std::nullopt;
  if (rec.value("digest", "") != sub.request_digest) {
    return std::unexpected(Error{ErrorCode::kIdempotencyKeyReused,
                                 "this Idempotency-Key was used for a different request",
                                 nlohmann::json::object()});
  }
  CommandResult replay;
  replay.replayed = true;
  replay.version = rec.value("version", std::uint64_t{0});
  replay.state = rec.value("state", "");
  if (const InstanceState* s = Current(rec.value("stream", ""))) replay.instance = *s;
  std::uint64_t first = rec.value("first_seq", std::uint64_t{0});
  std::uint64_t count = rec.value("count", std::uint64_t{0});
  if (count > 0) {
    auto r = s_.log_.ForEach(
        first, first + count - 1,
        [&](std::uint64_t seq, const Hash& hash, std::string_view record) {
          auto e = DecodeRecord(record);
          replay.events.push_back(AppendedEvent{seq, e ? e->stream : "", e ? e->version : 0, hash,
                                                std::string(record)});
          return true;
        });
    if (!r) return std::unexpected(r.error());
  }
  return replay;
}

// The command's expected_version against the instance it acts on.
std::optional<Error> Sequencer::Batch::CheckVersion(const Command& cmd, const InstanceState* cur,
                                                    const std::string& stream) const {
  if (!cmd.expected_version) return std::nullopt;
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
  return std::nullopt;
}

// The decided events as records of the stream, each applied to `next`; the refusal of one the log
// would not take.
std::optional<Error> Sequencer::Batch::BuildEvents(const Command& cmd,
                                                   const std::vector<DecidedEvent>& decided,
                                                   InstanceState& next, StreamAppend& part) {
  const std::string command_id = s_.ids_.NewId() + s_.ids_.NewId().substr(0, 4);
  for (const auto& d : decided) {
    NewEvent e;
    e.type = d.type;
    e.occurred_at = now_;
    e.actor = Actor{cmd.actor.org, cmd.actor.role, cmd.actor.token_id};
    e.command = cmd.kind == Command::Kind::kFireTimer ? "deadline" : cmd.name;
    e.command_id = command_id;
    e.data = JsonText(d.data);
    if (auto ok = ValidateNewEvent(part.stream, e); !ok) return ok.error();
    if (e.data.size() + 2048 > kMaxRecordBytes) {
      return Error{ErrorCode::kPayloadTooLarge, "the event would exceed the record bound",
                   nlohmann::json::object()};
    }
    Evolve(next, now_, e.data);
    part.events.push_back(std::move(e));
  }
  return std::nullopt;
}

// Keeps the timer index in step with the instance's armed deadlines.
void Sequencer::Batch::IndexTimers(const InstanceState* cur, const InstanceState& next,
                                   const std::string& stream) {
  const std::map<std::string, Timestamp> no_timers;
  const auto& before = cur ? cur->timers : no_timers;
  for (const auto& [name, due] : before) {
    auto it = next.timers.find(name);
    if (it == next.timers.end() || it->second != due) {
      timers_removed.push_back({due, stream, name});
      batch.writes.push_back(
          {Space::kTimers, Sequencer::TimerIndexKey(timers_removed.back()), std::nullopt});
    }
  }
  for (const auto& [name, due] : next.timers) {
    auto it = before.find(name);
    if (it == before.end() || it->second != due) {
      timers_added.push_back({due, stream, name});
      batch.writes.push_back({Space::kTimers, Sequencer::TimerIndexKey(timers_added.back()), ""});
    }
  }
}

// Decides one command into the batch. A refusal is returned (nothing was added); a replay of an
// idempotent repeat is answered through `done` at once.
std::optional<Error> Sequencer::Batch::Process(Submission& sub, Callback& done, std::size_t group) {
  Command& cmd = sub.command;
  if (cmd.kind == Command::Kind::kCreate && cmd.instance_id.empty())
    cmd.instance_id = NamedInstanceId(s_.definitions_, cmd);
  if (cmd.kind == Command::Kind::kCreate && cmd.instance_id.empty()) {
    do {
      cmd.instance_id = s_.ids_.NewId();
    } while (Current(cmd.collection + "/" + cmd.instance_id) != nullptr);
  }
  const std::string stream = cmd.collection + "/" + cmd.instance_id;
  if (now_ > kLastRecordableTime) {
    return Error{ErrorCode::kUnavailable,
                 "the clock stands past 9999-12-31T23:59:59Z, which no record can hold",
                 nlohmann::json::object()};
  }
  // A group's key is its first member's, looked up before the group is decided.
  const bool keyed = !sub.idempotency_key.empty();
  if (keyed && group == kNoGroup) {
    auto repeat = RepeatOf(sub);
    if (!repeat) return std::move(repeat.error());
    if (*repeat) {
      answered.emplace_back(std::move(done), std::move(**repeat));
      return std::nullopt;
    }
  }

  const InstanceState* cur = Current(stream);
  if (auto conflict = CheckVersion(cmd, cur, stream)) return conflict;
  DecideContext ctx{now_, s_.definitions_, directory_, s_.routing_};
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
  if (auto refused = BuildEvents(cmd, *decided, next, part)) return refused;
  for (const auto& [name, due] : next.timers) {
    if (due > kLastRecordableTime) {
      return Error{ErrorCode::kValidationFailed,
                   "deadline " + name + " falls after 9999-12-31",
                   {{"errors", {{{"field", name}, {"message", "falls after 9999-12-31"}}}}}};
    }
  }
  IndexTimers(cur, next, stream);

  Accepted a;
  a.done = std::move(done);
  a.group = group;
  a.first_event = event_total;
  a.event_count = part.events.size();
  a.result.version = next.version;
  a.result.state = next.state;
  // The record of a group's key names its first member's events, and is dropped with the rest
  // of a group that is refused.
  if (keyed) {
    nlohmann::json rec = {{"digest", sub.request_digest},
                          {"stream", stream},
                          {"first_seq", base_seq_ + event_total + 1},
                          {"count", part.events.size()},
                          {"version", next.version},
                          {"state", next.state},
                          {"at", FormatRfc3339(now_)}};
    batch.writes.push_back({Space::kIdempotency, sub.idempotency_key, rec.dump()});
    idempotency_in_batch[sub.idempotency_key] = sub.request_digest;
  }
  event_total += part.events.size();
  batch.appends.push_back(std::move(part));
  // The instance of the answer is copied when the batch is settled, from the overlay; but when
  // an earlier command of this batch left the state the overlay holds, that command's copy is
  // made now, before the overlay moves on.
  // (A stream is in the overlay only through a command accepted into this batch; a group rolled
  // back takes its commands and its overlay entries with it.)
  if (auto prior = overlay.find(stream); prior != overlay.end()) {
    auto earlier = std::find_if(accepted.rbegin(), accepted.rend(),
                                [&](const Accepted& e) { return e.stream == stream; });
    if (earlier != accepted.rend() && !earlier->has_instance) {
      earlier->result.instance = prior->second;
      earlier->has_instance = true;
    }
  }
  a.stream = stream;
  if (undo != nullptr) {
    auto prior = overlay.find(stream);
    undo->emplace_back(stream, prior == overlay.end()
                                   ? std::nullopt
                                   : std::optional<InstanceState>(prior->second));
  }
  overlay[stream] = std::move(next);
  accepted.push_back(std::move(a));
  if (cmd.kind == Command::Kind::kCreate && IsRegistryStream(stream))
    s_.registry_.NoteDecided(cmd.collection, cmd.instance_id);
  return std::nullopt;
}

// Fires the deadlines that have passed, at most max_batch of them, as system commands.
void Sequencer::Batch::FireDueTimers() {
  std::vector<TimerKey> due;
  for (const auto& t : s_.timers_) {
    if (!HasPassed(t.due, now_) || due.size() >= s_.options_.max_batch) break;
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
    (void)Process(sub, none, kNoGroup);
    if (accepted.size() > before) ++fired;
    // The fired (or stale) entry leaves the index in any case.
    timers_removed.push_back(t);
    batch.writes.push_back({Space::kTimers, Sequencer::TimerIndexKey(t), std::nullopt});
  }
}

// A single command: decided into the batch, or refused on its own.
void Sequencer::Batch::DecideOne(Request& r) {
  if (auto refused = Process(r.submissions.front(), r.done, kNoGroup)) {
    answered.emplace_back(std::move(r.done), std::unexpected(std::move(*refused)));
  }
}

// A group, all or nothing: where the batch stood is remembered, and rolled back to on a refusal.
void Sequencer::Batch::DecideGroup(Request& r) {
  const std::size_t appends = batch.appends.size(), writes = batch.writes.size();
  const std::size_t accepted_before = accepted.size(), events_before = event_total;
  const std::size_t removed = timers_removed.size(), added = timers_added.size();
  Submission& lead = r.submissions.front();
  if (!lead.idempotency_key.empty()) {
    auto repeat = RepeatOf(lead);
    if (!repeat) {
      groups_refused.emplace_back(std::move(r.group_done), std::move(repeat.error()));
      return;
    }
    if (*repeat) {
      groups.push_back(Group{std::move(r.group_done), {std::move(**repeat)}});
      return;
    }
  }
  std::vector<std::pair<std::string, std::optional<InstanceState>>> undo_log;
  undo = &undo_log;
  std::optional<Error> refused;
  for (auto& sub : r.submissions) {
    Callback none;
    if ((refused = Process(sub, none, groups.size()))) break;
  }
  undo = nullptr;
  if (!refused) {
    groups.push_back(Group{std::move(r.group_done), {}});
    return;
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
  idempotency_in_batch.erase(lead.idempotency_key);
  groups_refused.emplace_back(std::move(r.group_done), std::move(*refused));
}

void Sequencer::ProcessBatch(std::vector<Request>& requests, bool fire_timers) {
  const auto begun = std::chrono::steady_clock::now();
  const Timestamp now = std::max(clock_.Now(), latest_time_);
  latest_time_ = now;
  Batch b(*this, now);
  if (fire_timers) b.FireDueTimers();
  for (auto& r : requests) {
    if (r.group_done)
      b.DecideGroup(r);
    else
      b.DecideOne(r);
  }
  AddIdempotencyPurge(b, now);
  Launch(b, begun);
}

namespace {

// The time an idempotency record was written. A record is written as nlohmann dumps it, keys in
// order, so "at" leads and its RFC 3339 text is read without parsing the whole record (a purge
// pass reads every record); anything else is parsed whole.
std::optional<Timestamp> RecordedAt(std::string_view record) {
  constexpr std::string_view kLead = "{\"at\":\"";
  if (record.starts_with(kLead)) {
    const std::size_t end = record.find('"', kLead.size());
    if (end != std::string_view::npos)
      return ParseRfc3339(record.substr(kLead.size(), end - kLead.size()));
  }
  auto rec = nlohmann::json::parse(record, nullptr, false);
  return rec.is_object() ? ParseRfc3339(rec.value("at", "")) : std::nullopt;
}

}  // namespace

void Sequencer::AddIdempotencyPurge(Batch& b, Timestamp now) {
  if (!purge_from_) {
    if (now < next_purge_) return;
    purge_from_.emplace();  // a pass begins, from the first key
    next_purge_ = now + options_.idempotency_purge_every;
  }
  const std::size_t page = std::max<std::size_t>(1, options_.idempotency_purge_page);
  auto records = log_.Scan(Space::kIdempotency, *purge_from_, "", page);
  if (!records) {
    purge_from_.reset();  // read again at the next pass; nothing is lost by waiting
    return;
  }
  auto written_again = [&](const std::string& key) {
    if (b.idempotency_in_batch.contains(key)) return true;
    return std::any_of(inflight_.begin(), inflight_.end(),
                       [&](const InFlight& f) { return f.idempotency.contains(key); });
  };
  for (auto& [key, value] : *records) {
    auto at = RecordedAt(value);
    // The same test as RepeatOf's: a record purged is one that no longer answers anything. A
    // record without a readable time answers nothing either.
    if (at && !(*at + options_.idempotency_retention < now)) continue;
    if (written_again(key)) continue;
    b.batch.writes.push_back({Space::kIdempotency, key, std::nullopt});
    ++b.purged;
  }
  if (records->size() < page) {
    purge_from_.reset();  // the pass has read every record
  } else {
    purge_from_ = records->back().first + std::string(1, '\0');  // the key just after the last
  }
}

void Sequencer::Launch(Batch& b, std::chrono::steady_clock::time_point begun) {
  // No view per command: the views are a checkpointed projection (SequencerOptions). The batch
  // carries the next chunk of a checkpoint under way.
  std::vector<std::string> views;
  const std::optional<std::uint64_t> checkpoint = AddCheckpointChunk(b.batch, views);

  InFlight f;
  f.accepted = std::move(b.accepted);
  f.groups = std::move(b.groups);
  f.answered = std::move(b.answered);
  f.groups_refused = std::move(b.groups_refused);
  f.overlay = std::move(b.overlay);
  f.idempotency = std::move(b.idempotency_in_batch);
  f.views = std::move(views);
  f.checkpoint = checkpoint;
  f.fired = b.fired;
  f.purged = b.purged;
  f.started = std::chrono::steady_clock::now();
  f.decide_micros = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(f.started - begun).count());
  f.slot = std::make_shared<Slot>();
  f.number = ++launched_;
  if (f.accepted.empty() && f.groups.empty() && f.answered.empty() && f.groups_refused.empty() &&
      b.batch.writes.empty()) {
    return;  // nothing decided, nobody to answer
  }
  const bool nothing_to_write = b.batch.appends.empty() && b.batch.writes.empty();
  if (nothing_to_write) {
    // Answered at once, or at its turn behind the batches in flight.
    f.settle_at_turn = !inflight_.empty();
  } else {
    // The timers as decided: the next batch must not fire again what this one fired. Should the
    // write fail, Recover reads the index back from the store.
    for (const auto& t : b.timers_removed) timers_.erase(t);
    for (const auto& t : b.timers_added) timers_.insert(t);
    b.batch.after_seq = decided_seq_;
    decided_seq_ += b.event_total;
  }
  inflight_.push_back(std::move(f));
  // The element stays where it is until CompleteOldest removes it, after it is settled (a
  // deque's push_back moves no element).
  InFlight* flight = &inflight_.back();
  if (nothing_to_write) {
    // Its head is none (seq 0): a batch that writes nothing moves no seq of the checkpoints.
    if (!flight->settle_at_turn) Settle(*flight, AppendResult{});
    return;
  }
  log_.AppendAsync(std::move(b.batch),
                   [this, flight](Result<AppendResult> r) { Settle(*flight, std::move(r)); });
}

}  // namespace expertflow::engine
