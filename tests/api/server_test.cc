// The real server on a random loopback port: a workflow end to end over HTTP, hostile requests
// answered cleanly, and a graceful stop.
#include "api/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "tests/api/api_harness.h"

namespace expertflow::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class LiveServer : public ::testing::Test {
 protected:
  virtual api::ServerOptions Options() {
    api::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.read_timeout = std::chrono::seconds(2);
    o.idle_timeout = std::chrono::seconds(2);
    return o;
  }

  void SetUp() override {
    spdlog::set_level(
        spdlog::level::warn);  // one access line a request would drown the test output
    server_ = std::make_unique<api::Server>(w_.router(), w_.metrics(), Options());
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(false); });
  }
  // As `expertflow serve` stops: the server, then the sequencer, and only then is the server
  // destroyed. The sequencer keeps each answer's callback, which holds an executor of the
  // server's, until it drops the batch; destroyed after the server, it freed a strand of an
  // io_context already gone (ASan, heap-use-after-free, once in a CI run).
  void TearDown() override {
    server_->Stop();
    thread_.join();
    w_.sequencer().Stop();
    server_.reset();
  }

  // One request on a fresh connection.
  http::response<http::string_body> Send(http::verb verb, const std::string& target,
                                         const std::string& token, const std::string& body = "",
                                         const std::string& type = "application/json") {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, type);
    req.body() = body;
    req.prepare_payload();
    beast::error_code wec;
    http::write(stream, req, wec);  // the server may answer and close before the body is sent
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    return parser.release();
  }

  // Raw bytes in, the raw answer out (until the server closes).
  std::string Raw(const std::string& bytes) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    beast::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    ec = {};
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = socket.read_some(asio::buffer(buf), ec)) > 0 && !ec;)
      out.append(buf, n);
    return out;
  }

  ApiWorld w_;
  std::unique_ptr<api::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

json Parse(const http::response<http::string_body>& r) {
  return json::parse(r.body(), nullptr, false);
}

