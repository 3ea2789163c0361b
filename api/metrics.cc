#include "api/metrics.h"

#include <charconv>
#include <cmath>
#include <span>
#include <sstream>

#include "api/process_metrics.h"

namespace expertflow::api {
namespace {

// A label value with the text format's escapes (backslash, double quote, line feed).
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::ostream& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

// The sample lines of one histogram series: cumulative buckets at `bounds`, then +Inf, sum and
// count. `labels` (`a="x",b="y"` or empty) go before `le`; `counts` holds one count a bound and
// the rest last.
void HistogramSeries(std::ostream& out, std::string_view name, std::string_view labels,
                     std::span<const double> bounds, std::span<const std::uint64_t> counts,
                     double sum) {
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    out << name << "_bucket{" << labels << sep << "le=\"" << FormatValue(bounds[i]) << "\"} "
        << cumulative << "\n";
  }
  cumulative += counts.back();
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << cumulative << "\n"
      << name << "_sum" << braces << " " << FormatValue(sum) << "\n"
      << name << "_count" << braces << " " << cumulative << "\n";
}

// Bounds counted in 1/`per` of the unit shown (microseconds: 1e6), as the unit.
template <std::size_t N>
std::array<double, N> Scaled(const std::array<std::uint64_t, N>& bounds, double per) {
  std::array<double, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<double>(bounds[i]) / per;
  return out;
}

}  // namespace

std::string FormatValue(double value) {
  // Whole numbers as integers (20000, not 2e+04); others in the shortest text that reads back
  // the same, fixed unless the exponent is far out (0.0005, 1.5e-07).
  if (std::abs(value) < 0x1p53 && value == std::trunc(value))
    return std::to_string(static_cast<std::int64_t>(value));
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             std::uint64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  std::size_t i = 0;
  while (i < kBucketsSeconds.size() && seconds > kBucketsSeconds[i]) ++i;
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  Latency& l = latency_[{method, route}];
  ++l.buckets[i];
  l.sum += seconds;
}

std::string Metrics::Render(const ServerFigures& figures) const {
  std::ostringstream out;
  Header(out, "expertflow_http_requests_total", "counter", "HTTP requests by route and status.");
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      out << "expertflow_http_requests_total{method=\"" << Escape(method) << "\",route=\""
          << Escape(route) << "\",status=\"" << status << "\"} " << n << "\n";
    }
    Header(out, "expertflow_http_request_duration_seconds", "histogram",
           "Request latency by method and route template.");
    for (const auto& [key, l] : latency_) {
      HistogramSeries(out, "expertflow_http_request_duration_seconds",
                      "method=\"" + Escape(key.first) + "\",route=\"" + Escape(key.second) + "\"",
                      kBucketsSeconds, l.buckets, l.sum);
    }
  }
  const engine::SequencerStats& stats = figures.sequencer;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    Header(out, name, type, help);
    out << name << " " << value << "\n";
  };
  metric("expertflow_events_appended_total", "counter", "Events appended to the log.",
         stats.events);
  Header(out, "expertflow_commands_total", "counter", "Commands accepted and refused.");
  out << "expertflow_commands_total{outcome=\"accepted\"} " << stats.commands << "\n"
      << "expertflow_commands_total{outcome=\"refused\"} " << stats.rejected << "\n";
  metric("expertflow_batches_total", "counter", "Durable writes (group commits).", stats.batches);
  Header(out, "expertflow_batch_commands", "histogram",
         "Commands accepted into one durable write (group commit).");
  HistogramSeries(out, "expertflow_batch_commands", "", Scaled(engine::kBatchBucketsCommands, 1.0),
                  stats.batch_buckets, static_cast<double>(stats.commands));
  Header(out, "expertflow_batch_write_seconds", "histogram",
         "Time of one durable write (its sync), from the hand-over to the log to its answer.");
  HistogramSeries(out, "expertflow_batch_write_seconds", "",
                  Scaled(engine::kWriteBucketsMicros, 1e6), stats.write_buckets,
                  static_cast<double>(stats.sync_micros_total) / 1e6);
  Header(out, "expertflow_batch_decide_seconds", "histogram",
         "Time the sequencer's thread took to decide one durable write, from taking its commands "
         "to handing it to the log.");
  HistogramSeries(out, "expertflow_batch_decide_seconds", "",
                  Scaled(engine::kWriteBucketsMicros, 1e6), stats.decide_buckets,
                  static_cast<double>(stats.decide_micros_total) / 1e6);
  metric("expertflow_append_failures_total", "counter", "Durable writes that failed.",
         stats.append_failures);
  metric("expertflow_writes_refused", "gauge",
         "1 while the store refuses writes (after a failed write, or stopping): /readyz is 503.",
         figures.writes_refused ? 1 : 0);
  metric("expertflow_timers_fired_total", "counter", "Deadlines fired.", stats.timers_fired);
  metric("expertflow_idempotency_purged_total", "counter",
         "Idempotency records deleted after their retention.", stats.idempotency_purged);
  metric("expertflow_log_head_seq", "gauge", "The last sequence number of the log.",
         figures.head_seq);
  metric("expertflow_connections_open", "gauge", "Open HTTP connections.",
         connections_open_.load());
  metric("expertflow_connections_total", "counter", "HTTP connections accepted.",
         connections_total_.load());
  Header(out, "expertflow_projection_lag_events", "gauge",
         "Events a projection has not applied yet.");
  for (const auto& [name, lag] : figures.projection_lag) {
    out << "expertflow_projection_lag_events{projection=\"" << Escape(name) << "\"} " << lag
        << "\n";
  }
  Header(out, "expertflow_instances_in_progress", "gauge",
         "Instances in a running (not terminal) state, by workflow and the stage of that state.");
  for (const auto& [key, load] : figures.stages) {
    out << "expertflow_instances_in_progress{workflow=\"" << Escape(key.first) << "\",stage=\""
        << Escape(key.second) << "\"} " << load.wip << "\n";
  }
  Header(out, "expertflow_instances_overdue", "gauge",
         "Instances in progress with a deadline passed, by workflow and stage.");
  for (const auto& [key, load] : figures.stages) {
    out << "expertflow_instances_overdue{workflow=\"" << Escape(key.first) << "\",stage=\""
        << Escape(key.second) << "\"} " << load.overdue << "\n";
  }
  RenderProcessMetrics(out);
  Header(out, "expertflow_build_info", "gauge", "The build: its version, as a label; always 1.");
  out << "expertflow_build_info{version=\"" << Escape(EXPERTFLOW_VERSION) << "\"} 1\n";
  return out.str();
}

}  // namespace expertflow::api
