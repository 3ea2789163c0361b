// docs/verify_export.py, the auditor's own check, run against a real export and a tampered one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/log/memory_event_log.h"

#ifndef EXPERTFLOW_SOURCE_DIR
#error "EXPERTFLOW_SOURCE_DIR must name the source tree"
#endif

namespace expertflow::engine {
namespace {

namespace fs = std::filesystem;

std::string Export(const EventLog& log, std::uint64_t tamper_seq = 0) {
  std::string out;
  (void)log.ForEach(
      1, log.GetHead().seq, [&](std::uint64_t seq, const Hash& hash, std::string_view record) {
        std::string rec(record);
        if (seq == tamper_seq) rec.replace(rec.find("approve"), 7, "reject!");
        out += "{\"seq\":" + std::to_string(seq) + ",\"hash\":\"" + ToHex(hash) + "\",\"record\":";
        AppendJsonString(rec, out);
        out += "}\n";
        return true;
      });
  return out;
}

int RunScript(const std::string& ndjson, const std::string& extra = "") {
  const fs::path file =
      fs::temp_directory_path() / ("expertflow-export-" + std::to_string(::getpid()) + ".ndjson");
  std::ofstream(file) << ndjson;
  const std::string cmd = "python3 " EXPERTFLOW_SOURCE_DIR "/docs/verify_export.py " +
                          file.string() + " " + extra + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  fs::remove(file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(AuditScript, AcceptsAnExportAndRefusesATamperedOne) {
  MemoryEventLog log;
  for (int i = 0; i < 20; ++i) {
    NewEvent e;
    e.type = "ConclusionSubmitted";
    e.occurred_at = *ParseRfc3339("2026-03-01T09:00:00Z");
    e.actor = {"irpo", "irpo_staff", "t1"};
    e.command = "submit_conclusion";
    e.command_id = "c" + std::to_string(i);
    e.data = R"({"verdict":"approve","comment":"Заключение № )" + std::to_string(i) + R"("})";
    ASSERT_TRUE(log.Append({{{"proposals/p" + std::to_string(i % 3), std::nullopt, {e}}}, {}, {}}));
  }
  EXPECT_EQ(RunScript(Export(log)), 0);
  EXPECT_EQ(RunScript(Export(log), ToHex(log.GetHead().hash)), 0);
  EXPECT_NE(RunScript(Export(log), std::string(64, '0')), 0) << "a head that differs is caught";
  EXPECT_NE(RunScript(Export(log, /*tamper_seq=*/7)), 0);
  std::string dropped = Export(log);
  dropped.erase(0, dropped.find('\n') + 1);  // the first event removed
  EXPECT_NE(RunScript(dropped), 0);
}

}  // namespace
}  // namespace expertflow::engine
