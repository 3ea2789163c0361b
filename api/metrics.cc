#include "api/metrics.h"

#include <span>
#include <sstream>

namespace expertflow::api {
namespace {

// One Prometheus histogram: cumulative buckets at `bounds` (seconds), then +Inf, sum and count.
// `counts` holds one count a bound and the rest last.
void RenderHistogram(std::ostream& out, std::string_view name, std::string_view help,
                     std::span<const double> bounds, std::span<const std::uint64_t> counts,
                     double sum) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    out << name << "_bucket{le=\"" << bounds[i] << "\"} " << cumulative << "\n";
  }
  cumulative += counts.back();
  out << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n"
      << name << "_sum " << sum << "\n"
      << name << "_count " << cumulative << "\n";
}

}  // namespace

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
    RenderHistogram(out, "expertflow_http_request_duration_seconds", "Request latency.",
                    kBucketsSeconds, latency_buckets_, latency_sum_);
  }
  const double batch_avg =
      stats.batches ? static_cast<double>(stats.commands) / static_cast<double>(stats.batches) : 0;
  const double sync_avg = stats.batches ? static_cast<double>(stats.sync_micros_total) /
                                              static_cast<double>(stats.batches) / 1e6
                                        : 0;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
  };
  metric("expertflow_events_appended_total", "counter", "Events appended to the log.",
         stats.events);
  out << "# HELP expertflow_commands_total Commands accepted and refused.\n"
      << "# TYPE expertflow_commands_total counter\n"
      << "expertflow_commands_total{outcome=\"accepted\"} " << stats.commands << "\n"
      << "expertflow_commands_total{outcome=\"refused\"} " << stats.rejected << "\n";
  metric("expertflow_batches_total", "counter", "Durable writes (group commits).", stats.batches);
  metric("expertflow_batch_commands_average", "gauge", "Commands per durable write, on average.",
         batch_avg);
  metric("expertflow_batch_commands_last", "gauge", "Commands in the last durable write.",
         stats.last_batch_commands);
  metric("expertflow_sync_seconds_average", "gauge", "Time of one durable write, on average.",
         sync_avg);
  std::array<double, engine::kWriteBucketsMicros.size()> write_bounds;
  for (std::size_t i = 0; i < write_bounds.size(); ++i)
    write_bounds[i] = static_cast<double>(engine::kWriteBucketsMicros[i]) / 1e6;
  RenderHistogram(out, "expertflow_batch_write_seconds",
                  "Time of one durable write, from the hand-over to the log to its answer.",
                  write_bounds, stats.write_buckets,
                  static_cast<double>(stats.sync_micros_total) / 1e6);
  metric("expertflow_append_failures_total", "counter", "Durable writes that failed.",
         stats.append_failures);
  metric("expertflow_timers_fired_total", "counter", "Deadlines fired.", stats.timers_fired);
  metric("expertflow_idempotency_purged_total", "counter",
         "Idempotency records deleted after their retention.", stats.idempotency_purged);
  metric("expertflow_log_head_seq", "gauge", "The last sequence number of the log.", head_seq);
  metric("expertflow_connections_open", "gauge", "Open HTTP connections.",
         connections_open_.load());
  metric("expertflow_connections_total", "counter", "HTTP connections accepted.",
         connections_total_.load());
  out << "# HELP expertflow_projection_lag_events Events a projection has not applied yet.\n"
      << "# TYPE expertflow_projection_lag_events gauge\n";
  for (const auto& [name, lag] : projection_lag) {
    out << "expertflow_projection_lag_events{projection=\"" << name << "\"} " << lag << "\n";
  }
  return out.str();
}

}  // namespace expertflow::api