TEST_F(LiveServer, DrivesAnIndustryProposalToScalingOverHttp) {
  const std::string assoc = w_.Token("assoc-01", "association_member");
  const std::string umc = w_.Token("umc-01", "umc_lead");
  const std::string ftpo = w_.Token("ftpo-nnovgorod", "ftpo_coordinator");
  const std::string ministry = w_.Token("ministry", "ministry_official");
  const std::string irpo = w_.Token("irpo", "irpo_staff");
  const std::string fumo = w_.Token("fumo-14.00.00", "fumo_expert");
  const std::string employer = w_.Token("business-key-01", "business_expert");
  // Seed 001 §5.1: the association forms a position and sends it to its UMC.
  auto position =
      Send(http::verb::post, "/api/v1/positions", assoc,
           R"({"payload":{"title":"Позиция","topic":"standard_programme","summary":"s"}})");
  ASSERT_EQ(position.result_int(), 201) << position.body();
  const std::string pos = Parse(position)["id"];
  ASSERT_EQ(Send(http::verb::post, "/api/v1/positions/" + pos + "/commands", assoc,
                 R"({"command":"send_to_umc"})")
                .result_int(),
            200);
  // Consolidation is recorded by creating the proposal, never alone.
  EXPECT_EQ(Send(http::verb::post, "/api/v1/positions/" + pos + "/commands", umc,
                 R"({"command":"consolidate","payload":{"proposal":"x"}})")
                .result_int(),
            403);
  // §5.2: the UMC forms the draft from it; the position shows the proposal it went into.
  auto created = Send(http::verb::post, "/api/v1/proposals", umc,
                      R"({"workflow":"industry_proposal","payload":{"title":"Единый подход",)"
                      R"("topic":"standard_programme","summary":"s","ugps":["14.00.00"],)"
                      R"("positions":[")" +
                          pos + R"("]}})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  EXPECT_EQ(created[http::field::etag], "\"1\"");
  const std::string id = Parse(created)["id"];
  EXPECT_EQ(Parse(created)["workflow_version"], 2);
  auto consolidated = Parse(Send(http::verb::get, "/api/v1/positions/" + pos, assoc));
  EXPECT_EQ(consolidated["state"], "consolidated");
  EXPECT_EQ(consolidated["fields"]["proposal"], id);
  const std::string commands = "/api/v1/proposals/" + id + "/commands";
  auto step = [&](const std::string& token, const std::string& body) {
    auto r = Send(http::verb::post, commands, token, body);
    EXPECT_EQ(r.result_int(), 200) << body << " -> " << r.body();
    return Parse(r).value("state", "");
  };
  EXPECT_EQ(
      step(umc,
           R"({"command":"send_to_expertise","payload":{"experts":{"fumo":["fumo-14.00.00"]}}})"),
      "expertise");
  EXPECT_EQ(step(fumo, R"({"command":"submit_conclusion","payload":{"verdict":"approve"}})"),
            "expertise");
  EXPECT_EQ(step(irpo, R"({"command":"submit_conclusion","payload":{"verdict":"revise"}})"),
            "expertise");
  EXPECT_EQ(step(employer, R"({"command":"submit_conclusion","payload":{"verdict":"approve"}})"),
            "umc_decision");
  EXPECT_EQ(step(umc, R"({"command":"start_approbation","payload":{"plan":"p"}})"), "approbation");
  EXPECT_EQ(
      step(ftpo,
           R"({"command":"record_approbation","payload":{"outcome":"successful","report":"ok"}})"),
      "approbation");
  EXPECT_EQ(
      step(umc,
           R"({"command":"record_approbation","payload":{"outcome":"successful","report":"ok"}})"),
      "ministry_review");
  EXPECT_EQ(step(ministry, R"({"command":"approve"})"), "dissemination");
  EXPECT_EQ(step(ftpo, R"({"command":"plan_course","payload":{"number":"1","programme":"p",)"
                       R"("starts_on":"2026-02-01","ends_on":"2026-02-10","places":20}})"),
            "dissemination");
  EXPECT_EQ(step(ftpo, R"({"command":"record_course_result","payload":{"number":"1",)"
                       R"("teachers_trained":18}})"),
            "dissemination");
  EXPECT_EQ(step(ftpo, R"({"command":"complete"})"), "scaled");
  auto history = Send(http::verb::get, "/api/v1/proposals/" + id + "/events", irpo);
  EXPECT_EQ(Parse(history)["events"].size(), 14u);
  auto verify = Send(http::verb::get, "/api/v1/audit/verify", irpo);
  EXPECT_EQ(Parse(verify)["ok"], true);
}

