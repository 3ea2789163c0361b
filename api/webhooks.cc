#include "api/webhooks.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <deque>

#include "api/webhook_client.h"
#include "engine/log/event.h"

namespace expertflow::api {
namespace {

using engine::ErrorCode;
using engine::Space;
using nlohmann::json;
using webhooks::Kind;
using webhooks::Subscription;

constexpr std::string_view kCursorKey = "w/cursor";
constexpr std::size_t kReadChunk = 256;
// The states of instances the dispatcher keeps between events; past this it starts afresh (a
// state it lacks is read again from its stream).
constexpr std::size_t kMaxStates = 20000;

std::string Number(std::uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}
std::string SubscriptionKey(std::string_view id) { return "w/s/" + std::string(id); }
std::string OutboxPrefix(std::string_view id) { return "w/q/" + std::string(id) + "/"; }
std::string AttemptPrefix(std::string_view id) { return "w/a/" + std::string(id) + "/"; }
std::string MarkPrefix(std::string_view id) { return "w/m/" + std::string(id) + "/"; }
std::string ProgressKey(std::string_view id) { return "w/p/" + std::string(id); }
// The end of a prefix's range in a Scan: the prefix with its last byte ('/') moved up by one.
std::string End(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

std::string FormatWall(std::chrono::system_clock::time_point t) {
  return engine::FormatRfc3339(std::chrono::floor<std::chrono::seconds>(t));
}

engine::Result<std::vector<std::pair<std::string, std::string>>> ScanAll(
    const engine::EventLog& log, std::string_view from, std::string_view to) {
  return log.Scan(Space::kTokens, from, to, std::size_t{1} << 30);
}

}  // namespace

// One subscription's delivery: a queue in memory mirroring its outbox, and a thread that posts
// the first of it until it is delivered.
class Webhooks::Worker {
 public:
  Worker(Webhooks& owner, Subscription sub, webhooks::HttpUrl url, std::string secret)
      : owner_(owner), sub_(std::move(sub)), url_(std::move(url)), secret_(std::move(secret)) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    poster_.Cancel();
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void Push(Pending p) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(p));
    }
    cv_.notify_all();
  }

  json Status() const {
    std::lock_guard lock(mu_);
    return {{"pending", queue_.size()},
            {"failures", failures_},
            {"next_retry_at", failures_ > 0 ? json(FormatWall(next_retry_wall_)) : json()}};
  }
  std::size_t PendingCount() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

  const Subscription& subscription() const { return sub_; }

  // Set before Start, then the worker thread's own.
  std::uint64_t attempts = 0;      // recorded so far: the next attempt's key
  std::uint32_t head_attempt = 0;  // attempts of the queue's first notification so far
  std::mutex& record_mu() { return record_mu_; }

 private:
  void Run() {
    for (;;) {
      Pending p;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        if (cv_.wait_until(lock, next_try_, [&] { return stop_; })) return;
        p = queue_.front();
      }
      const std::uint32_t attempt = ++head_attempt;
      const webhooks::PostOutcome outcome =
          poster_.Post(url_, p.body,
                       {{"X-Expertflow-Signature", webhooks::Signature(secret_, p.body)},
                        {"X-Expertflow-Delivery", p.id},
                        {"X-Expertflow-Kind", p.kind},
                        {"X-Expertflow-Attempt", std::to_string(attempt)}},
                       owner_.options_.connect_timeout, owner_.options_.answer_timeout);
      {
        std::lock_guard lock(mu_);
        if (stop_ && !outcome.Delivered()) return;  // cut short by the stop: not an attempt
      }
      std::optional<std::chrono::system_clock::time_point> next_retry;
      std::chrono::milliseconds wait{0};
      if (!outcome.Delivered()) {
        wait = webhooks::Backoff(failures_ + 1, owner_.options_.backoff_base,
                                 owner_.options_.backoff_cap);
        next_retry = std::chrono::system_clock::now() + wait;
      }
      owner_.RecordAttempt(*this, p, attempt, outcome, next_retry);
      std::lock_guard lock(mu_);
      if (outcome.Delivered()) {
        queue_.pop_front();
        failures_ = 0;
        head_attempt = 0;
        next_try_ = {};
      } else {
        ++failures_;
        next_try_ = std::chrono::steady_clock::now() + wait;
        next_retry_wall_ = *next_retry;
      }
    }
  }

  Webhooks& owner_;
  const Subscription sub_;
  const webhooks::HttpUrl url_;
  const std::string secret_;
  webhooks::Poster poster_;
  std::mutex record_mu_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::uint32_t failures_ = 0;  // in a row, of the first notification
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::system_clock::time_point next_retry_wall_{};
  std::thread thread_;
};

