// The parts of webhooks that need no socket: signature, backoff schedule, URLs, and which
// notifications an event or the clock gives a subscription.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/webhook_notify.h"

namespace expertflow::api::webhooks {
namespace {

using namespace std::chrono_literals;

engine::Timestamp At(const char* text) { return *engine::ParseRfc3339(text); }

Subscription Sub(std::string org, std::vector<Kind> kinds) {
  Subscription s;
  s.id = "0123456789ab";
  s.org = std::move(org);
  s.url = "http://127.0.0.1:9/hook";
  s.kinds = std::move(kinds);
  s.from_seq = 10;
  return s;
}

engine::InstanceState Proposal(std::string state, std::uint64_t version) {
  engine::InstanceState s;
  s.id = "p1";
  s.collection = "proposals";
  s.workflow = "industry_proposal";
  s.workflow_version = 2;
  s.state = std::move(state);
  s.version = version;
  s.participants = {{"association", "assoc-05"}, {"umc", "umc-05"}};
  return s;
}

TEST(WebhookSignature, ShouldBeTheHmacSha256OfTheBody) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignature, ShouldDeriveOneSecretPerSubscriptionAndServerKey) {
  const std::string a = SecretOf("server key one", "0123456789ab");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, SecretOf("server key one", "0123456789ab"));
  EXPECT_NE(a, SecretOf("server key one", "0123456789ac"));
  EXPECT_NE(a, SecretOf("server key two", "0123456789ab"));
}

TEST(WebhookBackoff, ShouldDoubleFromTheBaseUpToTheCap) {
  const std::chrono::milliseconds base = 1s, cap = 60s;
  EXPECT_EQ(Backoff(0, base, cap), 0ms);
  EXPECT_EQ(Backoff(1, base, cap), 1s);
  EXPECT_EQ(Backoff(2, base, cap), 2s);
  EXPECT_EQ(Backoff(3, base, cap), 4s);
  EXPECT_EQ(Backoff(6, base, cap), 32s);
  EXPECT_EQ(Backoff(7, base, cap), 60s);
  EXPECT_EQ(Backoff(1000, base, cap), 60s) << "no overflow after many failures";
}

TEST(WebhookUrl, ShouldTakeHttpUrlsOnly) {
  auto u = ParseHttpUrl("http://127.0.0.1:8081/hooks/in?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8081);
  EXPECT_EQ(u->target, "/hooks/in?x=1");
  u = ParseHttpUrl("http://receiver.example");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  u = ParseHttpUrl("http://[::1]:9000/h");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  for (const char* bad : {"https://example.org/", "ftp://x/", "http://", "http://:80/",
                          "http://a:0/", "http://a:65536/", "http://a:8x/", "http://user:pw@a/",
                          "http://a/#f", "http://a b/", "example.org"}) {
    auto r = ParseHttpUrl(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, engine::ErrorCode::kValidationFailed) << bad;
  }
}

TEST(WebhookNotices, ShouldNotifyAStateChangeAndACreation) {
  const Subscription sub = Sub("umc-05", {Kind::kStateChanged});
  const auto before = Proposal("draft", 1);
  const auto after = Proposal("umc_review", 2);
  auto notices = NoticesForEvent(sub, nullptr, &before, after, 11, "ProposalSubmitted",
                                 At("2026-01-12T09:00:00Z"));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].kind, Kind::kStateChanged);
  EXPECT_EQ(notices[0].previous_state, "draft");
  EXPECT_EQ(notices[0].seq, 11u);

  notices = NoticesForEvent(sub, nullptr, nullptr, before, 12, "ProposalDrafted",
                            At("2026-01-12T09:00:00Z"));
  ASSERT_EQ(notices.size(), 1u) << "a creation enters the first state";
  EXPECT_EQ(notices[0].previous_state, "");
}

TEST(WebhookNotices, ShouldNotNotifyAnEventThatKeepsTheState) {
  const auto before = Proposal("umc_review", 2);
  const auto after = Proposal("umc_review", 3);
  EXPECT_TRUE(NoticesForEvent(Sub("umc-05", {Kind::kStateChanged}), nullptr, &before, after, 11,
                              "CommentAdded", At("2026-01-12T09:00:00Z"))
                  .empty());
}

TEST(WebhookNotices, ShouldNotifyOnlyOrganisationsThatMaySeeTheInstance) {
  const auto before = Proposal("draft", 1);
  const auto after = Proposal("umc_review", 2);
  const auto t = At("2026-01-12T09:00:00Z");
  EXPECT_TRUE(NoticesForEvent(Sub("umc-07", {Kind::kStateChanged}), nullptr, &before, after, 11,
                              "ProposalSubmitted", t)
                  .empty())
      << "another UMC does not see umc-05's proposal";
  EXPECT_EQ(NoticesForEvent(Sub("irpo", {Kind::kStateChanged}), nullptr, &before, after, 11,
                            "ProposalSubmitted", t)
                .size(),
            1u)
      << "IRPO sees every instance";
}

