#pragma once

// Running the `expertflow` binary from tests: its command line, and a server process on a
// loopback port with a minimal HTTP client.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace expertflow::testing {

namespace fs = std::filesystem;

struct Output {
  int status = -1;
  std::string out;
};

inline Output RunCli(const std::string& args) {
  Output o;
  FILE* p = ::popen((std::string(EXPERTFLOW_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) o.out.append(buf, n);
  int status = ::pclose(p);
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A TCP connection to 127.0.0.1:port, or -1.
inline int Connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A minimal HTTP/1.1 exchange on a fresh connection (Connection: close).
inline std::string Http(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& token, const std::string& body = "") {
  const int fd = Connect(port);
  if (fd < 0) return "";
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty())
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// A server process: started on a free port, its output in `log`.
struct ServerProcess {
  pid_t pid = -1;
  std::uint16_t port = 0;
};

inline ServerProcess StartServer(const std::filesystem::path& data,
                                 const std::filesystem::path& log,
                                 const std::vector<std::string>& extra = {}) {
  ServerProcess s;
  std::vector<std::string> args = {
      EXPERTFLOW_BINARY, "serve",   "--data", data.string(),   "--listen",
      "127.0.0.1:0",     "--clock", "manual", "--clock-start", "2026-01-12T09:00:00Z",
      "--log-level",     "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  s.pid = ::fork();
  if (s.pid == 0) {
    std::freopen(log.c_str(), "w", stdout);
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    ::execv(EXPERTFLOW_BINARY, argv.data());
    ::_exit(127);
  }
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 400 && s.port == 0; ++i) {
    std::smatch m;
    const std::string text = ReadFile(log);
    if (std::regex_search(text, m, listening))
      s.port = static_cast<std::uint16_t>(std::stoi(m[1]));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return s;
}

// The status code of an HTTP answer, 0 when there was none.
inline int StatusOf(const std::string& response) {
  if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) return 0;
  return std::stoi(response.substr(9, 3));
}

// The body of an HTTP answer.
inline std::string BodyOf(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// A store in `data` holding `proposals` drafts of assoc-05 (titled "t"), made through a server
// that is stopped again; false when any step failed.
inline bool MakeStoreWithDrafts(const fs::path& data, const fs::path& log, int proposals) {
  const std::string assoc =
      RunCli("token issue --data " + data.string() + " --org assoc-05 --role association_member")
          .out.substr(0, 77);
  ServerProcess server = StartServer(data, log);
  if (server.port == 0) return false;
  bool ok = true;
  for (int i = 0; i < proposals && ok; ++i) {
    ok =
        StatusOf(Http(
            server.port, "POST", "/api/v1/proposals", assoc,
            R"({"workflow":"industry_proposal","payload":{"title":"t","topic":"infrastructure","summary":"s"}})")) ==
        201;
  }
  ::kill(server.pid, SIGTERM);
  ::waitpid(server.pid, nullptr, 0);
  return ok;
}

}  // namespace expertflow::testing
