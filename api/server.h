#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/metrics.h"
#include "api/router.h"
#include "engine/core/error.h"

namespace expertflow::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (tests)
  int threads = 2;
  std::size_t max_connections = 10000;
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1 << 20;  // API.md: over 1 MiB is 413
  // A request must arrive whole within this; an idle keep-alive connection is closed after
  // idle_timeout. Both bound what slow clients can hold.
  std::chrono::seconds read_timeout{15};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds drain_timeout{10};
  // Server-Sent Events: a comment line this often keeps proxies from closing an idle stream; a
  // consumer that cannot take a write within sse_write_timeout is cut off, so a slow reader never
  // holds anything the writers need.
  std::chrono::milliseconds sse_heartbeat{15000};
  std::chrono::seconds sse_write_timeout{10};
  std::chrono::milliseconds sse_poll{100};
};

// HTTP/1.1 with keep-alive over Boost.Beast and C++20 coroutines, on N I/O threads. Each request
// goes to the router; a write waits for the sequencer without holding an I/O thread.
class Server {
 public:
  Server(Router& router, Metrics& metrics, ServerOptions options);
  ~Server();

  // Binds and starts accepting; answers the bound port.
  engine::Result<std::uint16_t> Start();
  // Runs the I/O threads until Stop (or SIGINT/SIGTERM when `handle_signals`), then returns after
  // in-flight requests are answered (up to drain_timeout).
  void Run(bool handle_signals);
  // Stops accepting, lets in-flight requests finish, then ends Run. Thread-safe.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace expertflow::api
