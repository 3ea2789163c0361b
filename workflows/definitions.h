#pragma once

#include "engine/core/error.h"
#include "engine/model/workflow.h"

namespace expertflow::workflows {

// Loads every workflow definition compiled into the binary (the *.vN.json files of workflows/)
// through the engine's checking loader. A bad definition is a build defect: the error names it.
engine::Result<engine::DefinitionSet> BuiltinDefinitions();

}  // namespace expertflow::workflows
