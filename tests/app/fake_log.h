#pragma once

// A tiny fake of the server's proof endpoints on a loopback port, for testing `expertflow audit`
// and `expertflow witness` without a server: its answers are made with the real Merkle tree and
// note signing from a list of records the test controls, and it can be made to lie.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/hash.h"
#include "engine/core/note.h"
#include "engine/log/merkle.h"

namespace expertflow::testing {

namespace note = engine::note;

class FakeLog {
 public:
  static constexpr const char* kToken = "fake-token-never-printed";

  FakeLog() {
    key = *note::GenerateKey(origin);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~FakeLog() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string LogKey() const { return note::VerifierKey(key); }

  // Appends `n` records (seq = size + 1 ...) with `tag` in them, and publishes the whole log.
  void Grow(int n, const std::string& tag = "a") {
    std::lock_guard lock(mu);
    for (int i = 0; i < n; ++i) {
      const auto seq = records.size() + 1;
      records.push_back(R"({"seq":)" + std::to_string(seq) + R"(,"type":"noted","tag":")" + tag +
                        "\"}");
    }
    published = records.size();
  }
  // Keeps the first `keep` records and appends `n` others (a rewrite), publishing the whole log.
  void Rewrite(std::uint64_t keep, int n, const std::string& tag) {
    {
      std::lock_guard lock(mu);
      records.resize(keep);
    }
    Grow(n, tag);
  }

  engine::Hash Root(std::uint64_t size) {
    if (size == 0) return engine::EmptyTreeRoot();
    auto leaves = Leaves();
    return *engine::TreeRoot(engine::LeafList(leaves), size);
  }

  // The checkpoint text of the published tree (or of `size`).
  std::string CheckpointText(std::optional<std::uint64_t> size = std::nullopt) {
    const std::uint64_t n = size.value_or(published);
    note::Checkpoint c{origin, n, root_override.value_or(Root(n)), {}};
    return note::FormatCheckpoint(c);
  }

  // The signed note served: the log's signature and the cosignatures posted for that text.
  std::string CheckpointMessage() {
    if (checkpoint_override) return *checkpoint_override;
    const std::string text = CheckpointText();
    std::string message = text + "\n" + *note::SignNote(key, text);
    if (auto it = cosignatures.find(text); it != cosignatures.end())
      for (const auto& line : it->second) message += line;
    return message;
  }

  // What the log answers; public so tests can change it between runs (under `mu`).
  std::mutex mu;
  std::string origin = "fake.example/log";
  note::SigningKey key;
  std::vector<std::string> records;
  std::uint64_t published = 0;
  std::optional<std::string> checkpoint_override;
  std::optional<engine::Hash> root_override;          // in the checkpoint only
  std::optional<engine::Hash> consistency_from_root;  // a lie about the old tree
  bool tamper_inclusion = false;                      // flips a byte of every inclusion proof
  std::optional<std::uint64_t> tamper_export_seq;     // that record changed in the export
  std::set<std::uint64_t> instance_seqs;              // the events of proposals/p1
  std::optional<note::Verifier> witness;              // whose cosignatures are accepted
  std::map<std::string, std::vector<std::string>> cosignatures;  // checkpoint text -> lines
  int posts = 0;                                                 // accepted cosignature posts
  std::vector<std::string> requests;                             // "METHOD target"
  std::uint16_t port = 0;

 private:
  std::vector<engine::Hash> Leaves() {
    std::vector<engine::Hash> leaves;
    for (const auto& r : records) leaves.push_back(engine::LeafHash(r));
    return leaves;
  }