TEST_F(LiveServer, DrivesFgosProposalAgreementAndProtocolOverHttp) {
  const std::string rumo = w_.Token("rumo-52", "rumo_member");
  const std::string rumo74 = w_.Token("rumo-74", "rumo_member");
  const std::string fumo = w_.Token("fumo-09.00.00", "fumo_expert");
  const std::string fumo_chair = w_.Token("fumo-09.00.00", "fumo_chair");
  const std::string rumo_chair = w_.Token("rumo-52", "rumo_chair");
  const std::string ministry = w_.Token("ministry", "ministry_official");
  const std::string region = w_.Token("roiv-52", "region_official");
  auto step = [&](const std::string& path, const std::string& token, const std::string& body) {
    auto r = Send(http::verb::post, path, token, body);
    EXPECT_EQ(r.result_int(), 200) << body << " -> " << r.body();
    return Parse(r).value("state", "");
  };
  // FGOS proposal (version 2, a version 1 body): RUMO -> FUMO -> expertise with another RUMO and
  // the FUMO -> ministry.
  auto f = Send(
      http::verb::post, "/api/v1/proposals", rumo,
      R"({"workflow":"fgos_proposal","payload":{"title":"t","ugps":"09.00.00","standard":"s","summary":"s"}})");
  ASSERT_EQ(f.result_int(), 201) << f.body();
  const std::string fc = "/api/v1/proposals/" + Parse(f)["id"].get<std::string>() + "/commands";
  EXPECT_EQ(step(fc, rumo, R"({"command":"submit_to_fumo"})"), "fumo_review");
  EXPECT_EQ(step(fc, fumo, R"({"command":"open_expertise","payload":{"experts":["rumo-74"]}})"),
            "expertise");
  EXPECT_EQ(step(fc, rumo74, R"({"command":"submit_conclusion","payload":{"verdict":"approve"}})"),
            "expertise");
  EXPECT_EQ(step(fc, fumo, R"({"command":"submit_conclusion","payload":{"verdict":"approve"}})"),
            "expertise_review");
  EXPECT_EQ(step(fc, fumo, R"({"command":"send_to_ministry"})"), "ministry_review");
  EXPECT_EQ(step(fc, ministry, R"({"command":"approve"})"), "accepted");
  // Agreement (version 2, a version 1 body): both chairs sign, then a termination notice.
  auto a = Send(
      http::verb::post, "/api/v1/agreements", fumo,
      R"({"payload":{"fumo":"fumo-09.00.00","rumo":"rumo-52","ugps":"09.00.00","city":"Нижний Новгород"}})");
  ASSERT_EQ(a.result_int(), 201) << a.body();
  const std::string ac = "/api/v1/agreements/" + Parse(a)["id"].get<std::string>() + "/commands";
  EXPECT_EQ(step(ac, fumo_chair, R"({"command":"sign"})"), "draft");
  EXPECT_EQ(step(ac, rumo_chair, R"({"command":"sign"})"), "active");
  EXPECT_EQ(step(ac, rumo_chair,
                 R"({"command":"notify_termination","payload":{"effective_date":"2026-12-31",)"
                 R"("notice":{"date":"2026-01-12","attachment":{"name":"n.pdf","uri":"u"}}}})"),
            "terminating");
  // Protocol: one assignment reported and accepted.
  auto p = Send(
      http::verb::post, "/api/v1/protocols", ministry,
      R"({"number":"Д05-98/05пр","date":"2026-01-10","title":"Совещание","items":[{"title":"Пункт",)"
      R"("decisions":[{"text":"Отчёт","assignees":["roiv-52"],"deadline":{"due":"2026-02-01"}}]}]})");
  ASSERT_EQ(p.result_int(), 201) << p.body();
  const std::string ic =
      "/api/v1/assignments/" + Parse(p)["assignments"][0].get<std::string>() + "/commands";
  EXPECT_EQ(step(ic, region, R"({"command":"submit_report","payload":{"text":"Исполнено"}})"),
            "reported");
  EXPECT_EQ(step(ic, ministry, R"({"command":"accept_report"})"), "done");
  auto discipline = Send(http::verb::get, "/api/v1/stats/discipline", ministry);
  EXPECT_EQ(Parse(discipline)["items"][0]["done_on_time"], 1);
}

TEST_F(LiveServer, AnswersHostileRequestsAndKeepsServing) {
  const std::string umc = w_.Token("umc-01", "umc_lead");
  const auto head = w_.Head();
  auto big = Send(http::verb::post, "/api/v1/proposals", umc, std::string(2 << 20, 'x'));
  EXPECT_EQ(big.result_int(), 413);
  auto wrong_type = Send(http::verb::post, "/api/v1/proposals", umc, "{}", "text/plain");
  EXPECT_EQ(wrong_type.result_int(), 415);
  EXPECT_EQ(wrong_type[http::field::content_type], "application/problem+json");
  std::string garbage = Raw("NONSENSE\r\n\r\n");
  EXPECT_NE(garbage.find("400"), std::string::npos) << garbage;
  std::string huge_header =
      Raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
  EXPECT_NE(huge_header.find("431"), std::string::npos) << huge_header.substr(0, 100);
  EXPECT_NE(huge_header.find("\"status\":431"), std::string::npos) << "the body says 431 too";
  EXPECT_EQ(Send(http::verb::get, "/healthz", "").result_int(), 200) << "still serving";
  EXPECT_EQ(w_.Head(), head) << "nothing appended";
}

