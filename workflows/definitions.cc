#include "workflows/definitions.h"

#include "workflows/embedded.h"

namespace expertflow::workflows {

engine::Result<engine::DefinitionSet> BuiltinDefinitions() {
  engine::DefinitionSet set;
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    // Definitions sit at the top of workflows/ and are named <workflow>.v<N>.json; reference data
    // lives under registry/.
    if (file.name.find('/') != std::string_view::npos || !file.name.ends_with(".json")) continue;
    auto def = engine::LoadDefinition(file.data);
    if (!def) {
      return engine::Fail(engine::ErrorCode::kInternal,
                          std::string(file.name) + ": " + def.error().message);
    }
    const std::string expected = def->id + ".v" + std::to_string(def->version) + ".json";
    if (file.name != expected) {
      return engine::Fail(engine::ErrorCode::kInternal,
                          std::string(file.name) + " holds " + expected + ": rename it");
    }
    if (auto r = set.Add(std::move(*def)); !r) {
      return engine::Fail(engine::ErrorCode::kInternal, r.error().message);
    }
  }
  return set;
}

}  // namespace expertflow::workflows
