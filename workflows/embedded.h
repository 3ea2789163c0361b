#pragma once

#include <span>

#include "engine/core/embedded.h"

namespace expertflow::workflows {

using EmbeddedFile = engine::EmbeddedFile;

// Every *.json of workflows/ and workflows/registry/, e.g. "industry_proposal.v1.json" or
// "registry/regions.json".
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace expertflow::workflows
