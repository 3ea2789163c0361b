#include "api/server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>
#include <vector>

#include "api/attachments.h"
#include "api/problem.h"

namespace expertflow::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Hands a request to the router and resumes the coroutine on its own executor with the answer,
// whichever thread the router answers from (the sequencer's, for writes).
template <typename Token>
auto AsyncHandle(Router& router, HttpRequest request, Token&& token) {
  return asio::async_initiate<Token, void(HttpResponse)>(
      [&router](auto handler, HttpRequest req) {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto executor = asio::get_associated_executor(*shared);
        router.Handle(std::move(req), [shared, executor](HttpResponse response) {
          asio::post(executor, [shared, response = std::move(response)]() mutable {
            (*shared)(std::move(response));
          });
        });
      },
      token, std::move(request));
}

HttpRequest FromBeast(const http::request<http::string_body>& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    out.headers[name] = std::string(field.value());
  }
  out.body = req.body();
  return out;
}

// The methods this server implements; anything else is answered 501 and counted as "other", so
// a client cannot grow the metrics or the log with method names of its own (RFC 9110 §9.1).
constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                         "PATCH", "DELETE", "OPTIONS"};

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view m : kMethods) {
    if (m == method) return m;
  }
  return "other";
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// Headers whose meaning would depend on which copy a reader takes: two are refused, not guessed.
bool HasRepeatedSingletonHeader(const http::request<http::string_body>& req) {
  for (std::string_view name :
       {"authorization", "content-type", "if-match", "idempotency-key", "last-event-id"}) {
    auto [first, last] = req.equal_range(name);
    if (first != last && std::next(first) != last) return true;
  }
  return false;
}

// The status line and the header fields every answer of ours carries.
template <class Body>
http::response<Body> HeaderOf(const HttpResponse& r, unsigned version) {
  http::response<Body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "expertflow");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  return res;
}

http::response<http::string_body> ToBeast(HttpResponse r, unsigned version, bool keep_alive) {
  auto res = HeaderOf<http::string_body>(r, version);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

}  // namespace

class Server::Impl {
 public:
  Impl(Router& router, Metrics& metrics, ServerOptions options)
      : router_(router),
        metrics_(metrics),
        options_(std::move(options)),
        ioc_(options_.threads),
        acceptor_(asio::make_strand(ioc_)) {}