Webhooks::Webhooks(engine::EventLog& log, engine::Sequencer& sequencer, WebhookOptions options)
    : log_(log), sequencer_(sequencer), options_(std::move(options)) {}

Webhooks::~Webhooks() { Stop(); }

engine::Result<void> Webhooks::Start() {
  auto cursor = log_.Get(Space::kTokens, kCursorKey);
  if (!cursor) return std::unexpected(cursor.error());
  if (*cursor) {
    const json c = json::parse(**cursor, nullptr, false);
    cursor_ = c.is_object() ? c.value("seq", std::uint64_t{0}) : 0;
    next_number_ = c.is_object() ? c.value("next", std::uint64_t{1}) : 1;
  } else {
    // Kept at once: a subscription registered before the first batch of notifications must not
    // find the cursor moved past its events by a restart.
    cursor_ = log_.GetHead().seq;
    engine::AppendBatch batch;
    batch.writes.push_back({Space::kTokens, std::string(kCursorKey),
                            json{{"seq", cursor_}, {"next", next_number_}}.dump()});
    if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  }
  auto subs = ScanAll(log_, "w/s/", "w/s0");
  if (!subs) return std::unexpected(subs.error());
  for (const auto& [key, value] : *subs) {
    auto sub = webhooks::SubscriptionFromJson(json::parse(value, nullptr, false));
    if (!sub) {
      spdlog::error("webhooks: the stored subscription {} cannot be read; it is skipped", key);
      continue;
    }
    auto url = webhooks::ParseHttpUrl(sub->url);
    auto worker = std::make_unique<Worker>(*this, *sub, *url,
                                           webhooks::SecretOf(options_.server_key, sub->id));
    auto outbox = ScanAll(log_, OutboxPrefix(sub->id), End(OutboxPrefix(sub->id)));
    if (!outbox) return std::unexpected(outbox.error());
    std::string first_id;
    for (const auto& [k, v] : *outbox) {
      const json q = json::parse(v, nullptr, false);
      if (!q.is_object()) continue;
      Pending p;
      p.number = std::stoull(k.substr(OutboxPrefix(sub->id).size()));
      p.id = q.value("id", "");
      p.kind = q.value("kind", "");
      if (q.contains("seq") && q["seq"].is_number_unsigned()) p.seq = q["seq"].get<std::uint64_t>();
      p.body = q.value("body", "");
      if (first_id.empty()) first_id = p.id;
      worker->Push(std::move(p));
    }
    auto progress = log_.Get(Space::kTokens, ProgressKey(sub->id));
    if (!progress) return std::unexpected(progress.error());
    if (*progress) {
      const json pr = json::parse(**progress, nullptr, false);
      worker->attempts = pr.is_object() ? pr.value("attempts", std::uint64_t{0}) : 0;
    }
    // The attempts of the first notification carry on from the last one recorded.
    if (worker->attempts > 0 && !first_id.empty()) {
      auto last = log_.Get(Space::kTokens, AttemptPrefix(sub->id) + Number(worker->attempts - 1));
      if (last && *last) {
        const json a = json::parse(**last, nullptr, false);
        if (a.is_object() && a.value("delivery", "") == first_id)
          worker->head_attempt = a.value("attempt", 0u);
      }
    }
    auto marks = ScanAll(log_, MarkPrefix(sub->id), End(MarkPrefix(sub->id)));
    if (!marks) return std::unexpected(marks.error());
    for (const auto& [k, v] : *marks)
      marks_.insert(sub->id + "/" + k.substr(MarkPrefix(sub->id).size()));
    workers_.emplace(sub->id, std::move(worker));
  }
  for (auto& [id, w] : workers_) w->Start();
  started_ = true;
  thread_ = std::thread([this] { Run(); });
  return {};
}

void Webhooks::Stop() {
  {
    std::lock_guard lock(run_mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [id, w] : workers) w->Stop();
}

void Webhooks::Run() {
  for (;;) {
    {
      std::lock_guard lock(run_mu_);
      if (stopping_) break;
    }
    if (FollowLog()) continue;
    CheckClock();
    std::unique_lock lock(run_mu_);
    if (run_cv_.wait_for(lock, options_.poll, [&] { return stopping_; })) break;
  }
  // What was read without notifying anyone is not read again after a restart.
  std::lock_guard lock(mu_);
  engine::AppendBatch batch;
  batch.writes.push_back({Space::kTokens, std::string(kCursorKey),
                          json{{"seq", cursor_}, {"next", next_number_}}.dump()});
  if (auto r = log_.Append(batch); !r)
    spdlog::warn("webhooks: the cursor was not saved: {}", r.error().ToString());
}

std::vector<Subscription> Webhooks::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Subscription> out;
  for (const auto& [id, w] : workers_) out.push_back(w->subscription());
  return out;
}

