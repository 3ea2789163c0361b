// Attachments through the real server (issue 18): a file larger than any JSON body streamed in
// with Content-Length and chunked, served back whole once an event references it; a body over
// the limit answered 413 to a client that sends it all before reading; a server killed during
// an upload keeps nothing of it; `expertflow verify` re-hashes every file and names one altered
// on disk; a backup holds the files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "engine/core/hash.h"
#include "tests/app/binary.h"

namespace expertflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// POST /api/v1/attachments: the whole body sent (in 64 KiB writes) before the answer is read,
// as most clients do; chunked when asked.
std::string Upload(std::uint16_t port, const std::string& token, const std::string& bytes,
                   bool chunked = false, const std::string& type = "application/pdf") {
  const int fd = Connect(port);
  if (fd < 0) return "";
  std::string head =
      "POST /api/v1/attachments?name=scan.pdf HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\nAuthorization: Bearer " +
      token + "\r\nContent-Type: " + type + "\r\n";
  head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                  : "Content-Length: " + std::to_string(bytes.size()) + "\r\n\r\n";
  bool sent = SendAll(fd, head);
  for (std::size_t at = 0; sent && at < bytes.size(); at += 65536) {
    const std::string_view piece = std::string_view(bytes).substr(at, 65536);
    if (chunked) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      sent = SendAll(fd, size) && SendAll(fd, piece) && SendAll(fd, "\r\n");
    } else {
      sent = SendAll(fd, piece);
    }
  }
  if (sent && chunked) SendAll(fd, "0\r\n\r\n");
  std::string answer = ReadAll(fd);
  ::close(fd);
  return answer;
}

// The body of a chunked answer, decoded.
std::string Dechunk(const std::string& response) {
  std::string body = BodyOf(response), out;
  if (response.find("chunked") == std::string::npos) return body;
  for (std::size_t at = 0; at < body.size();) {
    const auto eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    const std::size_t n = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (n == 0) break;
    out += body.substr(eol + 2, n);
    at = eol + 2 + n + 2;
  }
  return out;
}

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

class AttachmentServer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("expertflow-attach-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    data = dir / "data";
    const std::string d = " --data " + data.string();
    assoc = FirstLine(RunCli("token issue" + d + " --org assoc-05 --role association_member").out);
    umc = FirstLine(RunCli("token issue" + d + " --org umc-05 --role umc_lead").out);
    other = FirstLine(RunCli("token issue" + d + " --org umc-12 --role umc_lead").out);
  }
  void TearDown() override {
    Stop(SIGTERM);
    fs::remove_all(dir);
  }
  // Each start logs to a file of its own: a restart must not find the last one's "listening".
  void Start(const std::vector<std::string>& extra = {}) {
    const fs::path log = dir / ("server" + std::to_string(++starts) + ".log");
    server = StartServer(data, log, extra);
    ASSERT_NE(server.port, 0) << ReadFile(log);
  }
  void Stop(int signal) {
    if (server.pid > 0) {
      ::kill(server.pid, signal);
      ::waitpid(server.pid, nullptr, 0);
      server.pid = -1;
    }
  }
  std::size_t StoredFiles() {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(data / "attachments", ec))
      if (e.is_regular_file()) ++n;
    return n;
  }
  // A draft of the association referencing the uploaded file.
  int DraftWith(const json& uploaded) {
    json d = {
        {"workflow", "industry_proposal"},
        {"payload",
         {{"title", "t"},
          {"topic", "infrastructure"},
          {"summary", "s"},
          {"attachments",
           {{{"name", "scan.pdf"}, {"uri", uploaded["uri"]}, {"sha256", uploaded["sha256"]}}}}}}};
    return StatusOf(Http(server.port, "POST", "/api/v1/proposals", assoc, d.dump()));
  }

  fs::path dir, data;
  std::string assoc, umc, other;
  ServerProcess server;
  int starts = 0;
};

