#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/webhook_notify.h"

namespace boost::asio {
class io_context;
}

namespace expertflow::api::webhooks {

// How one POST went: the status of the answer (0 when there was none) or what failed.
struct PostOutcome {
  int status = 0;
  std::string error;
  std::chrono::milliseconds duration{0};
  bool Delivered() const { return status >= 200 && status < 300; }
};

// A plain HTTP/1.1 client for deliveries: one connection per POST, a timeout on the connect and
// one on the answer (sending included). Cancel() from another thread ends the exchange under way
// and refuses every later one, so a stopping server need not wait out a slow endpoint.
class Poster {
 public:
  PostOutcome Post(const HttpUrl& url, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   std::chrono::milliseconds connect_timeout,
                   std::chrono::milliseconds answer_timeout);
  void Cancel();

 private:
  std::mutex mu_;
  boost::asio::io_context* current_ = nullptr;  // the exchange under way, guarded by mu_
  bool cancelled_ = false;
};

}  // namespace expertflow::api::webhooks
