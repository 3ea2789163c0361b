// Webhooks against a real `expertflow serve` and a receiver on loopback that fails (500), answers
// too late, is stopped and started again, while the server itself is restarted: every
// notification arrives, in order per instance, signed, with ids stable across retries, each
// attempt visible, and commands succeed throughout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string HmacHex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    hex.push_back(kDigits[out[i] >> 4]);
    hex.push_back(kDigits[out[i] & 0xf]);
  }
  return hex;
}

// What the receiver got: one request, and how it answered.
struct Received {
  std::string delivery;
  std::string signature;
  std::string body;
  int status = 0;
  bool late = false;  // answered after the server's timeout
};

// A small HTTP receiver on 127.0.0.1: answers each request by the next step of its plan (a
// status and a delay), 200 at once when the plan is used up. Stop() closes its port; Start()
// opens the same port again.
class Receiver {
 public:
  struct Step {
    int status = 200;
    std::chrono::milliseconds delay{0};
  };

  ~Receiver() { Stop(); }

  bool Start() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 16) != 0) {
      ::close(listener_);
      listener_ = -1;
      return false;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    stop_ = false;
    thread_ = std::thread([this] { Serve(); });
    return true;
  }

  void Stop() {
    if (listener_ < 0) return;
    stop_ = true;
    thread_.join();
    ::close(listener_);
    listener_ = -1;
  }

  void Plan(std::vector<Step> steps) {
    std::lock_guard lock(mu_);
    plan_.assign(steps.begin(), steps.end());
  }

  std::vector<Received> Got() const {
    std::lock_guard lock(mu_);
    return got_;
  }

  std::uint16_t port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      Handle(fd);
      ::close(fd);
    }
  }

  static std::string Header(const std::string& head, const std::string& name) {
    std::smatch m;
    if (std::regex_search(head, m, std::regex("\r\n" + name + ": ([^\r]*)\r\n", std::regex::icase)))
      return m[1];
    return "";
  }

  void Handle(int fd) {
    std::string in;
    char buf[4096];
    std::size_t end = std::string::npos;
    while (end == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      end = in.find("\r\n\r\n");
    }
    const std::string head = in.substr(0, end + 2);
    const std::size_t length = std::stoul("0" + Header(head, "Content-Length"));
    std::string body = in.substr(end + 4);
    while (body.size() < length) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      body.append(buf, static_cast<std::size_t>(n));
    }
    Step step;
    {
      std::lock_guard lock(mu_);
      if (!plan_.empty()) {
        step = plan_.front();
        plan_.pop_front();
      }
    }
    std::this_thread::sleep_for(step.delay);
    const std::string answer = "HTTP/1.1 " + std::to_string(step.status) +
                               " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    std::lock_guard lock(mu_);
    got_.push_back({Header(head, "X-Expertflow-Delivery"), Header(head, "X-Expertflow-Signature"),
                    body, step.status, step.delay >= 1s});
  }

  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::deque<Step> plan_;
  std::vector<Received> got_;
};

// A server whose deliveries give up and retry within seconds.
ServerProcess StartHookServer(const fs::path& data, const fs::path& log) {
  return StartServer(data, log,
                     {"--webhook-timeout", "PT1S", "--webhook-backoff", "PT1S",
                      "--webhook-backoff-max", "PT2S"});
}

