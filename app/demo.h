#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "engine/core/clock.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::app {

struct DemoSummary {
  std::uint64_t commands = 0;
  std::uint64_t refused = 0;
  std::uint64_t instances = 0;
  std::uint64_t protocols = 0;
  std::uint64_t assignments = 0;
  nlohmann::json discipline;  // the totals row of the discipline table at the end
};

// Drives a plausible year of traffic, ending at `end`, through the real registry by the same
// command path as the API: proposals of every UMC through expertise, approbation at both FTPOs and
// the ministry (the first twelve weeks on version 1, which they keep to their end; then version
// 2: positions consolidated by the UMC, the key employer among the experts, extensions, the
// UMC's decision, approbation at the UMC and the FTPO, courses for teachers); the UMCs' yearly
// plans of industry events; FGOS proposals; FUMO–RUMO agreements; and seeds 002 and 003 as written (the
// request bodies of tests/fixtures/protocols/), each registered when the clock reaches the date of
// its distribution letter (else its own date) or at once when that is past, with their assignees
// reporting — on time, late, returned and sent again, left unreviewed or never — by letters
// dated as they would be. Time moves on `clock` a week at a time, so deadlines fire as they would.
// Deterministic for a given start.
DemoSummary RunDemo(engine::Sequencer& sequencer, engine::ManualClock& clock,
                    engine::Timestamp end);

// Where the demo's clock starts for a demo that ends at `end`: a year before, or earlier, on the
// day of the first protocol, so that both protocols are registered as they happened.
engine::Timestamp DemoStart(engine::Timestamp end);

}  // namespace expertflow::app
