#include "engine/projections/work_in_progress.h"

#include "engine/model/registry_layer.h"

namespace expertflow::engine {
namespace {

// Reference data (organisations, groups) is kept as instances too, but nobody works on it.
bool IsReferenceData(std::string_view collection) {
  return collection == kOrganizationsCollection || collection == kGroupsCollection;
}

}  // namespace

WorkInProgress::WorkInProgress(const DefinitionSet& definitions) : definitions_(definitions) {
  for (const Definition* d : definitions_.All()) {
    if (definitions_.Latest(d->id) != d || IsReferenceData(d->collection)) continue;
    for (const StateSpec& s : d->states) {
      if (!s.terminal) stages_.try_emplace({d->id, s.stage});
    }
  }
}

void WorkInProgress::Count(const InstanceState& state, int sign) {
  if (IsReferenceData(state.collection)) return;
  const Definition* d = definitions_.Find(state.workflow, state.workflow_version);
  const StateSpec* s = d ? d->FindState(state.state) : nullptr;
  if (s == nullptr || s->terminal) return;
  StageLoad& load = stages_[{state.workflow, s->stage}];
  load.wip += sign;
  if (!state.overdue.empty()) load.overdue += sign;
}

}  // namespace expertflow::engine
