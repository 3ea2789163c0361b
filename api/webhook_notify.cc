#include "api/webhook_notify.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>

#include "engine/core/hash.h"
#include "engine/decide/policy.h"

namespace expertflow::api::webhooks {
namespace {

using engine::ErrorCode;

engine::Error BadUrl(std::string message) {
  return engine::Error{ErrorCode::kValidationFailed,
                       "url " + message,
                       {{"errors", {{{"field", "url"}, {"message", message}}}}}};
}

// The organisations an instance awaits.
std::vector<std::string> AwaitedOrgs(const engine::Definition& def,
                                     const engine::InstanceState& s) {
  std::vector<std::string> out;
  for (const auto& a : engine::Awaiting(def, s)) out.push_back(a.value("org", ""));
  return out;
}

bool Has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::string_view KindName(Kind kind) { return kKindNames[static_cast<std::size_t>(kind)]; }

std::optional<Kind> ParseKind(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kKindNames); ++i) {
    if (kKindNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

engine::Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  if (url.size() > kMaxUrlBytes) return std::unexpected(BadUrl("is longer than 2000 bytes"));
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return std::unexpected(BadUrl("holds a space or a control character"));
  }
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://"))
    return std::unexpected(BadUrl("must be http://; https is not supported yet"));
  if (!url.starts_with(kScheme)) return std::unexpected(BadUrl("must begin with http://"));
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find('#') != std::string_view::npos)
    return std::unexpected(BadUrl("must not have a fragment"));
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.starts_with('?')) out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return std::unexpected(BadUrl("must not carry user information"));
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::unexpected(BadUrl("has a broken IPv6 host"));
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && !authority.starts_with(':'))
      return std::unexpected(BadUrl("has a broken IPv6 host"));
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (host.empty()) return std::unexpected(BadUrl("has no host"));
  out.host = std::string(host);
  if (!authority.empty()) {
    std::string_view port = authority.substr(1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535)
      return std::unexpected(BadUrl("has a port that is not 1 to 65535"));
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

bool Subscription::Wants(Kind kind) const {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

nlohmann::json ToJson(const Subscription& s) {
  nlohmann::json kinds = nlohmann::json::array();
  for (Kind k : s.kinds) kinds.push_back(KindName(k));
  return {{"id", s.id},
          {"org", s.org},
          {"url", s.url},
          {"kinds", kinds},
          {"deadline_days", s.deadline_days},
          {"created_at", s.created_at},
          {"created_by", s.created_by},
          {"from_seq", s.from_seq}};
}

std::optional<Subscription> SubscriptionFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  Subscription s;
  s.id = j.value("id", "");
  s.org = j.value("org", "");
  s.url = j.value("url", "");
  s.deadline_days = j.value("deadline_days", kDefaultDeadlineDays);
  s.created_at = j.value("created_at", "");
  s.created_by = j.value("created_by", "");
  s.from_seq = j.value("from_seq", std::uint64_t{0});
  if (!j.contains("kinds") || !j["kinds"].is_array()) return std::nullopt;
  for (const auto& k : j["kinds"]) {
    auto kind = k.is_string() ? ParseKind(k.get<std::string>()) : std::nullopt;
    if (!kind) return std::nullopt;
    s.kinds.push_back(*kind);
  }
  if (s.id.empty() || s.org.empty() || !ParseHttpUrl(s.url)) return std::nullopt;
  return s;
}

std::vector<Notice> NoticesForEvent(const Subscription& sub, const engine::Definition* def,
                                    const engine::InstanceState* before,
                                    const engine::InstanceState& after, std::uint64_t seq,
                                    std::string_view event_type, engine::Timestamp occurred_at) {
  std::vector<Notice> out;
  if (seq <= sub.from_seq) return out;
  const engine::Principal viewer{sub.org, "", ""};
  if (!engine::CanSee(after, viewer)) return out;
  auto notice = [&](Kind kind) {
    Notice n;
    n.kind = kind;
    n.instance = after;
    n.seq = seq;
    n.event_type = std::string(event_type);
    n.at = occurred_at;
    return n;
  };
  // In the order of Kind: a receiver that acts on awaiting_you sees it before the state change
  // of the same event.
  if (sub.Wants(Kind::kAwaitingYou) && def != nullptr && Has(AwaitedOrgs(*def, after), sub.org) &&
      (before == nullptr || !Has(AwaitedOrgs(*def, *before), sub.org))) {
    Notice n = notice(Kind::kAwaitingYou);
    n.due = engine::NextDeadline(after);
    out.push_back(std::move(n));
  }
  if (sub.Wants(Kind::kStateChanged) && (before == nullptr || before->state != after.state)) {
    Notice n = notice(Kind::kStateChanged);
    n.previous_state = before == nullptr ? "" : before->state;
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<Notice> NoticesForClock(const Subscription& sub, const engine::InstanceState& instance,
                                    engine::Timestamp now) {
  std::vector<Notice> out;
  const bool soon = sub.Wants(Kind::kDeadlineSoon);
  const bool overdue = sub.Wants(Kind::kOverdue);
  if ((!soon || instance.timers.empty()) && (!overdue || instance.overdue.empty())) return out;
  if (!engine::CanSee(instance, engine::Principal{sub.org, "", ""})) return out;
  if (soon) {
    auto due = engine::NextDeadline(instance);
    if (due && *due > now && *due - now <= std::chrono::days(sub.deadline_days)) {
      Notice n;
      n.kind = Kind::kDeadlineSoon;
      n.instance = instance;
      n.due = due;
      n.at = now;
      for (const auto& [name, when] : instance.timers) {
        if (when == *due) {
          n.deadline_name = name;
          break;
        }
      }
      out.push_back(std::move(n));
    }
  }
  if (overdue) {
    for (const auto& [name, since] : instance.overdue) {
      Notice n;
      n.kind = Kind::kOverdue;
      n.instance = instance;
      n.due = since;
      n.deadline_name = name;
      n.at = now;
      out.push_back(std::move(n));
    }
  }
  return out;
}

std::string MarkOf(const Notice& notice) {
  return std::string(KindName(notice.kind)) + "/" + notice.instance.Stream() + "/" +
         notice.deadline_name + "/" +
         (notice.due ? engine::FormatRfc3339(*notice.due) : std::string());
}

std::string Body(const Subscription& sub, const Notice& notice, std::string_view id) {
  const engine::InstanceState& s = notice.instance;
  nlohmann::ordered_json body = {
      {"id", id},
      {"kind", KindName(notice.kind)},
      {"subscription", sub.id},
      {"org", sub.org},
      {"instance",
       {{"collection", s.collection},
        {"id", s.id},
        {"workflow", s.workflow},
        {"state", s.state},
        {"version", s.version}}},
      {"seq", notice.seq ? nlohmann::ordered_json(*notice.seq) : nlohmann::ordered_json()},
      {"event", notice.event_type.empty() ? nlohmann::ordered_json()
                                          : nlohmann::ordered_json(notice.event_type)},
  };
  if (notice.kind == Kind::kStateChanged) body["previous_state"] = notice.previous_state;
  if (notice.due) body["deadline"] = engine::FormatRfc3339(*notice.due);
  if (!notice.deadline_name.empty()) body["deadline_name"] = notice.deadline_name;
  body["at"] = engine::FormatRfc3339(notice.at);
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return engine::ToHex(out, n);
}

std::string SecretOf(std::string_view server_key, std::string_view subscription_id) {
  return HmacSha256Hex(server_key, "expertflow webhook " + std::string(subscription_id));
}

std::string Signature(std::string_view secret, std::string_view body) {
  return "sha256=" + HmacSha256Hex(secret, body);
}

std::chrono::milliseconds Backoff(std::uint32_t failures, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap) {
  if (failures == 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds wait = base;
  for (std::uint32_t i = 1; i < failures && wait < cap; ++i) wait *= 2;
  return std::min(wait, cap);
}

}  // namespace expertflow::api::webhooks
