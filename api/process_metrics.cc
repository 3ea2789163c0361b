#include "api/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "api/metrics.h"

namespace expertflow::api {
namespace {

void Gauge(std::ostream& out, const char* name, const char* type, const char* help, double value) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << " " << FormatValue(value) << "\n";
}

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses),
// so that [0] is field 3 of proc(5), `state`.
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

// The time the system booted, in seconds since the epoch (`btime` of /proc/stat); 0 if unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

}  // namespace

void RenderProcessMetrics(std::ostream& out) {
  // proc(5): utime 14, stime 15, starttime 22 (clock ticks), vsize 23 (bytes), rss 24 (pages).
  const std::vector<std::string> f = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (f.size() > 21 && ticks > 0) {
    Gauge(out, "process_cpu_seconds_total", "counter",
          "Total user and system CPU time spent in seconds.",
          (std::stod(f[11]) + std::stod(f[12])) / ticks);
    Gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          std::stod(f[20]));
    Gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          std::stod(f[21]) * page);
    if (const double boot = BootTime(); boot > 0) {
      Gauge(out, "process_start_time_seconds", "gauge",
            "Start time of the process since unix epoch in seconds.",
            boot + std::stod(f[19]) / ticks);
    }
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++fds;
  // The iterator's own descriptor is counted while it is open, as the client libraries count it.
  if (!ec) Gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds);
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    Gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
          static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace expertflow::api
