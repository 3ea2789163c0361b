// A bounded soak of the real `expertflow serve` on loopback: many keep-alive connections of mixed
// traffic (reads of instances, lists, histories and the inbox; updates with expected_version;
// some creates; readers of one long history, its pages and its verification; an event-stream
// client whose token is revoked half-way) for a fixed time, then checks that no answer was an
// error other than a version conflict (or a busy 503 for a verification past the pool's bound),
// that the revoked stream was closed at once, and that the server's resident memory did not grow
// beyond what the data it was given accounts for. Not part of ctest: scripts/test.sh runs it (20 s with CI=true, else
// 120 s), and it prints the figures docs/reliability.md reports.
//
// Usage: soak [--seconds N] [--connections N] [--instances N]
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/app/binary.h"
#include "tests/storage/temp_dir.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using expertflow::testing::RunCli;
using expertflow::testing::ServerProcess;
using expertflow::testing::StartServer;
using nlohmann::json;

// Resident memory of a process in KiB (VmRSS of /proc/PID/status).
long RssKib(pid_t pid) {
  std::string status = expertflow::testing::ReadFile("/proc/" + std::to_string(pid) + "/status");
  auto at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

// One keep-alive connection.
class Connection {
 public:
  explicit Connection(std::uint16_t port) : port_(port) { Connect(); }

  // Status and body; status 0 when the connection failed.
  std::pair<int, std::string> Call(http::verb method, const std::string& target,
                                   const std::string& token, const std::string& body = "") {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer " + token);
        req.keep_alive(true);
        if (!body.empty()) {
          req.set(http::field::content_type, "application/json");
          req.body() = body;
        }
        req.prepare_payload();
        http::write(stream_, req);
        http::response<http::string_body> res;
        http::read(stream_, buffer_, res);
        if (!res.keep_alive()) Connect();
        return {res.result_int(), std::move(res.body())};
      } catch (const std::exception&) {
        // The server may close an idle keep-alive connection: connect again once.
        ++reconnects;
        Connect();
      }
    }
    return {0, ""};
  }

  int reconnects = 0;

 private:
  void Connect() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_), ignored);
  }

  std::uint16_t port_;
  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

json Draft(const std::string& title) {
  return {{"workflow", "industry_proposal"},
          {"payload", {{"title", title}, {"topic", "standard_programme"}, {"summary", "soak"}}}};
}

