// libFuzzer target: the workflow-definition loader (engine/model/workflow.cc), on any text. What
// loads must hold together the way the engine uses it: every state's commands resolve, and the
// definition joins a DefinitionSet.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engine/model/workflow.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace expertflow::engine;
  auto loaded = LoadDefinition(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!loaded) {
    if (loaded.error().message.empty()) {
      std::fprintf(stderr, "a refused definition without a reason\n");
      std::abort();
    }
    return 0;
  }
  if (loaded->FindState(loaded->create.to) == nullptr) {
    std::fprintf(stderr, "a loaded definition starts in a state it does not have\n");
    std::abort();
  }
  for (const StateSpec& state : loaded->states) {
    for (const auto& name : loaded->CommandsIn(state.name)) {
      if (loaded->FindCommand(name, state.name) == nullptr) {
        std::fprintf(stderr, "command %s listed in %s does not resolve\n", name.c_str(),
                     state.name.c_str());
        std::abort();
      }
    }
  }
  (void)loaded->document.dump();
  DefinitionSet set;
  (void)set.Add(std::move(*loaded));
  return 0;
}
