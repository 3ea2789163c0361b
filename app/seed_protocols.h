#pragma once

#include <span>

#include "engine/core/embedded.h"

namespace expertflow::app::seed_protocols {

using EmbeddedFile = engine::EmbeddedFile;

// The request bodies of seeds 002 and 003 as the tests register them ("seed002.json",
// "seed003.json" of tests/fixtures/protocols/), embedded for the demo.
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace expertflow::app::seed_protocols