// A client that sends its whole body before it reads (Python's urllib, many SDKs) still reads
// the 413: the server discards the rest for a bounded time instead of resetting the connection.
TEST_F(LiveServer, AnswersABodyOverTheLimitToAClientThatSendsItAllFirst) {
  const std::string umc = w_.Token("umc-01", "umc_lead");
  for (int attempt = 0; attempt < 3; ++attempt) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    const std::string body(16 << 20, 'x');
    const std::string head =
        "POST /api/v1/proposals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + umc +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n";
    beast::error_code ec;
    asio::write(socket, asio::buffer(head), ec);
    ASSERT_FALSE(ec) << ec.message();
    asio::write(socket, asio::buffer(body), ec);
    EXPECT_FALSE(ec) << "attempt " << attempt << ": the body was cut off: " << ec.message();
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res, ec);
    ASSERT_FALSE(ec) << "attempt " << attempt << ": the answer was lost: " << ec.message();
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_EQ(Parse(res).value("code", ""), "payload_too_large") << res.body();
  }
  EXPECT_EQ(Send(http::verb::get, "/healthz", "").result_int(), 200) << "still serving";
}

TEST_F(LiveServer, CutsOffASlowClientAndServesOthersMeanwhile) {
  // Slowloris: a request line, then one header byte at a time. The whole request must arrive
  // within the read timeout (2 s here), or the connection is closed.
  asio::io_context ioc;
  tcp::socket slow(ioc);
  slow.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  asio::write(slow, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
  const auto start = std::chrono::steady_clock::now();
  beast::error_code ec;
  for (int i = 0; i < 40 && !ec; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    asio::write(slow, asio::buffer(std::string("X")), ec);
    EXPECT_EQ(Send(http::verb::get, "/healthz", "").result_int(), 200)
        << "others are served meanwhile";
  }
  char buf[64];
  if (!ec) slow.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec) << "the slow connection must be closed";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(7));
}

TEST_F(LiveServer, ManyIdleConnectionsDoNotStopService) {
  asio::io_context ioc;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 300; ++i) {
    idle.emplace_back(ioc);
    idle.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Send(http::verb::get, "/healthz", "").result_int(), 200);
  // Idle connections are closed after the idle timeout (2 s here).
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  char buf[16];
  beast::error_code ec;
  idle.front().read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec) << "an idle connection outlived its timeout";
}

