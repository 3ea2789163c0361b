#include "api/metrics.h"

#include <sstream>

namespace expertflow::api {

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             std::uint64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  std::size_t i = 0;
  while (i < kBucketsSeconds.size() && seconds > kBucketsSeconds[i]) ++i;
  ++latency_buckets_[i];
  latency_sum_ += seconds;
  ++latency_count_;
}

std::string Metrics::Render(const engine::SequencerStats& stats, std::uint64_t head_seq,
                            const std::map<std::string, std::uint64_t>& projection_lag) const {
  std::ostringstream out;
  out << "# HELP expertflow_http_requests_total HTTP requests by route and status.\n"
      << "# TYPE expertflow_http_requests_total counter\n";
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      out << "expertflow_http_requests_total{method=\"" << method << "\",route=\"" << route
          << "\",status=\"" << status << "\"} " << n << "\n";
    }
    out << "# HELP expertflow_http_request_duration_seconds Request latency.\n"
        << "# TYPE expertflow_http_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
      cumulative += latency_buckets_[i];
      out << "expertflow_http_request_duration_seconds_bucket{le=\"" << kBucketsSeconds[i]
          << "\"} " << cumulative << "\n";
    }
    cumulative += latency_buckets_.back();
    out << "expertflow_http_request_duration_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n"
        << "expertflow_http_request_duration_seconds_sum " << latency_sum_ << "\n"
        << "expertflow_http_request_duration_seconds_count " << latency_count_ << "\n";
  }
  const double batch_avg =
      stats.batches ? static_cast<double>(stats.commands) / static_cast<double>(stats.batches) : 0;
  const double sync_avg = stats.batches ? static_cast<double>(stats.sync_micros_total) /
                                              static_cast<double>(stats.batches) / 1e6
                                        : 0;
  out << "# HELP expertflow_events_appended_total Events appended to the log.\n"
      << "# TYPE expertflow_events_appended_total counter\n"
      << "expertflow_events_appended_total " << stats.events << "\n"
      << "# HELP expertflow_commands_total Commands accepted and refused.\n"
      << "# TYPE expertflow_commands_total counter\n"
      << "expertflow_commands_total{outcome=\"accepted\"} " << stats.commands << "\n"
      << "expertflow_commands_total{outcome=\"refused\"} " << stats.rejected << "\n"
      << "# HELP expertflow_batches_total Durable writes (group commits).\n"
      << "# TYPE expertflow_batches_total counter\n"
      << "expertflow_batches_total " << stats.batches << "\n"
      << "# HELP expertflow_batch_commands_average Commands per durable write, on average.\n"
      << "# TYPE expertflow_batch_commands_average gauge\n"
      << "expertflow_batch_commands_average " << batch_avg << "\n"
      << "# HELP expertflow_batch_commands_last Commands in the last durable write.\n"
      << "# TYPE expertflow_batch_commands_last gauge\n"
      << "expertflow_batch_commands_last " << stats.last_batch_commands << "\n"
      << "# HELP expertflow_sync_seconds_average Time of one durable write, on average.\n"
      << "# TYPE expertflow_sync_seconds_average gauge\n"
      << "expertflow_sync_seconds_average " << sync_avg << "\n"
      << "# HELP expertflow_append_failures_total Durable writes that failed.\n"
      << "# TYPE expertflow_append_failures_total counter\n"
      << "expertflow_append_failures_total " << stats.append_failures << "\n"
      << "# HELP expertflow_timers_fired_total Deadlines fired.\n"
      << "# TYPE expertflow_timers_fired_total counter\n"
      << "expertflow_timers_fired_total " << stats.timers_fired << "\n"
      << "# HELP expertflow_log_head_seq The last sequence number of the log.\n"
      << "# TYPE expertflow_log_head_seq gauge\n"
      << "expertflow_log_head_seq " << head_seq << "\n"
      << "# HELP expertflow_projection_lag_events Events a projection has not applied yet.\n"
      << "# TYPE expertflow_projection_lag_events gauge\n";
  for (const auto& [name, lag] : projection_lag) {
    out << "expertflow_projection_lag_events{projection=\"" << name << "\"} " << lag << "\n";
  }
  out
      << "# HELP expertflow_connections_open Open HTTP connections.\n"
      << "# TYPE expertflow_connections_open gauge\n"
      << "expertflow_connections_open " << connections_open_.load() << "\n"
      << "# TYPE expertflow_connections_total counter\n"
      << "expertflow_connections_total " << connections_total_.load() << "\n";
  return out.str();
}

}  // namespace expertflow::api
