#pragma once

// What the benchmark files share: a realistic event of ~444 bytes once encoded (a conclusion
// with its vote, as the workflows write it), and a temporary folder per benchmark and process.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "engine/log/event.h"

namespace expertflow::bench {

inline engine::NewEvent ConclusionEvent(std::uint64_t n) {
  engine::NewEvent e;
  e.type = "ConclusionSubmitted";
  e.occurred_at = engine::Timestamp(std::chrono::seconds(1767225600 + n));
  e.actor = {"fumo-09.00.00", "fumo_expert", "a1b2c3d4e5f6"};
  e.command = "submit_conclusion";
  e.command_id = "4bf52e065d0f98b2";
  e.data =
      R"({"payload":{"verdict":"approve"},"vote":{"org":"fumo-09.00.00","verdict":"approve"}})";
  return e;
}

inline std::filesystem::path TempPath(const std::string& prefix, const std::string& name) {
  return std::filesystem::temp_directory_path() /
         (prefix + name + "-" + std::to_string(::getpid()));
}

// The CPU time of the whole process (every thread: callers, engine, RocksDB, in user and kernel
// mode), for the CPU a command costs: read before and after a multithreaded benchmark's loop by
// its thread 0, which Google Benchmark starts and stops together with the others.
inline double ProcessCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace expertflow::bench