std::string Token(const std::filesystem::path& data, const std::string& org,
                  const std::string& role) {
  auto out = RunCli("token issue --data " + data.string() + " --org " + org + " --role " + role);
  std::string token = out.out.substr(0, out.out.find('\n'));
  if (out.status != 0 || token.size() != 77) {
    std::cerr << "soak: could not issue a token: " << out.out << "\n";
    std::exit(1);
  }
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  const char* ci = std::getenv("CI");
  int seconds = ci != nullptr && std::string(ci) == "true" ? 20 : 120;
  int connections = 64;
  int instances = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--seconds")
      seconds = value;
    else if (flag == "--connections")
      connections = value;
    else if (flag == "--instances")
      instances = value;
  }

  expertflow::testing::TempDir dir;
  const auto data = dir.path() / "data";
  const std::string assoc = Token(data, "assoc-05", "association_member");
  const std::string umc = Token(data, "umc-05", "umc_lead");
  const std::string irpo = Token(data, "irpo", "irpo_staff");
  const std::string watcher = Token(data, "chamber", "auditor");  // revoked half-way
  ServerProcess server = StartServer(data, dir.path() / "server.log");
  if (server.port == 0) {
    std::cerr << "soak: the server did not start\n"
              << expertflow::testing::ReadFile(dir.path() / "server.log");
    return 1;
  }

  // One long history (a draft updated up to just under its state's limit), read and verified
  // by many at once: histories page and verification runs on a bounded pool, so neither holds
  // more than a page per reader.
  constexpr int kLongUpdates = 990;
  std::string long_id;
  {
    Connection c(server.port);
    auto [status, body] =
        c.Call(http::verb::post, "/api/v1/proposals", assoc, Draft("soak long").dump());
    if (status != 201) {
      std::cerr << "soak: set-up create answered " << status << ": " << body << "\n";
      return 1;
    }
    long_id = json::parse(body)["id"];
    for (int i = 0; i < kLongUpdates; ++i) {
      json cmd = {{"command", "update"}, {"payload", {{"summary", "long " + std::to_string(i)}}}};
      auto [s2, b2] = c.Call(http::verb::post, "/api/v1/proposals/" + long_id + "/commands",
                             assoc, cmd.dump());
      if (s2 != 200) {
        std::cerr << "soak: set-up update answered " << s2 << ": " << b2 << "\n";
        return 1;
      }
    }
  }

  // The steady set of instances the traffic works on; creates during the soak are counted.
  std::vector<std::string> ids;
  {
    Connection c(server.port);
    for (int i = 0; i < instances; ++i) {
      auto [status, body] = c.Call(http::verb::post, "/api/v1/proposals", assoc,
                                   Draft("soak " + std::to_string(i)).dump());
      if (status != 201) {
        std::cerr << "soak: set-up create answered " << status << ": " << body << "\n";
        return 1;
      }
      ids.push_back(json::parse(body)["id"]);
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<long> requests{0}, conflicts{0}, creates{0}, updates{0}, reconnects{0}, busy{0};
  std::mutex mu;
  std::map<std::string, long> unexpected;  // "<status> <route>: <body>" -> count
  auto worker = [&](int n) {
    Connection c(server.port);
    std::mt19937 rng(static_cast<unsigned>(n));
    std::map<std::string, std::uint64_t> seen;  // id -> version last seen
    auto expect = [&](int status, std::initializer_list<int> ok, const std::string& route,
                      const std::string& body) {
      ++requests;
      for (int s : ok)
        if (s == status) return;
      std::lock_guard lock(mu);
      ++unexpected[std::to_string(status) + " " + route + ": " + body.substr(0, 200)];
    };
    while (!stop) {
      const std::string& id = ids[rng() % ids.size()];
      const std::string path = "/api/v1/proposals/" + id;
      const unsigned dice = rng() % 100;
      if (dice < 40) {
        auto [status, body] = c.Call(http::verb::get, path, assoc);
        expect(status, {200}, "GET instance", body);
        if (status == 200) seen[id] = json::parse(body)["version"];
      } else if (dice < 55) {
        auto [status, body] = c.Call(http::verb::get, "/api/v1/proposals?limit=20", umc);
        expect(status, {200}, "GET list", body);
      } else if (dice < 58) {
        auto [status, body] = c.Call(http::verb::get, path + "/events", irpo);
        expect(status, {200}, "GET events", body);
      } else if (dice < 60) {
        // The long history: a page of it, or its verification (503 when the pool is full).
        const std::string long_path = "/api/v1/proposals/" + long_id;
        if (rng() % 2 == 0) {
          auto [status, body] = c.Call(
              http::verb::get, long_path + "/events?after=" + std::to_string(rng() % 900), irpo);
          expect(status, {200}, "GET long events", body);
        } else {
          auto [status, body] = c.Call(http::verb::get, long_path + "/verify", irpo);
          expect(status, {200, 503}, "GET long verify", body);
          if (status == 200 && json::parse(body).value("checked", 0) != kLongUpdates + 1) {
            std::lock_guard lock(mu);
            ++unexpected["verify of the long history checked another count: " + body];
          }
          if (status == 503) ++busy;
        }
      } else if (dice < 65) {
        auto [status, body] = c.Call(http::verb::get, "/api/v1/inbox", umc);
        expect(status, {200}, "GET inbox", body);
      } else if (dice < 97) {
        // An update that expects the version this connection saw last: a conflict when another
        // connection moved the instance since, which is the answer a client should get.
        json cmd = {{"command", "update"},
                    {"payload", {{"title", "soak " + std::to_string(rng() % 1000)}}}};
        if (auto it = seen.find(id); it != seen.end()) cmd["expected_version"] = it->second;
        auto [status, body] = c.Call(http::verb::post, path + "/commands", assoc, cmd.dump());
        expect(status, {200, 409}, "POST update", body);
        if (status == 200) {
          ++updates;
          seen[id] = json::parse(body)["version"];
        } else if (status == 409) {
          ++conflicts;
          auto problem = json::parse(body, nullptr, false);
          if (problem.value("code", "") != "version_conflict") {
            std::lock_guard lock(mu);
            ++unexpected["409 that is not a version conflict: " + body.substr(0, 200)];
          }
          seen.erase(id);
        }
      } else {
        auto [status, body] = c.Call(http::verb::post, "/api/v1/proposals", assoc,
                                     Draft("soak new " + std::to_string(n)).dump());
        expect(status, {201}, "POST create", body);
        if (status == 201) ++creates;
      }
    }
    reconnects += c.reconnects;
  };

  // Warm-up: a tenth of the time (at least 3 s) of the same traffic, so caches, pools and
  // buffers are at their working size before the first reading.
  const int warmup = std::max(3, seconds / 10);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) threads.emplace_back(worker, i);
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  const long rss_start = RssKib(server.pid);
  const long requests_start = requests, creates_start = creates, updates_start = updates;
  // An event-stream client, its token revoked half-way through the measured window.
  const std::string admin = [&] {
    std::string t = expertflow::testing::ReadFile(data / "admin.token");
    return t.substr(0, t.find('\n'));
  }();
  std::atomic<long> sse_bytes{0};
  std::atomic<bool> sse_closed{false};
  std::atomic<long> sse_close_ms{-1};
  std::atomic<long> revoked_at_ms{-1};
  const auto t0 = std::chrono::steady_clock::now();
  auto ms_since = [&] {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - t0)
                                 .count());
  };
  std::thread sse([&] {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    beast::error_code ec;
    socket.connect({asio::ip::address_v4::loopback(), server.port}, ec);
    timeval tv{1, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    asio::write(socket,
                asio::buffer("GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             watcher + "\r\n\r\n"),
                ec);
    char buf[8192];
    while (!stop && !ec) {
      beast::error_code rec;
      const std::size_t n = socket.read_some(asio::buffer(buf), rec);
      sse_bytes += static_cast<long>(n);
      if (rec == asio::error::eof || rec == asio::error::connection_reset) {
        sse_closed = true;
        sse_close_ms = ms_since();
        return;
      }
    }
  });
  std::vector<long> samples;
  for (int s = 0; s < seconds; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    samples.push_back(RssKib(server.pid));
    if (s == seconds / 2) {
      Connection c(server.port);
      revoked_at_ms = ms_since();
      auto [status, body] =
          c.Call(http::verb::delete_, "/api/v1/tokens/" + watcher.substr(0, 12), admin);
      if (status != 204) {
        std::lock_guard lock(mu);
        ++unexpected["revoking the stream's token answered " + std::to_string(status) + ": " +
                     body];
      }
    }
  }
  stop = true;
  for (auto& t : threads) t.join();
  sse.join();
  const long rss_end = RssKib(server.pid);
  const long rss_peak = *std::max_element(samples.begin(), samples.end());
  const long measured_requests = requests - requests_start;
  const long measured_creates = creates - creates_start;
  const long measured_updates = updates - updates_start;
  ::kill(server.pid, SIGTERM);
  int wstatus = 0;
  ::waitpid(server.pid, &wstatus, 0);

  // What may legitimately grow during the measured window: each created instance is held in
  // memory (its state, and its view in RocksDB's write buffer), and each update's event, stream
  // index entry and view go to the write buffers until a flush. The bound gives each create
  // 16 KiB and each update 4 KiB (the 120 s run grew by about 2 KiB per write in all), plus
  // 32 MiB for allocator slack. Coarse: at the measured rates a leak of about 1 KiB per request
  // exceeds it in 120 s.
  const long bound_kib = 32 * 1024 + 16 * measured_creates + 4 * measured_updates;
  const long growth = rss_end - rss_start;
  std::cout << "soak: " << connections << " connections, " << seconds << " s after " << warmup
            << " s of warm-up, " << instances << " instances to start with\n"
            << "soak: " << measured_requests << " requests ("
            << measured_requests / std::max(1, seconds) << "/s): " << measured_updates
            << " updates, " << measured_creates << " creates, " << conflicts
            << " version conflicts in all, " << reconnects << " reconnects, " << busy
            << " verifications of the long history told to retry\n"
            << "soak: event stream: " << sse_bytes / 1024 << " KiB received; token revoked at "
            << revoked_at_ms << " ms, stream closed at " << sse_close_ms << " ms\n"
            << "soak: RSS " << rss_start / 1024 << " MiB at start, " << rss_end / 1024
            << " MiB at end, " << rss_peak / 1024 << " MiB at peak; growth " << growth / 1024
            << " MiB, bound " << bound_kib / 1024 << " MiB\n";
  bool ok = true;
  for (const auto& [what, count] : unexpected) {
    std::cout << "soak: unexpected answer x" << count << ": " << what << "\n";
    ok = false;
  }
  if (!sse_closed || sse_close_ms - revoked_at_ms > 2000 || sse_close_ms < revoked_at_ms) {
    std::cout << "soak: the event stream of a revoked token was not closed at once\n";
    ok = false;
  }
  if (growth > bound_kib) {
    std::cout << "soak: memory grew beyond the bound\n";
    ok = false;
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    std::cout << "soak: the server did not stop cleanly on SIGTERM\n";
    ok = false;
  }
  if (measured_requests == 0) ok = false;
  std::cout << (ok ? "soak: ok\n" : "soak: FAILED\n");
  return ok ? 0 : 1;
}
