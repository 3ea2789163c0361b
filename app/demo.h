#pragma once

#include <cstdint>

#include "engine/core/clock.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::app {

struct DemoSummary {
  std::uint64_t commands = 0;
  std::uint64_t refused = 0;
  std::uint64_t instances = 0;
};

// Drives a plausible year of traffic through the real registry by the same command path as the
// API: proposals of every UMC through expertise, approbation at both FTPOs and the ministry;
// FGOS proposals; protocols modelled on seeds 002 and 003 with one-time and weekly deadlines; and
// FUMO–RUMO agreements. Time moves on `clock` a week at a time, so deadlines fire as they would.
// Deterministic for a given start.
DemoSummary RunDemo(engine::Sequencer& sequencer, engine::ManualClock& clock);

}  // namespace expertflow::app