  engine::Result<std::uint16_t> Start() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return engine::Fail(engine::ErrorCode::kBadRequest, "bad listen address " + options_.host);
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return engine::Fail(engine::ErrorCode::kUnavailable, "cannot listen on " + options_.host +
                                                               ":" + std::to_string(options_.port) +
                                                               ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached);
    return port_;
  }

  void Run(bool handle_signals) {
    asio::signal_set signals(ioc_);
    if (handle_signals) {
      signals.add(SIGINT);
      signals.add(SIGTERM);
      signals.async_wait([this](beast::error_code ec, int signal) {
        if (!ec) {
          spdlog::info("signal {}: draining and stopping", signal);
          Stop();
        }
      });
    }
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
  }

  void Stop() {
    asio::post(acceptor_.get_executor(), [this] {
      if (stopping_.exchange(true)) return;
      beast::error_code ec;
      acceptor_.close(ec);
      asio::co_spawn(ioc_, Drain(), asio::detached);
    });
  }

 private:
  // Waits for the requests in flight to be answered, then ends the I/O loop. Idle keep-alive
  // connections hold nothing that was acknowledged, so they are simply closed.
  asio::awaitable<void> Drain() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(kUseTuple);
    }
    ioc_.stop();
  }

  asio::awaitable<void> Accept() {
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kUseTuple);
      if (ec) {
        if (stopping_) co_return;
        continue;
      }
      if (connections_.load() >= options_.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the cap: refuse at once rather than queue
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> Session(beast::tcp_stream stream) {
    beast::error_code remote_ec;
    const auto endpoint = stream.socket().remote_endpoint(remote_ec);
    const std::string remote = remote_ec ? "-" : endpoint.address().to_string();
    ++connections_;
    metrics_.ConnectionOpened();
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
      // No limit while the head is read: an attachment's body has its own (Upload). Beast checks
      // a Content-Length against the limit when the head ends, so the JSON body's limit is set
      // (and a declared length checked against it) once the head is in.
      parser.body_limit(boost::none);
      stream.expires_after(first ? options_.read_timeout : options_.idle_timeout);
      // Wait for the first byte of the next request within the idle timeout, then the whole
      // request within the read timeout.
      // On a kept-alive connection, the first byte of the next request may take up to the idle
      // timeout; from then on (and on a new connection, from the start) the whole request must
      // arrive within the read timeout.
      if (!first && buffer.size() == 0) {
        stream.expires_after(options_.idle_timeout);
        auto [iec, in] = co_await stream.async_read_some(buffer.prepare(4096), kUseTuple);
        if (iec) break;
        buffer.commit(in);
      }
      stream.expires_after(options_.read_timeout);
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
      // A transfer coding whose last is not "chunked" leaves the body's length unknown: the rest
      // of the bytes must not be read as the next request (RFC 9112 §6.3, request smuggling).
      if (!hec && parser.get().count(http::field::transfer_encoding) > 0 && !parser.chunked()) {
        co_await Reply(
            stream,
            Problem(engine::ErrorCode::kBadRequest, "Transfer-Encoding must end with chunked"), 11,
            false);
        break;
      }
      if (!hec && HasRepeatedSingletonHeader(parser.get())) {
        co_await Reply(
            stream,
            Problem(engine::ErrorCode::kBadRequest, "a header that must appear once appears twice"),
            11, false);
        break;
      }
      if (!hec && parser.get().method() == http::verb::post &&
          PathOf(parser.get().target()) == "/api/v1/attachments") {
        first = false;
        if (!co_await Upload(stream, buffer, parser, remote)) break;
        continue;
      }
      if (!hec) {
        parser.body_limit(options_.body_limit);
        if (parser.content_length() && *parser.content_length() > options_.body_limit) {
          hec = http::error::body_limit;
        } else {
          auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kUseTuple);
          hec = bec;
        }
      }
      first = false;
      if (hec) {
        if (hec == http::error::body_limit) {
          if (co_await Reply(
                  stream,
                  Problem(engine::ErrorCode::kPayloadTooLarge, "the body is larger than 1 MiB"), 11,
                  false))
            co_await LingeringClose(stream);
        } else if (hec == http::error::header_limit) {
          if (co_await Reply(
                  stream,
                  TransportProblem(431, "headers_too_large", "Request header fields too large",
                                   "the request headers are larger than " +
                                       std::to_string(options_.header_limit) + " bytes"),
                  11, false))
            co_await LingeringClose(stream);
        } else if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
                   hec != asio::error::operation_aborted && hec != asio::error::eof &&
                   hec != asio::error::connection_reset) {
          co_await Reply(stream, Problem(engine::ErrorCode::kBadRequest, "malformed HTTP request"),
                         11, false);
        }
        break;
      }
      auto request = parser.release();
      const std::string_view method = MethodLabel(request.method_string());
      if (method == "other") {
        metrics_.ObserveRequest("other", "other", 501, 0);
        co_await Reply(stream,
                       TransportProblem(501, "not_implemented", "Method not implemented",
                                        "this server implements GET, HEAD, POST, PUT, PATCH, "
                                        "DELETE and OPTIONS"),
                       request.version(), false);
        break;
      }
      if (request.method() == http::verb::get &&
          PathOf(request.target()) == "/api/v1/events/stream") {
        HttpRequest req = FromBeast(request);
        auto opened = router_.OpenEventStream(req);
        metrics_.ObserveRequest("GET", "/api/v1/events/stream",
                                opened ? 200 : StatusOf(opened.error().code), 0);
        if (!opened) {
          if (!co_await Reply(stream, Problem(opened.error()), request.version(),
                              request.keep_alive()))
            break;
          continue;
        }
        co_await StreamEvents(stream, request.version(), req, opened->after);
        break;
      }
      const auto start = std::chrono::steady_clock::now();
      ++in_flight_;
      HttpRequest req = FromBeast(request);
      // HEAD is GET without the body (RFC 9110 §9.3.2): routed as GET, answered with its headers.
      const bool head_only = request.method() == http::verb::head;
      if (head_only) req.method = "GET";
      const std::string route = Router::RouteOf(req);
      HttpResponse response = co_await AsyncHandle(router_, std::move(req), asio::use_awaitable);
      const auto micros =
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
      const int status = response.status;
      metrics_.ObserveRequest(std::string(method), route, status, micros);
      // One structured access line a request: the route template, never the target's ids or a
      // header, so no token and no personal data reach the log.
      if (status >= 500) {
        spdlog::error("access method={} route={} status={} us={} remote={}", method, route, status,
                      micros, remote);
      } else {
        spdlog::info("access method={} route={} status={} us={} remote={}", method, route, status,
                     micros, remote);
      }
      const bool keep_alive = request.keep_alive() && !stopping_;
      bool ok =
          co_await Reply(stream, std::move(response), request.version(), keep_alive, head_only);
      --in_flight_;
      if (!ok || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    --connections_;
    metrics_.ConnectionClosed();
  }

  // POST /api/v1/attachments (issue 18): the body goes into the store a piece at a time
  // (AttachmentSink) and is never held whole; the attachment limit, not the JSON one, applies;
  // the read timeout is for each piece, so a large file on a slow link is not cut off while it
  // moves. A refused upload is answered before its body is read, then the connection lingers
  // (so that a client sending the whole body first reads the answer) and closes. Answers
  // whether the connection may go on.
  asio::awaitable<bool> Upload(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& header_parser,
                               const std::string& remote) {
    const auto start = std::chrono::steady_clock::now();
    ++in_flight_;
    const HttpRequest head = FromBeast(header_parser.get());
    const unsigned version = header_parser.get().version();
    const bool keep_alive = header_parser.get().keep_alive() && !stopping_;
    HttpResponse response;
    bool body_read = false;
    auto sink = router_.OpenUpload(head);
    if (!sink) {
      response = Problem(sink.error());
    } else if (header_parser.is_done()) {  // an empty body
      body_read = true;
      response = (*sink)->Finish();
    } else {
      // A client that waits for leave to send the body (Expect: 100-continue, curl's way with
      // large files) gets it now that the head is accepted; a refused one got its final answer
      // above instead (RFC 9110 §10.1.1).
      if (beast::iequals(head.Header("expect"), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(options_.read_timeout);
        auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kUseTuple);
        if (cec) {
          sink->reset();
          --in_flight_;
          co_return false;
        }
      }
      http::request_parser<http::buffer_body> body_parser{std::move(header_parser)};
      body_parser.body_limit(boost::none);  // the sink keeps the attachment limit
      std::vector<char> piece(64 * 1024);
      std::optional<engine::Error> refused;
      bool gone = false;
      while (!body_parser.is_done()) {
        body_parser.get().body().data = piece.data();
        body_parser.get().body().size = piece.size();
        stream.expires_after(options_.read_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, body_parser, kUseTuple);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
          gone = true;  // the client went, stalled or sent no HTTP: the upload is dropped
          break;
        }
        const std::size_t got = piece.size() - body_parser.get().body().size;
        if (auto w = (*sink)->Write(std::string_view(piece.data(), got)); !w) {
          refused = w.error();
          break;
        }
      }
      if (gone) {
        sink->reset();
        --in_flight_;
        co_return false;
      }
      if (refused) {
        response = Problem(*refused);
      } else {
        body_read = true;
        response = (*sink)->Finish();
      }
    }
    if (sink) sink->reset();  // an upload not finished leaves nothing
    const auto micros =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count());
    metrics_.ObserveRequest("POST", "/api/v1/attachments", response.status, micros);
    spdlog::info("access method=POST route=/api/v1/attachments status={} us={} remote={}",
                 response.status, micros, remote);
    const bool go_on = keep_alive && body_read;
    const bool sent = co_await Reply(stream, std::move(response), version, go_on);
    --in_flight_;
    if (sent && !body_read) co_await LingeringClose(stream);
    co_return sent&& go_on;
  }

  // Server-Sent Events from `after` on, live, until the client goes, is too slow, or we stop.
  // The opening request is authenticated again before each write: a token revoked meanwhile ends
  // the stream at once, as it ends every other request.
  asio::awaitable<void> StreamEvents(beast::tcp_stream& stream, unsigned version,
                                     const HttpRequest& opening, std::uint64_t after) {
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "expertflow");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    // A reverse proxy (nginx) must pass each event on at once, not buffer the stream.
    res.set("X-Accel-Buffering", "no");
    res.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{res};
    stream.expires_after(options_.sse_write_timeout);
    auto [hec, hn] = co_await http::async_write_header(stream, serializer, kUseTuple);
    if (hec) co_return;
    // How long a client waits before it reconnects (with Last-Event-ID, from where it was).
    static constexpr std::string_view kRetry = "retry: 3000\n\n";
    stream.expires_after(options_.sse_write_timeout);
    auto [rec, rn] = co_await asio::async_write(stream, asio::buffer(kRetry), kUseTuple);
    if (rec) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto last_write = std::chrono::steady_clock::now();
    while (!stopping_) {
      auto opened = router_.OpenEventStream(opening);
      if (!opened) co_return;
      auto [text, last] = router_.NextEventMessages(opened->principal, after, 256);
      // Events this principal may not see were passed over: the stream moves on past them.
      const bool passed_over = last != after;
      after = last;
      if (text.empty() && std::chrono::steady_clock::now() - last_write >= options_.sse_heartbeat) {
        text = ": heartbeat\n\n";
      }
      if (!text.empty()) {
        stream.expires_after(options_.sse_write_timeout);
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(text), kUseTuple);
        if (ec) co_return;  // gone, or too slow: cut off
        last_write = std::chrono::steady_clock::now();
        continue;
      }
      if (passed_over) {
        // More to look through: let the thread's other connections go first.
        co_await asio::post(co_await asio::this_coro::executor, kUseTuple);
        continue;
      }
      timer.expires_after(options_.sse_poll);
      co_await timer.async_wait(kUseTuple);
    }
  }

  // After answering a request whose body (or headers) were not read to the end: many clients
  // (Python's urllib, most SDKs) send the whole body before they read, and a close with their
  // bytes unread makes the kernel reset the connection, which destroys the answer before they
  // read it. So the sending side is shut (the answer is complete) and what still comes is read
  // and discarded, for at most kLingerTime and kLingerBytes, before the close (RFC 9112 §9.6).
  static constexpr auto kLingerTime = std::chrono::seconds(2);
  static constexpr std::size_t kLingerBytes = 64 << 20;
  asio::awaitable<void> LingeringClose(beast::tcp_stream& stream) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    stream.expires_after(kLingerTime);
    std::array<char, 16384> sink;
    for (std::size_t discarded = 0; discarded < kLingerBytes;) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
      if (rec) break;  // the client's end of stream, an error, or the time is up
      discarded += n;
    }
  }

  asio::awaitable<bool> Reply(beast::tcp_stream& stream, HttpResponse response, unsigned version,
                              bool keep_alive, bool head_only = false) {
    if (response.pieces)
      co_return co_await ReplyInPieces(stream, std::move(response), version, keep_alive, head_only);
    auto res = ToBeast(std::move(response), version, keep_alive);
    stream.expires_after(options_.read_timeout);
    if (head_only) {
      // The Content-Length of the GET, and no body.
      http::response_serializer<http::string_body> serializer{res};
      auto [ec, n] = co_await http::async_write_header(stream, serializer, kUseTuple);
      co_return !ec;
    }
    auto [ec, n] = co_await http::async_write(stream, res, kUseTuple);
    co_return !ec;
  }

  // An answer whose body is made a piece at a time (HttpResponse::pieces): each piece goes out
  // as a chunk (RFC 9112 §7.1), or for an HTTP/1.0 client as plain bytes up to the close, and
  // the next is made only when the client has taken it, so a slow reader holds one piece. A
  // client that takes nothing for sse_write_timeout is cut off; so is the answer when the server
  // stops or a piece fails, without the last chunk, so the client can tell it was cut short.
  asio::awaitable<bool> ReplyInPieces(beast::tcp_stream& stream, HttpResponse response,
                                      unsigned version, bool keep_alive, bool head_only) {
    auto res = HeaderOf<http::empty_body>(response, version);
    const bool chunked = version >= 11;
    if (chunked) res.chunked(true);
    keep_alive = keep_alive && chunked;  // HTTP/1.0: the close ends the body
    res.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> serializer{res};
    stream.expires_after(options_.sse_write_timeout);
    auto [hec, hn] = co_await http::async_write_header(stream, serializer, kUseTuple);
    if (hec) co_return false;
    if (head_only) co_return keep_alive;
    while (true) {
      if (stopping_) co_return false;
      auto piece = response.pieces();
      if (!piece) {
        spdlog::warn("an answer was cut short: {}", piece.error().ToString());
        co_return false;
      }
      if (piece->empty()) break;
      stream.expires_after(options_.sse_write_timeout);
      auto [ec, n] = chunked ? co_await asio::async_write(
                                   stream, http::make_chunk(asio::buffer(*piece)), kUseTuple)
                             : co_await asio::async_write(stream, asio::buffer(*piece), kUseTuple);
      if (ec) co_return false;
    }
    if (chunked) {
      stream.expires_after(options_.sse_write_timeout);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), kUseTuple);
      if (ec) co_return false;
    }
    co_return keep_alive;
  }

  Router& router_;
  Metrics& metrics_;
  ServerOptions options_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> in_flight_{0};
};

Server::Server(Router& router, Metrics& metrics, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, metrics, std::move(options))) {}
Server::~Server() = default;
engine::Result<std::uint16_t> Server::Start() { return impl_->Start(); }
void Server::Run(bool handle_signals) { impl_->Run(handle_signals); }
void Server::Stop() { impl_->Stop(); }

}  // namespace expertflow::api
