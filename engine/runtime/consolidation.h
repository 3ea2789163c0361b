#pragma once

#include <vector>

#include "engine/runtime/sequencer.h"

namespace expertflow::engine {

// A creation whose definition `def` (the one it will be decided on; null: none) names
// "consolidates": {"field", "collection", "command", "as"} (industry_proposal v2, seed 001 §5.2),
// laid out as one all-or-nothing group for Sequencer::SubmitGroup: the creation, with an id of its
// own, then `command` on each instance the payload's list `field` names, with {as: the new id}.
// Without such a list it is the creation alone. An instance missing, unseen by the creator, or in a
// state where the command does not apply is refused here with validation_failed naming `field[i]`
// (the sequencer decides the same again in the write) — unless the creation carries an
// Idempotency-Key: then the sequencer alone decides, so that a repeat is answered from the first
// result.
Result<std::vector<Submission>> PlanConsolidation(const Sequencer& seq, const Definition* def,
                                                  Submission create, IdGenerator& ids);

}  // namespace expertflow::engine
