#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "engine/runtime/sequencer.h"

namespace expertflow::api {

// Counters and histograms for GET /metrics, in the Prometheus text format.
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

  // The exposition, with the sequencer's figures (events appended, batches, sync latency).
  // `projection_lag` names each projection with the events it has not applied yet.
  std::string Render(const engine::SequencerStats& stats, std::uint64_t head_seq,
                     const std::map<std::string, std::uint64_t>& projection_lag) const;

 private:
  static constexpr std::array<double, 12> kBucketsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::array<std::uint64_t, kBucketsSeconds.size() + 1> latency_buckets_{};
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  std::atomic<std::int64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_total_{0};
};

}  // namespace expertflow::api
