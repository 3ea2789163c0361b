// The C++ side of the interoperability test of engine/core/note with Go's own implementation
// (golang.org/x/mod/sumdb/note, through the note_interop program built from main.go here):
//
//   1. a note the engine signed verifies in Go, and the same note tampered with does not;
//   2. Go signs a text with a private key the engine generated, and the engine verifies Go's
//      signature (which is byte for byte the engine's own: Ed25519 is deterministic);
//   3. a key pair Go generated parses here into the same verifier key;
//   4. a checkpoint the engine formatted parses with Go's tlog.ParseTree to the same size and root.
//
// Usage: note_interop_driver <note_interop program> <work folder>. Exits 0 when every direction
// holds, 1 otherwise, saying which failed.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "engine/core/note.h"

namespace {

using namespace expertflow::engine;

std::filesystem::path g_dir;
std::string g_go;
int g_failures = 0;
std::string g_last_stderr;  // what the Go program last said on stderr

void Check(bool ok, const std::string& what) {
  std::cout << (ok ? "ok      " : "FAILED  ") << what << "\n";
  if (!ok) {
    ++g_failures;
    if (!g_last_stderr.empty()) std::cout << "        (Go said: " << g_last_stderr << ")\n";
  }
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the Go program with `args` (quoted here), `input` on its stdin; returns its exit status
// and fills `output` with its stdout (its stderr is kept for a failure's report).
int RunGo(const std::string& args, const std::string& input, std::string& output) {
  std::filesystem::path in = g_dir / "stdin";
  std::filesystem::path out = g_dir / "stdout";
  std::filesystem::path err = g_dir / "stderr";
  WriteFile(in, input);
  std::string command = Quote(g_go) + " " + args + " < " + Quote(in.string()) + " > " +
                        Quote(out.string()) + " 2> " + Quote(err.string());
  int status = std::system(command.c_str());
  output = ReadFile(out);
  g_last_stderr = ReadFile(err);
  while (!g_last_stderr.empty() && g_last_stderr.back() == '\n') g_last_stderr.pop_back();
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

Hash SampleRoot(std::uint8_t first) {
  Hash root{};
  for (std::size_t i = 0; i < root.size(); ++i) root[i] = static_cast<std::uint8_t>(first + i * 7);
  return root;
}

int Run() {
  auto key = note::GenerateKey("expertflow.example/interop");
  auto witness = note::GenerateWitnessKey("witness.example/interop");
  if (!key || !witness) {
    std::cerr << "cannot generate keys\n";
    return 1;
  }
  note::Checkpoint checkpoint{"expertflow.example/interop", 1234567, SampleRoot(3), {}};
  std::string text = note::FormatCheckpoint(checkpoint);
  auto line = note::SignNote(*key, text);
  auto cosignature = note::Cosign(*witness, text, 1700000000);
  if (!line || !cosignature) {
    std::cerr << "cannot sign\n";
    return 1;
  }
  std::string message = text + "\n" + *line;
  std::string vkey = note::VerifierKey(*key);
  std::string out;

  // 1. C++ signs, Go verifies.
  std::string verified =
      "verified " + key->name + " " + vkey.substr(key->name.size() + 1, 8) + "\n";
  int status = RunGo("verify " + Quote(vkey), message, out);
  Check(status == 0 && out == verified, "Go verifies a note the engine signed");
  std::string tampered = message;
  tampered[tampered.find("\n1234567\n") + 1] = '2';
  Check(RunGo("verify " + Quote(vkey), tampered, out) == 1 && out.empty(),
        "Go refuses that note tampered with");
  // A witness cosignature beside the log's signature: Go reads the line as a well-formed
  // signature of a key it does not know, and still verifies the log's.
  status = RunGo("verify " + Quote(vkey), message + *cosignature, out);
  Check(status == 0 && out == verified,
        "Go parses the engine's cosignature line as a note signature");

  // 2. Go signs with the engine's private key, C++ verifies.
  status = RunGo("sign " + Quote(note::EncodePrivateKey(*key)), text, out);
  auto parsed = note::ParseNote(out);
  Check(status == 0 && parsed && note::VerifyNote(note::VerifierOf(*key), *parsed),
        "the engine verifies a note Go signed with the engine's key");
  Check(out == message, "Go's signed note is byte for byte the engine's");

  // 3. Go generates a key, C++ reads it.
  status = RunGo("keygen " + Quote("go.example/interop"), "", out);
  auto newline = out.find('\n');
  bool keys_ok = false;
  if (status == 0 && newline != std::string::npos) {
    std::string go_skey = out.substr(0, newline);
    std::string go_vkey = out.substr(newline + 1, out.size() - newline - 2);
    auto go_key = note::ParsePrivateKey(go_skey);
    auto go_verifier = note::ParseVerifierKey(go_vkey);
    keys_ok = go_key && go_verifier && note::VerifierKey(*go_key) == go_vkey &&
              note::EncodePrivateKey(*go_key) == go_skey &&
              go_verifier->public_key == go_key->public_key;
    if (keys_ok) {
      // And the engine signs with Go's key for Go to verify.
      auto go_line = note::SignNote(*go_key, text);
      keys_ok = go_line && RunGo("verify " + Quote(go_vkey), text + "\n" + *go_line, out) == 0;
    }
  }
  Check(keys_ok, "the engine reads a key pair Go generated and signs with it for Go");

  // 4. C++ formats a checkpoint, Go's tlog parses it (the origin Go's sumdb tree expects).
  note::Checkpoint tree{"go.sum database tree", 99, SampleRoot(11), {}};
  status = RunGo("tree", note::FormatCheckpoint(tree), out);
  Check(status == 0 &&
            out == "99\n" +
                       note::Base64(std::string_view(
                           reinterpret_cast<const char*>(tree.root.data()), tree.root.size())) +
                       "\n",
        "Go's tlog.ParseTree reads a checkpoint the engine formatted");

  if (g_failures > 0) {
    std::cout << g_failures << " interoperability check(s) failed\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: note_interop_driver <note_interop program> <work folder>\n";
    return 2;
  }
  g_go = argv[1];
  g_dir = argv[2];
  std::filesystem::create_directories(g_dir);
  return Run();
}