  static std::string Hexes(const std::vector<engine::Hash>& hashes) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& h : hashes) a.push_back(engine::ToHex(h));
    return a.dump();
  }

  static std::map<std::string, std::string> Query(const std::string& target) {
    std::map<std::string, std::string> q;
    auto at = target.find('?');
    if (at == std::string::npos) return q;
    std::string rest = target.substr(at + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      if (eq != std::string::npos) q[pair.substr(0, eq)] = pair.substr(eq + 1);
      rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    }
    return q;
  }

  std::vector<engine::Hash> Inclusion(std::uint64_t index, std::uint64_t size) {
    auto leaves = Leaves();
    auto proof = *engine::InclusionProof(engine::LeafList(leaves), index, size);
    if (tamper_inclusion && !proof.empty()) proof[0][0] ^= 1;
    return proof;
  }

  struct Reply {
    int status = 200;
    std::string type = "application/json";
    std::string body;
  };

  Reply Handle(const std::string& method, const std::string& target, const std::string& auth,
               const std::string& body) {
    std::lock_guard lock(mu);
    requests.push_back(method + " " + target);
    if (auth != std::string("Bearer ") + kToken) return {401, "application/problem+json", "{}"};
    std::string path = target.substr(0, target.find('?'));
    if (path.starts_with("/base/")) path = path.substr(5);  // a server behind a path prefix
    auto q = Query(target);
    if (method == "GET" && path == "/api/v1/log/checkpoint") {
      if (published == 0 && !checkpoint_override)
        return {404, "application/problem+json", R"({"detail":"no checkpoint yet"})"};
      return {200, "text/plain; charset=utf-8", CheckpointMessage()};
    }
    if (method == "GET" && path == "/api/v1/log/proof/consistency") {
      const auto from = std::stoull(q["from_size"]), to = std::stoull(q["to_size"]);
      if (from == 0 || from > to || to > records.size()) return {400, "application/json", "{}"};
      auto leaves = Leaves();
      auto proof = *engine::ConsistencyProof(engine::LeafList(leaves), from, to);
      nlohmann::json j{{"from_size", from},
                       {"to_size", to},
                       {"from_root", engine::ToHex(consistency_from_root.value_or(Root(from)))},
                       {"to_root", engine::ToHex(Root(to))},
                       {"proof", nlohmann::json::parse(Hexes(proof))}};
      return {200, "application/json", j.dump()};
    }
    if (method == "GET" && path == "/api/v1/log/proof/inclusion") {
      const auto seq = std::stoull(q["seq"]), size = std::stoull(q["tree_size"]);
      if (seq == 0 || seq > size || size > records.size()) return {400, "application/json", "{}"};
      nlohmann::json j{{"seq", seq},
                       {"leaf_index", seq - 1},
                       {"tree_size", size},
                       {"leaf_hash", engine::ToHex(engine::LeafHash(records[seq - 1]))},
                       {"root", engine::ToHex(Root(size))},
                       {"proof", nlohmann::json::parse(Hexes(Inclusion(seq - 1, size)))}};
      return {200, "application/json", j.dump()};
    }
    if (method == "GET" && path == "/api/v1/audit/export") {
      const auto after = std::stoull(q["after"]), limit = std::stoull(q["limit"]);
      std::string out;
      engine::Hash chain = engine::kZeroHash;
      for (std::uint64_t seq = 1; seq <= records.size() && seq <= after + limit; ++seq) {
        chain = engine::ChainHash(chain, records[seq - 1]);
        if (seq <= after) continue;
        std::string record = records[seq - 1];
        if (tamper_export_seq == seq) record += " ";
        out += nlohmann::json{{"seq", seq}, {"hash", engine::ToHex(chain)}, {"record", record}}
                   .dump() +
               "\n";
      }
      return {200, "application/x-ndjson", out};
    }
    if (method == "GET" && path == "/api/v1/proposals/p1/events") {
      nlohmann::json events = nlohmann::json::array();
      for (auto seq : instance_seqs) {
        nlohmann::json e{{"seq", seq}, {"record", records[seq - 1]}};
        if (seq <= published)
          e["inclusion"] = {{"tree_size", published},
                            {"leaf_index", seq - 1},
                            {"proof", nlohmann::json::parse(Hexes(Inclusion(seq - 1, published)))}};
        else
          e["inclusion"] = nullptr;
        events.push_back(e);
      }
      nlohmann::json j{
          {"events", events}, {"next_after", nullptr}, {"checkpoint", CheckpointMessage()}};
      return {200, "application/json", j.dump()};
    }
    if (method == "POST" && path == "/api/v1/log/cosignatures") {
      auto j = nlohmann::json::parse(body, nullptr, false);
      if (!j.is_object() || !j["cosignature"].is_string() || !witness)
        return {422, "application/problem+json", "{}"};
      auto n = note::ParseNote(j["cosignature"].get<std::string>());
      if (!n || n->signatures.size() != 1 || !note::VerifyCosignature(*witness, *n) ||
          n->text != CheckpointText())
        return {422, "application/problem+json", R"({"detail":"does not verify"})"};
      cosignatures[n->text].push_back(n->signatures[0].line);
      ++posts;
      return {201, "application/json", "{}"};
    }
    return {404, "application/problem+json", "{}"};
  }

  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      std::string in;
      char buf[4096];
      std::size_t header_end = std::string::npos;
      std::size_t need = 0;
      for (;;) {
        if (header_end == std::string::npos) {
          header_end = in.find("\r\n\r\n");
          if (header_end != std::string::npos) {
            std::string lower = in.substr(0, header_end);
            for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
            auto cl = lower.find("content-length:");
            need =
                header_end + 4 + (cl == std::string::npos ? 0 : std::stoull(lower.substr(cl + 15)));
          }
        }
        if (header_end != std::string::npos && in.size() >= need) break;
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      if (header_end == std::string::npos) {
        ::close(c);
        continue;
      }
      const std::string head = in.substr(0, header_end);
      const auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
      const std::string method = head.substr(0, sp1), target = head.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string auth;
      std::string lower = head;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
      if (auto a = lower.find("\r\nauthorization: "); a != std::string::npos) {
        auto start = a + 17;
        auth = head.substr(start, head.find("\r\n", start) - start);
      }
      Reply r = Handle(method, target, auth, in.substr(header_end + 4));
      std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: " + r.type +
                        "\r\nContent-Length: " + std::to_string(r.body.size()) +
                        "\r\nConnection: close\r\n\r\n" + r.body;
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::shutdown(c, SHUT_WR);
      ::close(c);
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace expertflow::testing