void StopServer(ServerProcess& s) {
  ::kill(s.pid, SIGTERM);
  int status = 0;
  ::waitpid(s.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a clean stop on SIGTERM";
}

json Call(std::uint16_t port, const std::string& method, const std::string& target,
          const std::string& token, const std::string& body, int* status) {
  const std::string answer = Http(port, method, target, token, body);
  *status = StatusOf(answer);
  return json::parse(BodyOf(answer), nullptr, false);
}

// The distinct deliveries the receiver took (a 2xx in time), in the order it first took them.
std::vector<json> Accepted(const std::vector<Received>& got) {
  std::vector<json> out;
  std::set<std::string> seen;
  for (const Received& r : got) {
    if (r.status / 100 != 2 || r.late || !seen.insert(r.delivery).second) continue;
    out.push_back(json::parse(r.body));
  }
  return out;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

TEST(Webhooks, ShouldDeliverEveryNotificationThroughFailuresDelaysAndRestarts) {
  const fs::path dir =
      fs::temp_directory_path() / ("expertflow-webhooks-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path data = dir / "data";

  // given a server, a UMC lead and an association, and a receiver that fails twice, then answers
  // too late once
  ServerProcess server = StartHookServer(data, dir / "server1.log");
  ASSERT_NE(server.port, 0) << ReadFile(dir / "server1.log");
  const std::string admin = ReadFile(data / "admin.token").substr(0, 77);
  int status = 0;
  const std::string lead = Call(server.port, "POST", "/api/v1/tokens", admin,
                                R"({"org":"umc-05","role":"umc_lead"})", &status)
                               .value("token", "");
  const std::string assoc = Call(server.port, "POST", "/api/v1/tokens", admin,
                                 R"({"org":"assoc-05","role":"association_member"})", &status)
                                .value("token", "");
  ASSERT_EQ(lead.size(), 77u);
  ASSERT_EQ(assoc.size(), 77u);

  Receiver receiver;
  ASSERT_TRUE(receiver.Start());
  receiver.Plan({{500, 0ms}, {500, 0ms}, {200, 1500ms}});
  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";

  // bad registrations change nothing
  Call(server.port, "POST", "/api/v1/webhooks", lead,
       R"({"url":"https://example.org/","kinds":["state_changed"]})", &status);
  EXPECT_EQ(status, 422);
  Call(server.port, "POST", "/api/v1/webhooks", lead, R"({"url":")" + url + R"(","kinds":["x"]})",
       &status);
  EXPECT_EQ(status, 422);
  Call(server.port, "POST", "/api/v1/webhooks", lead,
       R"({"url":")" + url + R"(","kinds":["state_changed"],"org":"umc-07"})", &status);
  EXPECT_EQ(status, 403) << "a lead registers for its own organisation only";
  Call(server.port, "POST", "/api/v1/webhooks", assoc,
       R"({"url":")" + url + R"(","kinds":["state_changed"]})", &status);
  EXPECT_EQ(status, 403);
  EXPECT_EQ(Call(server.port, "GET", "/api/v1/webhooks", lead, "", &status)["items"].size(), 0u);

  // when the lead subscribes, and the admin subscribes the association to a dead endpoint
  const json hook =
      Call(server.port, "POST", "/api/v1/webhooks", lead,
           R"({"url":")" + url + R"(","kinds":["awaiting_you","state_changed"]})", &status);
  ASSERT_EQ(status, 201) << hook.dump();
  const std::string id = hook["id"];
  const std::string secret = hook["secret"];
  ASSERT_EQ(secret.size(), 64u);
  const json dead = Call(server.port, "POST", "/api/v1/webhooks", admin,
                         R"({"url":"http://127.0.0.1:1/none","kinds":["state_changed"],)"
                         R"("org":"assoc-05"})",
                         &status);
  ASSERT_EQ(status, 201) << dead.dump();
  EXPECT_EQ(
      Call(server.port, "GET", "/api/v1/webhooks/" + std::string(dead["id"]), lead, "", &status),
      Call(server.port, "GET", "/api/v1/webhooks/none", lead, "", &status));
  EXPECT_EQ(status, 404) << "another organisation's webhook does not exist for the lead";

  // and two proposals are drafted and submitted, the second while the receiver is stopped
  std::vector<std::string> ids;
  auto walk = [&](std::uint16_t port) {
    const json created = Call(
        port, "POST", "/api/v1/proposals", assoc,
        R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"infrastructure","summary":"s"}})",
        &status);
    EXPECT_EQ(status, 201);
    ids.push_back(created.value("id", ""));
    Call(port, "POST", "/api/v1/proposals/" + ids.back() + "/commands", assoc,
         R"({"command":"submit_to_umc"})", &status);
    EXPECT_EQ(status, 200);
  };
  walk(server.port);
  ASSERT_TRUE(WaitFor([&] { return Accepted(receiver.Got()).size() >= 3; }, 30s))
      << receiver.Got().size() << " requests";
  receiver.Stop();
  walk(server.port);
  // The receiver is dead: the deliveries fail to connect, and the server restarts meanwhile.
  ASSERT_TRUE(WaitFor(
      [&] {
        const json d =
            Call(server.port, "GET", "/api/v1/webhooks/" + id + "/deliveries", lead, "", &status);
        return d.is_object() && d.contains("items") && !d["items"].empty() &&
               d["items"][0]["error"].is_string();
      },
      20s));
  StopServer(server);
  server = StartHookServer(data, dir / "server2.log");
  ASSERT_NE(server.port, 0) << ReadFile(dir / "server2.log");
  walk(server.port);
  ASSERT_TRUE(receiver.Start()) << "the same port again";

  // then every notification arrives, once taken, in order per instance, signed
  const std::size_t expected = 3 * ids.size();  // creation, and awaiting_you + the state change
  ASSERT_TRUE(WaitFor([&] { return Accepted(receiver.Got()).size() >= expected; }, 60s))
      << Accepted(receiver.Got()).size() << " of " << expected << "\n"
      << ReadFile(dir / "server2.log");
  const std::vector<json> accepted = Accepted(receiver.Got());
  EXPECT_EQ(accepted.size(), expected);
  std::map<std::string, std::vector<json>> by_instance;
  for (const json& n : accepted) {
    EXPECT_EQ(n["subscription"], id);
    EXPECT_EQ(n["org"], "umc-05");
    by_instance[n["instance"]["id"]].push_back(n);
  }
  ASSERT_EQ(by_instance.size(), ids.size());
  for (const auto& [instance, notes] : by_instance) {
    ASSERT_EQ(notes.size(), 3u) << instance;
    EXPECT_EQ(notes[0]["kind"], "state_changed");
    EXPECT_EQ(notes[0]["previous_state"], "");
    EXPECT_EQ(notes[0]["instance"]["version"], 1);
    EXPECT_EQ(notes[1]["kind"], "awaiting_you");
    EXPECT_EQ(notes[2]["kind"], "state_changed");
    EXPECT_EQ(notes[2]["previous_state"], notes[0]["instance"]["state"]);
    for (std::size_t i = 1; i < notes.size(); ++i)
      EXPECT_LE(notes[i - 1]["seq"], notes[i]["seq"]) << "in the order of the log";
  }
  std::map<std::string, std::set<std::string>> bodies;
  for (const Received& r : receiver.Got()) {
    EXPECT_EQ(r.signature, "sha256=" + HmacHex(secret, r.body)) << r.body;
    EXPECT_EQ(json::parse(r.body)["id"], r.delivery);
    bodies[r.delivery].insert(r.body);
  }
  for (const auto& [delivery, texts] : bodies)
    EXPECT_EQ(texts.size(), 1u) << delivery << " was sent with another body on a retry";
  const std::vector<Received> got = receiver.Got();
  ASSERT_GE(got.size(), 3u);
  EXPECT_EQ(got[0].delivery, got[1].delivery) << "a retry keeps the delivery id";
  EXPECT_EQ(got[1].delivery, got[2].delivery);

  // and every attempt is visible: the 500s, the answer too late, the refused connections
  const json deliveries = Call(
      server.port, "GET", "/api/v1/webhooks/" + id + "/deliveries?limit=500", lead, "", &status);
  ASSERT_EQ(status, 200) << deliveries.dump();
  std::multiset<std::string> outcomes;
  for (const json& a : deliveries["items"]) {
    if (a["status"] == 500) outcomes.insert("500");
    if (a["error"].is_string() &&
        a["error"].get<std::string>().find("timed out") != std::string::npos)
      outcomes.insert("timeout");
    if (a["error"].is_string() && a["error"].get<std::string>().starts_with("connecting"))
      outcomes.insert("refused");
    if (a["outcome"] == "delivered") outcomes.insert("delivered");
  }
  EXPECT_EQ(outcomes.count("500"), 2u) << deliveries.dump(1);
  EXPECT_GE(outcomes.count("timeout"), 1u) << deliveries.dump(1);
  EXPECT_GE(outcomes.count("refused"), 1u) << deliveries.dump(1);
  EXPECT_GE(outcomes.count("delivered"), expected) << deliveries.dump(1);
  const json first = deliveries["items"].back();
  EXPECT_EQ(first["attempt"], 1);
  EXPECT_EQ(first["status"], 500);
  EXPECT_TRUE(first["next_retry_at"].is_string());

  // and the dead endpoint held up only its own subscription
  const json stuck =
      Call(server.port, "GET", "/api/v1/webhooks/" + std::string(dead["id"]), admin, "", &status);
  EXPECT_GE(stuck["delivery"]["pending"], 1) << stuck.dump();
  EXPECT_GE(stuck["delivery"]["failures"], 1) << stuck.dump();
  const std::string metrics = BodyOf(Http(server.port, "GET", "/metrics", ""));
  EXPECT_NE(metrics.find("expertflow_webhook_attempts_total{outcome=\"failed\"}"),
            std::string::npos);

  // and a deleted webhook is gone
  Http(server.port, "DELETE", "/api/v1/webhooks/" + std::string(dead["id"]), admin);
  Call(server.port, "GET", "/api/v1/webhooks/" + std::string(dead["id"]), admin, "", &status);
  EXPECT_EQ(status, 404);
  StopServer(server);
  EXPECT_EQ(ReadFile(dir / "server1.log").find(secret), std::string::npos);
  EXPECT_EQ(ReadFile(dir / "server2.log").find(secret), std::string::npos);
  EXPECT_EQ(RunCli("verify --data " + data.string()).status, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace expertflow::testing
