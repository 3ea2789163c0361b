#pragma once

// The API over an in-memory log (or a given one), driven without sockets: requests go straight to
// the router.

#include <gtest/gtest.h>

#include <future>

#include "api/router.h"
#include "api/tokens.h"
#include "engine/log/memory_event_log.h"
#include "engine/runtime/sequencer.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow::testing {

using nlohmann::json;

struct Reply {
  int status = 0;
  std::string content_type;
  std::map<std::string, std::string> headers;
  std::string text;
  json body;
  // A body made a piece at a time (HttpResponse::pieces) is read whole into `text`, as a client
  // would: how many pieces it came in, and the error that cut it short, if one did.
  std::size_t pieces = 0;
  std::optional<engine::Error> cut_short;
};

// A stand-in for the dashboard's embedded files (web/).
inline constexpr engine::EmbeddedFile kTestSite[] = {
    {"index.html", "<!doctype html><title>dashboard</title>"},
    {"vendor/lib.js", "var lib = 1;"},
};

class ApiWorld {
 public:
  explicit ApiWorld(bool manual_clock_route = true, engine::EventLog* log = nullptr,
                    std::uint64_t max_attachment_bytes = std::uint64_t{64} << 20)
      : log_(log ? *log : memory_log_),
        clock_(*engine::ParseRfc3339("2026-01-12T09:00:00Z")),
        definitions_(*workflows::BuiltinDefinitions()),
        routing_(workflows::BuiltinRouting()),
        sequencer_(log_, definitions_, workflows::Builtin(), routing_, clock_, ids_),
        tokens_(log_, sequencer_.directory()),
        log_key_(*engine::note::GenerateKey("test.example/log")),
        witness_key_(*engine::note::GenerateWitnessKey("witness.example/w1")),
        checkpoints_(log_, log_key_, {engine::note::VerifierOf(witness_key_)}, clock_) {
    EXPECT_TRUE(sequencer_.Start());
    api::RouterOptions options;
    options.checkpoints = &checkpoints_;
    if (manual_clock_route) options.manual_clock = &clock_;
    options.static_files = kTestSite;
    options.attachments = &attachments_;
    options.max_attachment_bytes = max_attachment_bytes;
    router_ = std::make_unique<api::Router>(sequencer_, log_, tokens_, metrics_, options);
    admin_ = Token("admin", "admin");
  }

  std::string Token(const std::string& org, const std::string& role) {
    auto t = tokens_.Issue(org, role, "test", clock_.Now());
    EXPECT_TRUE(t) << (t ? "" : t.error().ToString());
    return t ? t->token : "";
  }

  Reply Call(const std::string& method, const std::string& target, const std::string& token,
             const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    return ToReply(Answer(method, target, token, body, std::move(headers)));
  }

  // The router's answer as it is, a streamed body not yet read.
  api::HttpResponse Answer(const std::string& method, const std::string& target,
                           const std::string& token, const std::string& body = "",
                           std::map<std::string, std::string> headers = {}) {
    api::HttpRequest req;
    req.method = method;
    req.target = target;
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
    if (!body.empty() || method == "POST") req.headers["content-type"] = "application/json";
    for (auto& [k, v] : headers) req.headers[k] = v;
    req.body = body;
    std::promise<api::HttpResponse> promise;
    auto future = promise.get_future();
    router_->Handle(std::move(req),
                    [&promise](api::HttpResponse r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  static Reply ToReply(api::HttpResponse r) {
    Reply out;
    out.status = r.status;
    out.content_type = r.content_type;
    for (auto& [k, v] : r.headers) out.headers[k] = v;
    out.text = r.body;
    while (r.pieces) {
      auto piece = r.pieces();
      if (!piece) {
        out.cut_short = piece.error();
        break;
      }
      if (piece->empty()) break;
      out.text += *piece;
      ++out.pieces;
    }
    if (r.content_type.find("json") != std::string::npos && !out.text.empty()) {
      out.body = json::parse(out.text, nullptr, false);
    }
    return out;
  }

  Reply Post(const std::string& target, const std::string& token, const json& body,
             std::map<std::string, std::string> headers = {}) {
    return Call("POST", target, token, body.dump(), std::move(headers));
  }
  Reply Get(const std::string& target, const std::string& token) {
    return Call("GET", target, token);
  }

  std::uint64_t Head() const { return log_.GetHead().seq; }
  const std::string& admin() const { return admin_; }
  engine::MemoryEventLog& log() { return memory_log_; }
  engine::ManualClock& clock() { return clock_; }
  engine::Sequencer& sequencer() { return sequencer_; }
  api::TokenStore& tokens() { return tokens_; }
  api::Router& router() { return *router_; }
  api::Metrics& metrics() { return metrics_; }
  // The log's signing key and the one witness it knows (docs/audit.md).
  const engine::note::SigningKey& log_key() const { return log_key_; }
  const engine::note::SigningKey& witness_key() const { return witness_key_; }
  engine::Checkpoints& checkpoints() { return checkpoints_; }
  engine::MemoryAttachments& attachments() { return attachments_; }

 private:
  engine::MemoryEventLog memory_log_;
  engine::MemoryAttachments attachments_;
  engine::EventLog& log_;
  engine::ManualClock clock_;
  engine::RandomIdGenerator ids_;
  engine::DefinitionSet definitions_;
  engine::RoutingTable routing_;
  engine::Sequencer sequencer_;
  api::TokenStore tokens_;
  engine::note::SigningKey log_key_;
  engine::note::SigningKey witness_key_;
  engine::Checkpoints checkpoints_;
  api::Metrics metrics_;
  std::unique_ptr<api::Router> router_;
  std::string admin_;
};

}  // namespace expertflow::testing
