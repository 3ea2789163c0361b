#pragma once

#include <ostream>

namespace expertflow::api {

// The process_* metrics every Prometheus client library exports, read from /proc as they read
// them: CPU time, resident and virtual memory, open and maximum file descriptors, start time.
// On a system without /proc, the ones it cannot read are left out.
void RenderProcessMetrics(std::ostream& out);

}  // namespace expertflow::api
