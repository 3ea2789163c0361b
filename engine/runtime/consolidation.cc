#include "engine/runtime/consolidation.h"

#include "engine/decide/policy.h"

namespace expertflow::engine {

Result<std::vector<Submission>> PlanConsolidation(const Sequencer& seq, const Definition* def,
                                                  Submission create, IdGenerator& ids) {
  std::vector<Submission> group;
  const nlohmann::json* spec = nullptr;
  if (def != nullptr) {
    if (auto c = def->document.find("create"); c != def->document.end()) {
      if (auto s = c->find("consolidates"); s != c->end() && s->is_object()) spec = &*s;
    }
  }
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json* list = &empty;
  if (spec != nullptr) {
    auto it = create.command.payload.find(spec->value("field", ""));
    if (it != create.command.payload.end() && it->is_array()) list = &*it;
  }
  if (list->empty()) {
    group.push_back(std::move(create));
    return group;
  }
  const std::string field = spec->value("field", "");
  const std::string collection = spec->value("collection", "");
  const std::string command = spec->value("command", "");
  const std::string as = spec->value("as", "");
  const Principal& p = create.command.actor;
  const bool keyed = !create.idempotency_key.empty();
  create.command.instance_id = ids.NewId();
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    auto problem = [&](const std::string& message) {
      return Fail(ErrorCode::kValidationFailed, at + " " + message,
                  {{"errors", {{{"field", at}, {"message", message}}}}});
    };
    if (!(*list)[i].is_string()) return problem("must be a string");
    const std::string id = (*list)[i].get<std::string>();
    bool visible = false;
    std::string state;
    const Definition* of = nullptr;
    const bool exists = seq.Inspect(collection, id, [&](const InstanceState& s) {
      visible = CanSee(s, p);
      state = s.state;
      of = seq.definitions().Find(s.workflow, s.workflow_version);
    });
    if (!keyed && (!exists || !visible))
      return problem("is not one of " + collection + " you can see");
    if (!keyed && (of == nullptr || of->FindCommand(command, state) == nullptr))
      return problem("is in state " + state + ", where it cannot be consolidated");
    Submission sub;
    sub.command.kind = Command::Kind::kAct;
    sub.command.collection = collection;
    sub.command.instance_id = id;
    sub.command.name = command;
    sub.command.payload = {{as, create.command.instance_id}};
    sub.command.actor = p;
    group.push_back(std::move(sub));
  }
  // The creation first: its Idempotency-Key stands for the group (Sequencer::SubmitGroup).
  group.insert(group.begin(), std::move(create));
  return group;
}

}  // namespace expertflow::engine
