#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/time.h"
#include "engine/model/instance.h"
#include "engine/model/workflow.h"

// The parts of webhooks that need no socket and no store (docs/webhooks.md): what a subscription
// is, which notifications an event or the clock produces for it, the body sent, its signature,
// and the retry schedule. The dispatcher (webhooks.h) drives them.
namespace expertflow::api::webhooks {

// What a subscription may ask for. The wire names are those of kKindNames, in this order.
enum class Kind : std::uint8_t {
  kAwaitingYou,   // the subscribing organisation became one the instance awaits
  kDeadlineSoon,  // the instance's next deadline is within `deadline_days`
  kOverdue,       // a deadline of the instance passed while it was still running
  kStateChanged,  // the instance entered another state (its creation included)
};
inline constexpr std::string_view kKindNames[] = {"awaiting_you", "deadline_soon", "overdue",
                                                  "state_changed"};
std::string_view KindName(Kind kind);
std::optional<Kind> ParseKind(std::string_view name);

inline constexpr std::uint32_t kDefaultDeadlineDays = 3;
inline constexpr std::uint32_t kMaxDeadlineDays = 365;
inline constexpr std::size_t kMaxUrlBytes = 2000;

// An http:// URL split for a client: the host, the port (80 when not given) and the target (the
// path and query, "/" when empty).
struct HttpUrl {
  std::string host;
  std::uint16_t port = 80;
  std::string target;
};
// Refuses anything but http://HOST[:PORT][/PATH]: another scheme (https has no client here yet),
// user information, a fragment, control characters or spaces, an empty host, a bad port.
engine::Result<HttpUrl> ParseHttpUrl(std::string_view url);

// A registration (the organisation it serves, where to and what), as stored.
struct Subscription {
  std::string id;  // 12 hex characters
  std::string org;
  std::string url;
  std::vector<Kind> kinds;  // distinct, in the order of Kind
  std::uint32_t deadline_days = kDefaultDeadlineDays;
  std::string created_at;
  std::string created_by;  // the token id of the principal who registered it
  // The log's head when it was registered: events up to it notify it of nothing.
  std::uint64_t from_seq = 0;

  bool Wants(Kind kind) const;
};
nlohmann::json ToJson(const Subscription& s);
std::optional<Subscription> SubscriptionFromJson(const nlohmann::json& j);

// One notification for one subscription, before it is given its number: the kind, the instance
// as it stood, and what caused it.
struct Notice {
  Kind kind = Kind::kStateChanged;
  engine::InstanceState instance;
  std::optional<std::uint64_t> seq;      // the event that caused it (none for the clock's)
  std::string event_type;                // that event's type
  std::string previous_state;            // kStateChanged: the state left ("" on creation)
  std::optional<engine::Timestamp> due;  // kDeadlineSoon, kOverdue: the deadline
  std::string deadline_name;             // kOverdue: which deadline passed
  engine::Timestamp at{};                // when: the event's time, or the clock's
};

// The notifications one event gives `sub`: `before` is the instance before the event (nullptr
// when the event created it), `after` the instance after it, `def` its definition (nullptr when
// unknown: then no awaiting_you). Only instances the subscribing organisation may see
// (engine::CanSee) notify it, and only events after its `from_seq`.
std::vector<Notice> NoticesForEvent(const Subscription& sub, const engine::Definition* def,
                                    const engine::InstanceState* before,
                                    const engine::InstanceState& after, std::uint64_t seq,
                                    std::string_view event_type, engine::Timestamp occurred_at);

// The time-based notifications `instance` gives `sub` at `now`: deadline_soon when its next
// deadline is due after now and within deadline_days, overdue for each deadline that passed.
// The caller sends each once (MarkOf).
std::vector<Notice> NoticesForClock(const Subscription& sub, const engine::InstanceState& instance,
                                    engine::Timestamp now);
// What identifies a time-based notice across checks, so that it is sent once per instance and
// deadline: "<kind>/<stream>/<deadline name or ''>/<due>".
std::string MarkOf(const Notice& notice);

// The body sent: {"id", "kind", "subscription", "org", "instance": {"collection", "id",
// "workflow", "state", "version"}, "seq", "event", "previous_state"?, "deadline"?,
// "deadline_name"?, "at"}. `id` is the delivery id (stable across retries).
std::string Body(const Subscription& sub, const Notice& notice, std::string_view id);

// HMAC-SHA256 of `data` under `key`, in lower-case hex.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// A subscription's signing secret: HMAC-SHA256(server key, "expertflow webhook " + id) in hex.
// Derived, never stored: the server key stays in the data folder, and the log (exported to
// auditors) holds no secret.
std::string SecretOf(std::string_view server_key, std::string_view subscription_id);
// The X-Expertflow-Signature header's value: "sha256=" + HmacSha256Hex(secret, body).
std::string Signature(std::string_view secret, std::string_view body);

// The wait before retry number `failures` (1 after the first failure): base * 2^(failures-1),
// at most `cap`.
std::chrono::milliseconds Backoff(std::uint32_t failures, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap);

}  // namespace expertflow::api::webhooks