std::optional<engine::InstanceState> Webhooks::StateBefore(const std::string& stream,
                                                           std::uint64_t version) {
  if (version <= 1) return std::nullopt;
  if (auto it = states_.find(stream); it != states_.end() && it->second.version == version - 1)
    return it->second;
  auto events = log_.ReadStream(stream, 1, version - 1);
  if (!events) return std::nullopt;
  engine::InstanceState s;
  for (const auto& e : *events) {
    if (!engine::EvolveRecord(s, e.record)) return std::nullopt;
  }
  return s;
}

bool Webhooks::FollowLog() {
  // The head is read before the subscriptions: one registered after this has its from_seq at
  // the head or later, so the events read now are none of its business.
  const std::uint64_t head = log_.GetHead().seq;
  if (cursor_ >= head) return false;
  const std::uint64_t to = std::min(head, cursor_ + kReadChunk);
  const std::vector<Subscription> subs = Snapshot();
  if (subs.empty()) {
    // Nobody to notify, and what was appended up to `head` is no business of a subscription
    // registered from now on: the cursor moves to the head without reading or replaying a thing
    // (issue 19: on a server with no webhooks, following the log took ~7% of the CPU under a
    // load of commands, and its cache of states held memory for nothing).
    std::lock_guard lock(mu_);
    cursor_ = head;
    states_.clear();
    return false;
  }
  std::vector<engine::StoredEvent> records;
  auto read = log_.ForEach(
      cursor_ + 1, to, [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
        records.push_back({seq, hash, std::string(record)});
        return true;
      });
  if (!read || records.size() != to - cursor_) {
    spdlog::warn("webhooks: cannot read the log after seq {}", cursor_);
    return false;
  }
  std::vector<Produced> produced;
  const auto& definitions = sequencer_.definitions();
  for (const engine::StoredEvent& stored : records) {
    auto event = engine::DecodeRecord(stored.record);
    if (!event) continue;
    const std::size_t slash = event->stream.find('/');
    if (slash == std::string::npos) continue;
    const std::string_view collection = std::string_view(event->stream).substr(0, slash);
    if (definitions.InCollection(collection).empty()) continue;
    std::optional<engine::InstanceState> before = StateBefore(event->stream, event->version);
    if (event->version > 1 && !before) continue;
    engine::InstanceState after = before.value_or(engine::InstanceState{});
    if (!engine::EvolveRecord(after, stored.record)) continue;
    if (!subs.empty()) {
      const engine::Definition* def = definitions.Find(after.workflow, after.workflow_version);
      for (const Subscription& sub : subs) {
        for (auto& n : webhooks::NoticesForEvent(sub, def, before ? &*before : nullptr, after,
                                                 stored.seq, event->type, event->occurred_at))
          produced.push_back({sub.id, std::move(n), ""});
      }
    }
    if (states_.size() >= kMaxStates) states_.clear();
    states_.insert_or_assign(event->stream, std::move(after));
  }
  if (!Commit(std::move(produced), to)) {
    states_.clear();  // read again from the streams on the next try
    return false;
  }
  return true;
}

void Webhooks::CheckClock() {
  const std::vector<Subscription> subs = Snapshot();
  if (std::none_of(subs.begin(), subs.end(), [](const Subscription& s) {
        return s.Wants(Kind::kDeadlineSoon) || s.Wants(Kind::kOverdue);
      }))
    return;
  const engine::Timestamp now = sequencer_.clock().Now();
  const std::uint64_t head = log_.GetHead().seq;
  if (now == last_clock_now_ && head == last_clock_head_) return;
  const auto steady = std::chrono::steady_clock::now();
  if (!sequencer_.clock().IsManual() && steady - last_clock_check_ < options_.clock_check) return;
  std::vector<Produced> produced;
  sequencer_.ForEachInstance([&](const engine::InstanceState& s) {
    for (const Subscription& sub : subs) {
      for (auto& n : webhooks::NoticesForClock(sub, s, now)) {
        std::string mark = webhooks::MarkOf(n);
        if (marks_.contains(sub.id + "/" + mark)) continue;
        produced.push_back({sub.id, std::move(n), std::move(mark)});
      }
    }
    return true;
  });
  if (Commit(std::move(produced), cursor_)) {
    last_clock_now_ = now;
    last_clock_head_ = head;
    last_clock_check_ = steady;
  }
}