TEST_F(AttachmentServer, AFileLargerThanAnyJsonBodyIsStreamedInAndServedBackWhole) {
  Start();
  const std::string bytes = RandomBytes(9 << 20, 1);  // 9 MiB: nine times a JSON body's limit
  const std::string answer = Upload(server.port, umc, bytes);
  ASSERT_EQ(StatusOf(answer), 201) << answer.substr(0, 400);
  const json stored = json::parse(BodyOf(answer));
  EXPECT_EQ(stored["sha256"], engine::ToHex(engine::Sha256(bytes)));
  EXPECT_EQ(stored["size"], bytes.size());
  // Chunked, the same content: stored once.
  const std::string again = Upload(server.port, umc, bytes, /*chunked=*/true);
  ASSERT_EQ(StatusOf(again), 200) << again.substr(0, 400);
  EXPECT_EQ(json::parse(BodyOf(again))["sha256"], stored["sha256"]);
  EXPECT_EQ(StoredFiles(), 2u) << "the file and its .meta";
  const std::string uri = stored["uri"];
  EXPECT_EQ(StatusOf(Http(server.port, "GET", uri, umc)), 404) << "referenced by no event yet";
  ASSERT_EQ(DraftWith(stored), 201);
  const std::string got = Http(server.port, "GET", uri, umc);
  ASSERT_EQ(StatusOf(got), 200) << got.substr(0, 400);
  EXPECT_NE(got.find("Content-Type: application/pdf"), std::string::npos);
  EXPECT_NE(got.find("Content-Disposition: attachment; filename=\"scan.pdf\""), std::string::npos);
  const std::string back = Dechunk(got);
  EXPECT_EQ(back.size(), bytes.size());
  EXPECT_TRUE(back == bytes);
  EXPECT_EQ(StatusOf(Http(server.port, "GET", uri, other)), 404);
  // A backup made by the running server holds the file.
  const std::string admin = FirstLine(ReadFile(data / "admin.token"));
  const std::string backup = Http(server.port, "POST", "/api/v1/admin/backup", admin, "{}");
  ASSERT_EQ(StatusOf(backup), 201) << backup;
  const fs::path copy = json::parse(BodyOf(backup))["path"].get<std::string>();
  Stop(SIGTERM);
  Output verified = RunCli("verify --data " + copy.string());
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_NE(verified.out.find("ok: 1 attachments"), std::string::npos) << verified.out;
  fs::remove_all(dir / "data-backups");
}

// curl sends a large file with Expect: 100-continue and waits for leave before the body.
TEST_F(AttachmentServer, AClientThatAsksToContinueIsToldToOrGivenTheRefusal) {
  Start({"--attachment-limit", "1"});
  const std::string bytes = RandomBytes(300000, 4);
  const auto head = [&](std::size_t length) {
    return "POST /api/v1/attachments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Authorization: Bearer " +
           umc + "\r\nContent-Type: video/mp4\r\nExpect: 100-continue\r\nContent-Length: " +
           std::to_string(length) + "\r\n\r\n";
  };
  int fd = Connect(server.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, head(bytes.size())));
  char buf[64] = {};
  const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(SendAll(fd, bytes));
  const std::string answer = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(StatusOf(answer), 201) << answer.substr(0, 300);
  // Too large: the final answer at once, and no body is asked for.
  fd = Connect(server.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, head(2 << 20)));
  const std::string refused = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(StatusOf(refused), 413) << refused.substr(0, 300);
}

TEST_F(AttachmentServer, OverTheLimitIs413ToAClientThatSendsEverythingFirst) {
  Start({"--attachment-limit", "1"});
  const std::string big = RandomBytes((1 << 20) + 1, 2);
  // Said by Content-Length: refused before the body is read.
  const std::string declared = Upload(server.port, umc, big);
  EXPECT_EQ(StatusOf(declared), 413) << declared.substr(0, 400);
  EXPECT_NE(BodyOf(declared).find("at most 1 MiB"), std::string::npos) << declared;
  // Chunked: refused at the piece that goes over.
  const std::string streamed = Upload(server.port, umc, big, /*chunked=*/true);
  EXPECT_EQ(StatusOf(streamed), 413) << streamed.substr(0, 400);
  // Exactly the limit is taken; nothing of the refused ones was kept.
  const std::string fits = Upload(server.port, umc, big.substr(0, 1 << 20));
  EXPECT_EQ(StatusOf(fits), 201) << fits.substr(0, 400);
  EXPECT_EQ(StoredFiles(), 2u);
  // A token is needed, and the type must be one.
  EXPECT_EQ(StatusOf(Upload(server.port, "nonsense", "x")), 401);
  EXPECT_EQ(StatusOf(Upload(server.port, umc, "x", false, "no type")), 415);
}

TEST_F(AttachmentServer, AServerKilledDuringAnUploadKeepsNothingOfIt) {
  Start();
  const std::string bytes = RandomBytes(4 << 20, 3);
  const int fd = Connect(server.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "POST /api/v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              umc + "\r\nContent-Type: image/png\r\nContent-Length: " +
                              std::to_string(bytes.size()) + "\r\n\r\n"));
  ASSERT_TRUE(SendAll(fd, std::string_view(bytes).substr(0, 3 << 20)));
  // The upload is under way: its bytes are in tmp/ and nowhere else.
  bool in_tmp = false;
  for (int i = 0; i < 200 && !in_tmp; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(data / "attachments" / "tmp", ec))
      in_tmp = in_tmp || (e.is_regular_file() && e.file_size() > 0);
    if (!in_tmp) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(in_tmp);
  Stop(SIGKILL);
  ::close(fd);
  Start();
  EXPECT_EQ(StoredFiles(), 0u) << "a half-written file was kept";
  EXPECT_TRUE(fs::is_empty(data / "attachments" / "tmp"));
  // The same upload, whole this time, is new.
  const std::string answer = Upload(server.port, umc, bytes, false, "image/png");
  EXPECT_EQ(StatusOf(answer), 201) << answer.substr(0, 400);
}

