// libFuzzer target: `import` (engine/import.cc) on any bytes. Whatever the file holds, the import
// never crashes and never hangs; it either refuses the file or loads a log whose chain verifies
// and whose head is the one it reports. (The command line imports into a staging folder that it
// removes on refusal, so a refused file leaves no store behind: tests/app/import_cli_test.cc.)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "engine/log/memory_event_log.h"
#include "engine/runtime/import.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace {

using namespace expertflow;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "broken promise: %s\n", why.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const engine::DefinitionSet definitions = [] {
    auto r = workflows::BuiltinDefinitions();
    if (!r) std::abort();
    return std::move(*r);
  }();
  static const engine::RoutingTable routing = workflows::BuiltinRouting();
  engine::MemoryEventLog log;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  engine::ImportOptions options;
  options.max_line_bytes = 64 * 1024;
  options.batch_events = 3;  // several writes even for small inputs
  auto r = engine::ImportExport(in, log, definitions, workflows::Builtin(), routing, options);
  if (!r) {
    if (r.error().message.empty()) Die("a refusal that says nothing");
    return 0;
  }
  if (log.GetHead().seq != r->events || log.GetHead().hash != r->head)
    Die("the reported head is not the log's");
  auto verified = engine::Verify(log);
  if (!verified || !verified->ok) Die("an imported log that does not verify");
  return 0;
}