TEST_F(LiveServer, StreamsEventsAsServerSentEvents) {
  const std::string assoc = w_.Token("assoc-01", "association_member");
  const std::string auditor = w_.Token("audit", "auditor");
  Send(
      http::verb::post, "/api/v1/proposals", assoc,
      R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"standard_programme","summary":"s"}})");
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  const std::string req =
      "GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + auditor +
      "\r\nLast-Event-ID: 0\r\n\r\n";
  asio::write(socket, asio::buffer(req));
  std::string got;
  char buf[4096];
  while (got.find("\n\n", got.find("data: ")) == std::string::npos) {
    beast::error_code ec;
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  // Behind a proxy the events pass at once; a client knows when to reconnect (issue 20).
  EXPECT_NE(got.find("X-Accel-Buffering: no"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\n\r\nretry: 3000\n\n"), std::string::npos) << got;
  EXPECT_NE(got.find("id: 1\nevent: ProposalDrafted\ndata: {"), std::string::npos) << got;
  // A live append reaches the open stream.
  Send(
      http::verb::post, "/api/v1/proposals", assoc,
      R"({"workflow":"industry_proposal","payload":{"title":"t2","topic":"standard_programme","summary":"s"}})");
  while (got.find("id: 2\n") == std::string::npos) {
    beast::error_code ec;
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  EXPECT_NE(got.find("id: 2\nevent: ProposalDrafted"), std::string::npos);
}

// The export without a limit goes out chunked (its length is not known when it starts), and the
// connection serves the next request after its last chunk; an HTTP/1.0 client, which knows no
// chunks, gets the bytes up to the close.
TEST_F(LiveServer, StreamsTheWholeExportChunked) {
  const std::string assoc = w_.Token("assoc-01", "association_member");
  const std::string auditor = w_.Token("audit", "auditor");
  for (int i = 0; i < 1200; ++i) {
    ASSERT_EQ(
        w_.Post("/api/v1/proposals", assoc,
                {{"workflow", "industry_proposal"},
                 {"payload", {{"title", "t"}, {"topic", "standard_programme"}, {"summary", "s"}}}})
            .status,
        201);
  }
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  beast::flat_buffer buffer;
  for (int round = 0; round < 2; ++round) {  // two answers on one kept-alive connection
    http::request<http::empty_body> req{http::verb::get, "/api/v1/audit/export", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + auditor);
    http::write(stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(stream, buffer, parser);
    auto res = parser.release();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res.chunked());
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(res[http::field::content_type], "application/x-ndjson");
    const std::string& body = res.body();
    EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 1200);
    EXPECT_EQ(json::parse(body.substr(body.rfind('\n', body.size() - 2) + 1))["seq"], 1200);
  }
  // HTTP/1.0: no chunks, the close ends the body
  std::string old =
      Raw("GET /api/v1/audit/export HTTP/1.0\r\nAuthorization: Bearer " + auditor + "\r\n\r\n");
  ASSERT_NE(old.find("\r\n\r\n"), std::string::npos) << old.substr(0, 200);
  const std::string head = old.substr(0, old.find("\r\n\r\n"));
  EXPECT_EQ(head.find("chunked"), std::string::npos) << head;
  const std::string body = old.substr(old.find("\r\n\r\n") + 4);
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 1200);
  EXPECT_EQ(body.substr(0, 9), "{\"seq\":1,");
}

// RFC 9112 §6.3: a transfer coding whose last is not chunked leaves the length unknown; the bytes
// after the headers must never be read as a request of their own (smuggling).
TEST_F(LiveServer, RefusesATransferCodingThatDoesNotEndInChunked) {
  const std::string irpo = w_.Token("irpo", "irpo_staff");
  for (const char* coding : {"chunked, identity", "identity", "xchunked"}) {
    std::string smuggled =
        "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + irpo + "\r\n\r\n";
    std::string got = Raw(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") +
                          coding + "\r\nContent-Type: text/plain\r\n\r\n" + smuggled);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << coding << ": " << got.substr(0, 60);
    EXPECT_EQ(got.find("HTTP/1.1", 1), std::string::npos) << coding << ": a second answer";
    EXPECT_EQ(got.find("irpo_staff"), std::string::npos) << "the smuggled request ran";
  }
  auto chunked =
      Raw("POST /api/v1/proposals HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          "Connection: close\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 401", 0), 0u) << "plain chunked is read as ever";
}

TEST_F(LiveServer, AnswersUnknownMethodsWithoutGrowingMetricsOrLogs) {
  for (int i = 0; i < 20; ++i) {
    std::string method = std::string(8000, 'A') + std::to_string(i);
    std::string got = Raw(method + " /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(got.rfind("HTTP/1.1 501", 0), 0u) << got.substr(0, 60);
    EXPECT_NE(got.find("\"code\":\"not_implemented\""), std::string::npos);
  }
  auto metrics = Send(http::verb::get, "/metrics", "");
  EXPECT_LT(metrics.body().size(), 64u * 1024) << "one series per method name";
  EXPECT_EQ(metrics.body().find("AAAA"), std::string::npos);
  EXPECT_NE(metrics.body().find("method=\"other\",route=\"other\",status=\"501\"} 20"),
            std::string::npos);
}

TEST_F(LiveServer, TimesEachRequestUnderItsMethodAndRoute) {
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send(http::verb::get, "/healthz", "").result_int(), 200);
  auto metrics = Send(http::verb::get, "/metrics", "");
  EXPECT_NE(metrics.body().find("expertflow_http_request_duration_seconds_count{method=\"GET\","
                                "route=\"/healthz\"} 2\n"),
            std::string::npos)
      << metrics.body();
}

TEST_F(LiveServer, RefusesTwoAuthorizationHeaders) {
  const std::string irpo = w_.Token("irpo", "irpo_staff");
  const std::string umc = w_.Token("umc-01", "umc_lead");
  std::string got = Raw("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + umc +
                        "\r\nAuthorization: Bearer " + irpo + "\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got.substr(0, 60);
  EXPECT_EQ(got.find("\"org\""), std::string::npos);
}

TEST_F(LiveServer, AnswersHeadWithTheHeadersOfGetAndNoBody) {
  std::string got = Raw("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  const auto end = got.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(got.size(), end + 4) << "no body: " << got;
  EXPECT_NE(got.find("Content-Length: 15"), std::string::npos) << got;  // {"status":"ok"}
}

TEST_F(LiveServer, OpensTheEventStreamOnItsExactPathOnly) {
  const std::string auditor = w_.Token("audit", "auditor");
  std::string got =
      Raw("GET /api/v1/events/streamANYTHING HTTP/1.1\r\nHost: x\r\n"
          "Authorization: Bearer " +
          auditor + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 404", 0), 0u) << got.substr(0, 60);
  EXPECT_EQ(got.find("text/event-stream"), std::string::npos);
}

TEST_F(LiveServer, EndsAnEventStreamWhenItsTokenIsRevoked) {
  const std::string assoc = w_.Token("assoc-01", "association_member");
  const std::string auditor = w_.Token("audit", "auditor");
  const std::string create =
      R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"standard_programme","summary":"s"}})";
  Send(http::verb::post, "/api/v1/proposals", assoc, create);
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  timeval tv{5, 0};  // a stream left open would hang the test: fail it instead
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(socket, asio::buffer("GET /api/v1/events/stream?after=0 HTTP/1.1\r\nHost: x\r\n"
                                   "Authorization: Bearer " +
                                   auditor + "\r\n\r\n"));
  std::string got;
  char buf[4096];
  beast::error_code ec;
  while (got.find("id: 1\n") == std::string::npos && !ec)
    got.append(buf, socket.read_some(asio::buffer(buf), ec));
  ASSERT_NE(got.find("id: 1\n"), std::string::npos) << got;
  auto revoked = w_.Call("DELETE", "/api/v1/tokens/" + auditor.substr(0, 12), w_.admin());
  ASSERT_EQ(revoked.status, 204);
  Send(http::verb::post, "/api/v1/proposals", assoc, create);
  const auto start = std::chrono::steady_clock::now();
  while (!ec) got.append(buf, socket.read_some(asio::buffer(buf), ec));
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4))
      << "closed, not timed out";
  EXPECT_EQ(got.find("id: 2\n"), std::string::npos) << "an event reached a revoked token";
}

// On a kept-alive connection the next request may be a long time coming (idle timeout); once its
// first byte is there, the whole of it must arrive within the read timeout.
class KeptAliveServer : public LiveServer {
 protected:
  api::ServerOptions Options() override {
    auto o = LiveServer::Options();
    o.read_timeout = std::chrono::seconds(1);
    o.idle_timeout = std::chrono::seconds(20);
    return o;
  }
};

TEST_F(KeptAliveServer, HoldsAStartedRequestOnlyForTheReadTimeout) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  timeval tv{15, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(socket, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string got;
  char buf[4096];
  beast::error_code ec;
  while (got.find("{\"status\":\"ok\"}") == std::string::npos && !ec)
    got.append(buf, socket.read_some(asio::buffer(buf), ec));
  ASSERT_FALSE(ec) << "kept alive";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // idle: longer than a read
  asio::write(socket, asio::buffer(std::string("GET /healthz HTTP/1.1\r\n")));  // and stalls
  const auto start = std::chrono::steady_clock::now();
  socket.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec) << "the connection must be closed";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "held for the idle timeout, not the read timeout";
}

}  // namespace
}  // namespace expertflow::testing