TEST(WebhookNotices, ShouldNotNotifyEventsFromBeforeTheRegistration) {
  const auto before = Proposal("draft", 1);
  const auto after = Proposal("umc_review", 2);
  EXPECT_TRUE(NoticesForEvent(Sub("umc-05", {Kind::kStateChanged}), nullptr, &before, after, 10,
                              "ProposalSubmitted", At("2026-01-12T09:00:00Z"))
                  .empty());
}

TEST(WebhookNotices, ShouldNotifyWhatTheSubscriptionAsksForOnly) {
  const auto before = Proposal("draft", 1);
  const auto after = Proposal("umc_review", 2);
  EXPECT_TRUE(NoticesForEvent(Sub("umc-05", {Kind::kOverdue}), nullptr, &before, after, 11,
                              "ProposalSubmitted", At("2026-01-12T09:00:00Z"))
                  .empty());
}

TEST(WebhookNotices, ShouldNotifyADeadlineWithinTheDaysAskedFor) {
  Subscription sub = Sub("umc-05", {Kind::kDeadlineSoon});
  sub.deadline_days = 3;
  auto s = Proposal("umc_review", 2);
  s.timers = {{"review", At("2026-01-15T20:59:59Z")}, {"later", At("2026-02-01T00:00:00Z")}};
  EXPECT_TRUE(NoticesForClock(sub, s, At("2026-01-11T09:00:00Z")).empty()) << "4 days ahead";
  auto notices = NoticesForClock(sub, s, At("2026-01-13T09:00:00Z"));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].kind, Kind::kDeadlineSoon);
  EXPECT_EQ(notices[0].deadline_name, "review");
  EXPECT_EQ(notices[0].due, At("2026-01-15T20:59:59Z"));
  EXPECT_EQ(MarkOf(notices[0]), MarkOf(NoticesForClock(sub, s, At("2026-01-14T09:00:00Z"))[0]))
      << "a later check of the same deadline is the same notification";
  EXPECT_TRUE(
      NoticesForClock(Sub("umc-07", {Kind::kDeadlineSoon}), s, At("2026-01-13T09:00:00Z")).empty())
      << "not for those who may not see it";
}

TEST(WebhookNotices, ShouldNotifyEachDeadlineThatPassed) {
  auto s = Proposal("umc_review", 3);
  s.overdue = {{"review", At("2026-01-15T20:59:59Z")}};
  auto notices = NoticesForClock(Sub("umc-05", {Kind::kOverdue}), s, At("2026-01-20T09:00:00Z"));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].kind, Kind::kOverdue);
  EXPECT_EQ(notices[0].deadline_name, "review");
  EXPECT_EQ(MarkOf(notices[0]), "overdue/proposals/p1/review/2026-01-15T20:59:59Z");
}

TEST(WebhookBody, ShouldCarryTheDeliveryTheKindAndTheInstance) {
  const Subscription sub = Sub("umc-05", {Kind::kStateChanged});
  const auto before = Proposal("draft", 1);
  const auto after = Proposal("umc_review", 2);
  auto notices = NoticesForEvent(sub, nullptr, &before, after, 11, "ProposalSubmitted",
                                 At("2026-01-12T09:00:00Z"));
  ASSERT_EQ(notices.size(), 1u);
  const auto body = nlohmann::json::parse(Body(sub, notices[0], "0123456789ab-7"));
  EXPECT_EQ(body["id"], "0123456789ab-7");
  EXPECT_EQ(body["kind"], "state_changed");
  EXPECT_EQ(body["subscription"], "0123456789ab");
  EXPECT_EQ(body["org"], "umc-05");
  EXPECT_EQ(body["instance"], (nlohmann::json{{"collection", "proposals"},
                                              {"id", "p1"},
                                              {"workflow", "industry_proposal"},
                                              {"state", "umc_review"},
                                              {"version", 2}}));
  EXPECT_EQ(body["seq"], 11);
  EXPECT_EQ(body["event"], "ProposalSubmitted");
  EXPECT_EQ(body["previous_state"], "draft");
  EXPECT_EQ(body["at"], "2026-01-12T09:00:00Z");
}

TEST(WebhookSubscription, ShouldReadBackWhatItStores) {
  Subscription sub = Sub("umc-05", {Kind::kAwaitingYou, Kind::kOverdue});
  sub.deadline_days = 7;
  auto back = SubscriptionFromJson(ToJson(sub));
  ASSERT_TRUE(back);
  EXPECT_EQ(ToJson(*back), ToJson(sub));
  EXPECT_TRUE(back->Wants(Kind::kOverdue));
  EXPECT_FALSE(back->Wants(Kind::kStateChanged));
}

}  // namespace
}  // namespace expertflow::api::webhooks
