#include "api/webhook_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace expertflow::api::webhooks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A receiver answers with a status; what it says besides is not read past this.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

}  // namespace

PostOutcome Poster::Post(const HttpUrl& url, const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds answer_timeout) {
  const auto started = std::chrono::steady_clock::now();
  PostOutcome out;
  asio::io_context ioc;
  {
    std::lock_guard lock(mu_);
    if (cancelled_) {
      out.error = "cancelled: the server is stopping";
      return out;
    }
    current_ = &ioc;
  }
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> req{http::verb::post, url.target, 11};
  req.set(http::field::host, url.host + ":" + std::to_string(url.port));
  req.set(http::field::user_agent, "expertflow-webhooks");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  bool finished = false;
  auto fail = [&](std::string_view step, beast::error_code ec) {
    finished = true;
    out.error = ec == beast::error::timeout ? std::string(step) + " timed out"
                                            : std::string(step) + ": " + ec.message();
  };

  stream.expires_after(connect_timeout);
  resolver.async_resolve(
      url.host, std::to_string(url.port),
      [&](beast::error_code ec, const tcp::resolver::results_type& results) {
        if (ec) return fail("resolving the host", ec);
        stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return fail("connecting", ec);
          stream.expires_after(answer_timeout);
          http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
            if (ec) return fail("sending", ec);
            http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
              if (ec) return fail("waiting for the answer", ec);
              finished = true;
              out.status = parser.get().result_int();
              beast::error_code ignored;
              stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
          });
        });
      });
  ioc.run();
  {
    std::lock_guard lock(mu_);
    current_ = nullptr;
  }
  if (!finished) out.error = "cancelled: the server is stopping";
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

void Poster::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (current_ != nullptr) current_->stop();
}

}  // namespace expertflow::api::webhooks
