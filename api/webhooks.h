#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/webhook_client.h"
#include "api/webhook_notify.h"
#include "engine/log/event_log.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::api {

struct WebhookOptions {
  // The server's webhook key (the data folder's webhook.key): every subscription's signing
  // secret is derived from it and the subscription's id (webhooks::SecretOf).
  std::string server_key;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds answer_timeout{std::chrono::seconds(10)};
  // Retries wait backoff_base, twice that, ... up to backoff_cap (webhooks::Backoff).
  std::chrono::milliseconds backoff_base{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  // How often the dispatcher looks for new events when it has caught up.
  std::chrono::milliseconds poll{100};
  // With the system clock, the instances' deadlines are looked at this often at most (a manual
  // clock: whenever it or the log moved).
  std::chrono::milliseconds clock_check{std::chrono::seconds(10)};
  std::size_t max_subscriptions = 100;  // each has a thread of its own
  std::size_t attempts_kept = 1000;     // a subscription's latest attempts kept for reading
};

// Webhooks (docs/webhooks.md): subscriptions of organisations, and their delivery.
//
// Everything is kept in Space::kTokens under "w/" (registrations are settings of access, like
// tokens, and not events: the log is exported to auditors and holds no secret):
//   "w/s/<id>"              -> the subscription (webhooks::ToJson)
//   "w/q/<id>/<20-digit n>" -> a notification not yet delivered: {"id", "kind", "seq", "body"}
//   "w/a/<id>/<20-digit k>" -> delivery attempt k of the subscription
//   "w/p/<id>"              -> {"attempts": the number of attempts recorded}
//   "w/m/<id>/<mark>"       -> a time-based notification already made (webhooks::MarkOf)
//   "w/cursor"              -> {"seq": the log read through, "next": the next notification number}
//
// One dispatcher thread follows the log from the cursor (it reads; it never waits on the
// sequencer), works out each event's notifications from the instance before and after it, and
// writes them to the subscriptions' outboxes together with the cursor, in one durable batch; it
// also looks at the instances' deadlines against the server's clock. Each subscription has a
// thread of its own that posts its outbox in order, one at a time, retrying the first with
// backoff until it is delivered (a 2xx), and records every attempt: a dead endpoint holds up its
// own subscription only. A notification leaves the outbox only once delivered, so after a crash
// it is sent again (at least once; the delivery id is the same).
class Webhooks {
 public:
  Webhooks(engine::EventLog& log, engine::Sequencer& sequencer, WebhookOptions options);
  ~Webhooks();
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // Loads the subscriptions, their outboxes and the cursor, then starts the threads. The first
  // start on a store begins at the log's head: history notifies no one.
  [[nodiscard]] engine::Result<void> Start();
  // Ends the exchanges under way and joins every thread; what is not delivered stays in the
  // outboxes for the next start.
  void Stop();

  struct Registered {
    webhooks::Subscription subscription;
    std::string secret;  // shown once
  };
  // Checks the URL, the kinds and the limits, then stores the subscription (from the log's head
  // on) and starts its delivery.
  engine::Result<Registered> Register(std::string org, std::string url,
                                      std::vector<webhooks::Kind> kinds,
                                      std::uint32_t deadline_days, std::string created_by,
                                      engine::Timestamp now);
  // Stops its delivery and deletes it with its outbox, attempts and marks.
  engine::Result<void> Remove(std::string_view id);
  std::vector<webhooks::Subscription> List() const;
  std::optional<webhooks::Subscription> Find(std::string_view id) const;
  // How its delivery stands: {"pending", "failures", "next_retry_at"}.
  nlohmann::json Status(std::string_view id) const;
  // Its latest `limit` attempts, newest first.
  engine::Result<nlohmann::json> Attempts(std::string_view id, std::size_t limit) const;
  // Counters in the Prometheus text format.
  std::string MetricsText() const;

 private:
  struct Pending {
    std::uint64_t number = 0;
    std::string id;  // the delivery id
    std::string kind;
    std::optional<std::uint64_t> seq;
    std::string body;
  };
  class Worker;
  struct Produced {
    std::string subscription;
    webhooks::Notice notice;
    std::string mark;  // time-based ones
  };

  void Run();
  bool FollowLog();  // one step; false when caught up
  void CheckClock();
  // Writes `produced` to the outboxes with the cursor at `seq` and hands them to the workers.
  bool Commit(std::vector<Produced> produced, std::uint64_t seq);
  std::vector<webhooks::Subscription> Snapshot() const;
  // The instance state before an event of `stream` at `version` (nothing for version 1).
  std::optional<engine::InstanceState> StateBefore(const std::string& stream,
                                                   std::uint64_t version);
  void RecordAttempt(Worker& w, const Pending& p, std::uint32_t attempt,
                     const webhooks::PostOutcome& outcome,
                     std::optional<std::chrono::system_clock::time_point> next_retry);

  engine::EventLog& log_;
  engine::Sequencer& sequencer_;
  WebhookOptions options_;

  mutable std::mutex mu_;  // the subscriptions and the numbering of notifications
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers_;
  std::uint64_t next_number_ = 1;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;

  // The dispatcher thread's own: the cursor, the states it follows, marks made.
  std::uint64_t cursor_ = 0;
  std::unordered_map<std::string, engine::InstanceState> states_;
  std::set<std::string> marks_;
  engine::Timestamp last_clock_now_{};
  std::uint64_t last_clock_head_ = ~std::uint64_t{0};
  std::chrono::steady_clock::time_point last_clock_check_{};

  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> notifications_{0};
};

}  // namespace expertflow::api
