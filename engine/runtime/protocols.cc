#include "engine/runtime/protocols.h"

#include <set>

namespace expertflow::engine {

using nlohmann::json;

Result<ProtocolPlan> PlanProtocol(const json& body, const Principal& issuer_principal,
                                  const Directory& directory, IdGenerator& ids) {
  std::vector<FieldError> errors;
  auto str = [&](const json& obj, const char* key, const std::string& path, bool required) {
    if (!obj.contains(key)) {
      if (required) errors.push_back({path, "is required"});
      return;
    }
    if (!obj[key].is_string() || obj[key].get<std::string>().empty())
      errors.push_back({path, "must be a non-empty string"});
  };
  for (const auto& [k, v] : body.items()) {
    if (k != "number" && k != "date" && k != "title" && k != "chair" && k != "items") {
      errors.push_back({k, "is not a field of a protocol"});
    }
  }
  str(body, "number", "number", true);
  str(body, "title", "title", true);
  str(body, "chair", "chair", false);
  if (!body.contains("date") || !body["date"].is_string() ||
      !engine::ParseDate(body["date"].get<std::string>())) {
    errors.push_back({"date", "must be a date like 2024-10-23"});
  }
  struct Planned {
    json decision;
    std::string assignee;
  };
  std::vector<Planned> planned;
  const json items = body.value("items", json());
  if (!items.is_array() || items.empty()) errors.push_back({"items", "must be a non-empty list"});
  for (std::size_t i = 0; items.is_array() && i < items.size(); ++i) {
    const std::string ip = "items[" + std::to_string(i) + "]";
    const json& item = items[i];
    if (!item.is_object()) {
      errors.push_back({ip, "must be an object"});
      continue;
    }
    str(item, "title", ip + ".title", true);
    const json decisions = item.value("decisions", json());
    if (!decisions.is_array() || decisions.empty()) {
      errors.push_back({ip + ".decisions", "must be a non-empty list"});
      continue;
    }
    for (std::size_t k = 0; k < decisions.size(); ++k) {
      const std::string dp = ip + ".decisions[" + std::to_string(k) + "]";
      const json& d = decisions[k];
      if (!d.is_object()) {
        errors.push_back({dp, "must be an object"});
        continue;
      }
      str(d, "text", dp + ".text", true);
      const json assignees = d.value("assignees", json());
      if (!assignees.is_array() || assignees.empty()) {
        errors.push_back({dp + ".assignees", "must be a non-empty list"});
        continue;
      }
      std::set<std::string> seen;
      for (const auto& a : assignees) {
        if (!a.is_string()) {
          errors.push_back({dp + ".assignees", "must list organisation ids"});
          continue;
        }
        std::vector<std::string> orgs;
        if (a == "all:roiv") {
          for (const auto* o : directory.Organizations("roiv")) orgs.push_back(o->id);
        } else if (directory.FindOrganization(a.get<std::string>()) != nullptr) {
          orgs.push_back(a.get<std::string>());
        } else {
          errors.push_back(
              {dp + ".assignees", a.get<std::string>() + " is not a known organisation"});
        }
        for (auto& o : orgs) {
          if (seen.insert(o).second) planned.push_back({d, o});
        }
      }
    }
  }
  if (planned.size() > 5000) errors.push_back({"items", "makes more than 5000 assignments"});
  if (!errors.empty()) {
    json list = json::array();
    for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    return Fail(ErrorCode::kValidationFailed, errors[0].field + " " + errors[0].message,
                {{"errors", list}});
  }
  const std::string issuer = issuer_principal.org;
  const std::string protocol_id = ids.NewId();
  std::vector<Submission> group;
  json assignment_ids = json::array();
  for (const auto& plan : planned) {
    Submission sub;
    sub.command.kind = Command::Kind::kCreate;
    sub.command.collection = "assignments";
    sub.command.workflow = "protocol_assignment";
    sub.command.instance_id = ids.NewId();
    sub.command.name = "create";
    sub.command.actor = issuer_principal;
    sub.command.payload = {{"protocol", protocol_id},
                           {"protocol_number", body["number"]},
                           {"decision", plan.decision["text"]},
                           {"assignee", plan.assignee},
                           {"issuer", issuer},
                           {"deadline", plan.decision.value("deadline", json())}};
    assignment_ids.push_back(sub.command.instance_id);
    group.push_back(std::move(sub));
  }
  Submission protocol;
  protocol.command.kind = Command::Kind::kCreate;
  protocol.command.collection = "protocols";
  protocol.command.workflow = "protocol";
  protocol.command.instance_id = protocol_id;
  protocol.command.name = "create";
  protocol.command.actor = issuer_principal;
  protocol.command.payload = body;
  protocol.command.payload["assignments"] = assignment_ids;
  group.insert(group.begin(), std::move(protocol));
  ProtocolPlan out;
  out.protocol_id = protocol_id;
  out.number = body["number"].get<std::string>();
  out.assignment_ids = std::move(assignment_ids);
  out.group = std::move(group);
  return out;
}

}  // namespace expertflow::engine