TEST_F(AttachmentServer, VerifyReHashesEveryFileAndNamesOneAlteredOnDisk) {
  Start();
  const std::string bytes = "the regional report, signed";
  const std::string answer = Upload(server.port, umc, bytes, false, "text/plain");
  ASSERT_EQ(StatusOf(answer), 201) << answer;
  const json stored = json::parse(BodyOf(answer));
  ASSERT_EQ(DraftWith(stored), 201);
  Stop(SIGTERM);
  Output fine = RunCli("verify --data " + data.string());
  EXPECT_EQ(fine.status, 0) << fine.out;
  const std::string sha = stored["sha256"];
  const fs::path file = data / "attachments" / sha.substr(0, 2) / sha;
  ASSERT_TRUE(fs::exists(file));
  std::ofstream(file, std::ios::trunc) << "the regional report, forged";
  Output altered = RunCli("verify --data " + data.string());
  EXPECT_EQ(altered.status, 3) << altered.out;
  EXPECT_NE(altered.out.find("BROKEN attachment " + sha), std::string::npos) << altered.out;
  EXPECT_NE(altered.out.find("altered"), std::string::npos) << altered.out;
  fs::remove(file);
  Output missing = RunCli("verify --data " + data.string());
  EXPECT_EQ(missing.status, 3) << missing.out;
  EXPECT_NE(missing.out.find("missing"), std::string::npos) << missing.out;
}

// An export carries the files its events reference; an import takes them only whole and
// re-hashed, and without them says what it left behind.
TEST_F(AttachmentServer, AnExportCarriesItsFilesAndAnImportReHashesThem) {
  Start();
  const std::string answer = Upload(server.port, umc, "the minutes of the meeting, scanned", false,
                                    "text/plain");
  ASSERT_EQ(StatusOf(answer), 201) << answer;
  const json stored = json::parse(BodyOf(answer));
  ASSERT_EQ(DraftWith(stored), 201);
  Stop(SIGTERM);
  const std::string sha = stored["sha256"];
  const fs::path out = dir / "export.ndjson", files = dir / "export-files";
  // The events to one file, what the export says to another.
  const fs::path said = dir / "export.err";
  RunCli("export --data " + data.string() + " --attachments " + files.string() + " 2>" +
         said.string() + " | cat > " + out.string());
  EXPECT_NE(ReadFile(said).find("1 attachments written"), std::string::npos) << ReadFile(said);
  ASSERT_TRUE(fs::exists(files / sha.substr(0, 2) / sha));
  const auto import_into = [&](const std::string& name, const std::string& extra) {
    return RunCli("import " + out.string() + " --data " + (dir / name).string() + extra);
  };
  Output whole = import_into("copy", " --attachments " + files.string());
  ASSERT_EQ(whole.status, 0) << whole.out;
  EXPECT_NE(whole.out.find("1 attachments imported"), std::string::npos) << whole.out;
  Output verified = RunCli("verify --data " + (dir / "copy").string());
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_NE(verified.out.find("ok: 1 attachments"), std::string::npos) << verified.out;
  // Without the files: the events are imported, and it says what it left behind.
  Output bare = import_into("bare", "");
  ASSERT_EQ(bare.status, 0) << bare.out;
  EXPECT_NE(bare.out.find("1 attachments are referenced but their files were not imported"),
            std::string::npos)
      << bare.out;
  EXPECT_EQ(RunCli("verify --data " + (dir / "bare").string()).status, 3);
  // A file altered in the export, or missing from it: nothing is imported.
  const fs::path file = files / sha.substr(0, 2) / sha;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(file, std::ios::trunc) << "the minutes of another meeting";
  Output altered = import_into("altered", " --attachments " + files.string());
  EXPECT_EQ(altered.status, 3) << altered.out;
  EXPECT_NE(altered.out.find("altered"), std::string::npos) << altered.out;
  EXPECT_FALSE(fs::exists(dir / "altered"));
  fs::remove(file);
  Output missing = import_into("missing", " --attachments " + files.string());
  EXPECT_EQ(missing.status, 3) << missing.out;
  EXPECT_NE(missing.out.find("is not in"), std::string::npos) << missing.out;
  EXPECT_FALSE(fs::exists(dir / "missing"));
}

}  // namespace
}  // namespace expertflow::testing