bool Webhooks::Commit(std::vector<Produced> produced, std::uint64_t seq) {
  std::lock_guard lock(mu_);
  engine::AppendBatch batch;
  std::vector<std::pair<Worker*, Pending>> handed;
  std::uint64_t next = next_number_;
  for (Produced& p : produced) {
    auto it = workers_.find(p.subscription);
    if (it == workers_.end()) continue;  // removed meanwhile
    const Subscription& sub = it->second->subscription();
    Pending pending;
    pending.number = next++;
    pending.id = sub.id + "-" + std::to_string(pending.number);
    pending.kind = std::string(webhooks::KindName(p.notice.kind));
    pending.seq = p.notice.seq;
    pending.body = webhooks::Body(sub, p.notice, pending.id);
    batch.writes.push_back({Space::kTokens, OutboxPrefix(sub.id) + Number(pending.number),
                            json{{"id", pending.id},
                                 {"kind", pending.kind},
                                 {"seq", pending.seq ? json(*pending.seq) : json()},
                                 {"body", pending.body}}
                                .dump()});
    if (!p.mark.empty())
      batch.writes.push_back({Space::kTokens, MarkPrefix(sub.id) + p.mark, std::string()});
    handed.emplace_back(it->second.get(), std::move(pending));
  }
  if (!batch.writes.empty()) {
    batch.writes.push_back(
        {Space::kTokens, std::string(kCursorKey), json{{"seq", seq}, {"next", next}}.dump()});
    if (auto r = log_.Append(batch); !r) {
      spdlog::warn("webhooks: notifications not written (retried): {}", r.error().ToString());
      return false;
    }
  }
  next_number_ = next;
  cursor_ = seq;
  for (Produced& p : produced) {
    if (!p.mark.empty()) marks_.insert(p.subscription + "/" + p.mark);
  }
  notifications_ += handed.size();
  for (auto& [worker, pending] : handed) worker->Push(std::move(pending));
  return true;
}

void Webhooks::RecordAttempt(Worker& w, const Pending& p, std::uint32_t attempt,
                             const webhooks::PostOutcome& outcome,
                             std::optional<std::chrono::system_clock::time_point> next_retry) {
  const std::string& id = w.subscription().id;
  const auto now = std::chrono::system_clock::now();
  json record = {{"delivery", p.id},
                 {"kind", p.kind},
                 {"seq", p.seq ? json(*p.seq) : json()},
                 {"attempt", attempt},
                 {"at", FormatWall(now)},
                 {"duration_ms", outcome.duration.count()},
                 {"status", outcome.status != 0 ? json(outcome.status) : json()},
                 {"error", outcome.error.empty() ? json() : json(outcome.error)},
                 {"outcome", outcome.Delivered() ? "delivered" : "failed"},
                 {"next_retry_at", next_retry ? json(FormatWall(*next_retry)) : json()}};
  (outcome.Delivered() ? delivered_ : failed_)++;
  engine::AppendBatch batch;
  std::lock_guard lock(w.record_mu());
  const std::uint64_t k = w.attempts;
  batch.writes.push_back({Space::kTokens, AttemptPrefix(id) + Number(k), record.dump()});
  batch.writes.push_back({Space::kTokens, ProgressKey(id), json{{"attempts", k + 1}}.dump()});
  if (k >= options_.attempts_kept)
    batch.writes.push_back(
        {Space::kTokens, AttemptPrefix(id) + Number(k - options_.attempts_kept), std::nullopt});
  if (outcome.Delivered())
    batch.writes.push_back({Space::kTokens, OutboxPrefix(id) + Number(p.number), std::nullopt});
  // A failed write leaves a delivered notification in the outbox: it is sent again after a
  // restart (at least once), with the same id.
  if (auto r = log_.Append(batch); !r) {
    spdlog::warn("webhooks: an attempt of {} was not recorded: {}", p.id, r.error().ToString());
    return;
  }
  w.attempts = k + 1;
}

