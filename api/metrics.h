#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "engine/projections/work_in_progress.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::api {

// What GET /metrics shows besides the requests, read at scrape time from the sequencer, the log
// and the projections (api/handlers/service.cc).
struct ServerFigures {
  engine::SequencerStats sequencer;  // the process's life, the demo's writes included
  std::uint64_t head_seq = 0;
  bool writes_refused = false;  // what makes /readyz answer 503
  // Each projection's name with the events it has not applied yet.
  std::map<std::string, std::uint64_t> projection_lag;
  // Instances in progress and overdue by workflow and stage (engine::WorkInProgress).
  std::map<engine::WorkInProgress::Key, engine::StageLoad> stages;
};

// A sample value as the text format writes it: the shortest text that reads back as `value`.
std::string FormatValue(double value);

// Counters and histograms for GET /metrics, in the Prometheus text format (docs/metrics.md lists
// them). Thread-safe.
class Metrics {
 public:
  // One finished request: its route template ("/api/v1/{c}/{id}"), status and latency.
  void ObserveRequest(const std::string& method, const std::string& route, int status,
                      std::uint64_t micros);
  void ConnectionOpened() {
    ++connections_open_;
    ++connections_total_;
  }
  void ConnectionClosed() { --connections_open_; }

  // The exposition: requests, `figures`, the process (process_* from /proc/self, as the
  // Prometheus client libraries give them) and the build.
  std::string Render(const ServerFigures& figures) const;

  // Upper bounds of the request latency buckets, in seconds.
  static constexpr std::array<double, 12> kBucketsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

 private:
  struct Latency {
    std::array<std::uint64_t, kBucketsSeconds.size() + 1> buckets{};  // the last: the rest
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Latency> latency_;  // by method and route
  std::atomic<std::int64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_total_{0};
};

}  // namespace expertflow::api