engine::Result<Webhooks::Registered> Webhooks::Register(std::string org, std::string url,
                                                        std::vector<Kind> kinds,
                                                        std::uint32_t deadline_days,
                                                        std::string created_by,
                                                        engine::Timestamp now) {
  auto parsed = webhooks::ParseHttpUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  std::sort(kinds.begin(), kinds.end());
  unsigned char random[6];
  if (RAND_bytes(random, sizeof random) != 1)
    return engine::Fail(ErrorCode::kInternal, "the random generator failed");
  Subscription sub;
  char id[13];
  std::snprintf(id, sizeof id, "%02x%02x%02x%02x%02x%02x", random[0], random[1], random[2],
                random[3], random[4], random[5]);
  sub.id = id;
  sub.org = std::move(org);
  sub.url = std::move(url);
  sub.kinds = std::move(kinds);
  sub.deadline_days = deadline_days;
  sub.created_at = engine::FormatRfc3339(now);
  sub.created_by = std::move(created_by);
  const std::string secret = webhooks::SecretOf(options_.server_key, sub.id);
  std::lock_guard lock(mu_);
  if (workers_.size() >= options_.max_subscriptions) {
    return engine::Fail(ErrorCode::kValidationFailed,
                        "the server holds " + std::to_string(options_.max_subscriptions) +
                            " subscriptions, its most; delete one first",
                        {{"errors", {{{"field", "url"}, {"message", "too many subscriptions"}}}}});
  }
  sub.from_seq = log_.GetHead().seq;
  engine::AppendBatch batch;
  batch.writes.push_back({Space::kTokens, SubscriptionKey(sub.id), webhooks::ToJson(sub).dump()});
  if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
  auto worker = std::make_unique<Worker>(*this, sub, *parsed, secret);
  worker->Start();
  workers_.emplace(sub.id, std::move(worker));
  return Registered{std::move(sub), secret};
}

engine::Result<void> Webhooks::Remove(std::string_view id) {
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(id);
    if (it == workers_.end())
      return engine::Fail(ErrorCode::kNotFound, "no webhook " + std::string(id));
    engine::AppendBatch batch;
    batch.writes.push_back({Space::kTokens, SubscriptionKey(id), std::nullopt});
    if (auto r = log_.Append(batch); !r) return std::unexpected(r.error());
    worker = std::move(it->second);
    workers_.erase(it);
  }
  worker->Stop();
  // What it leaves behind; a failure here leaves keys no subscription reads.
  engine::AppendBatch batch;
  for (const std::string& prefix : {OutboxPrefix(id), AttemptPrefix(id), MarkPrefix(id)}) {
    auto keys = ScanAll(log_, prefix, End(prefix));
    if (!keys) continue;
    for (const auto& [k, v] : *keys) batch.writes.push_back({Space::kTokens, k, std::nullopt});
  }
  batch.writes.push_back({Space::kTokens, ProgressKey(id), std::nullopt});
  (void)log_.Append(batch);
  return {};
}

std::vector<Subscription> Webhooks::List() const { return Snapshot(); }

std::optional<Subscription> Webhooks::Find(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return std::nullopt;
  return it->second->subscription();
}

json Webhooks::Status(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  return it == workers_.end() ? json::object() : it->second->Status();
}

engine::Result<json> Webhooks::Attempts(std::string_view id, std::size_t limit) const {
  auto rows = log_.Scan(Space::kTokens, AttemptPrefix(id), End(AttemptPrefix(id)),
                        options_.attempts_kept + 1);
  if (!rows) return std::unexpected(rows.error());
  json items = json::array();
  for (auto it = rows->rbegin(); it != rows->rend() && items.size() < limit; ++it) {
    json a = json::parse(it->second, nullptr, false);
    if (a.is_object()) items.push_back(std::move(a));
  }
  return items;
}

std::string Webhooks::MetricsText() const {
  std::size_t pending = 0;
  std::size_t subscriptions = 0;
  {
    std::lock_guard lock(mu_);
    subscriptions = workers_.size();
    for (const auto& [id, w] : workers_) pending += w->PendingCount();
  }
  const auto line = [](std::string_view name, std::string_view type, std::string_view help) {
    return "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " +
           std::string(name) + " " + std::string(type) + "\n";
  };
  return line("expertflow_webhook_notifications_total", "counter", "Webhook notifications made.") +
         "expertflow_webhook_notifications_total " + std::to_string(notifications_.load()) + "\n" +
         line("expertflow_webhook_attempts_total", "counter",
              "Webhook delivery attempts, by outcome.") +
         "expertflow_webhook_attempts_total{outcome=\"delivered\"} " +
         std::to_string(delivered_.load()) + "\n" +
         "expertflow_webhook_attempts_total{outcome=\"failed\"} " + std::to_string(failed_.load()) +
         "\n" +
         line("expertflow_webhook_pending", "gauge", "Webhook notifications not yet delivered.") +
         "expertflow_webhook_pending " + std::to_string(pending) + "\n" +
         line("expertflow_webhook_subscriptions", "gauge", "Webhook subscriptions.") +
         "expertflow_webhook_subscriptions " + std::to_string(subscriptions) + "\n";
}

}  // namespace expertflow::api
