#include "engine/runtime/protocols.h"

#include <set>

#include "engine/model/payload.h"
#include "engine/model/registry_layer.h"

namespace expertflow::engine {

using nlohmann::json;

namespace {

// What a decision hands down to its sub-decisions (seed 003: "2. Представителям ... совместно с
// ...:" followed by 2.1, 2.2, ... that state only their task and term).
struct Inherited {
  json assignees;
  json jointly, deadline, deadline_text, report_to, report_via;
};

// A member as a string when it is one (its type was checked and reported already), else `or_`:
// json::value would throw on a number where a string belongs.
std::string StringOr(const json& obj, const char* key, std::string or_) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::move(or_);
}

struct Planned {
  json payload;  // the assignment's creation payload, without assignee and group
  std::string assignee;
  std::string group;  // the group reference it came from, if any
};

class Planner {
 public:
  Planner(const json& body, const Directory& directory) : body_(body), directory_(directory) {}

  std::vector<FieldError> errors;
  std::vector<Planned> planned;
  json groups = json::array();  // [{"group", "members"}] as resolved now

  void Str(const json& obj, const char* key, const std::string& path, bool required) {
    if (!obj.contains(key)) {
      if (required) errors.push_back({path, "is required"});
      return;
    }
    if (!obj[key].is_string() || obj[key].get<std::string>().empty())
      errors.push_back({path, "must be a non-empty string"});
  }

  void Items(const json& items) {
    if (!items.is_array() || items.empty()) {
      errors.push_back({"items", "must be a non-empty list"});
      return;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string ip = "items[" + std::to_string(i) + "]";
      const json& item = items[i];
      if (!item.is_object()) {
        errors.push_back({ip, "must be an object"});
        continue;
      }
      Str(item, "title", ip + ".title", true);
      if (item.contains("number")) Str(item, "number", ip + ".number", true);
      const std::string number = StringOr(item, "number", std::to_string(i + 1));
      const json decisions = item.value("decisions", json::array());
      if (!decisions.is_array()) {
        errors.push_back({ip + ".decisions", "must be a list"});
        continue;
      }
      // Version 1 asked every item for decisions; an item that only takes note (seed 002 II,
      // IV) has none.
      if (decisions.empty() && !item.contains("noted") && !item.contains("decisions")) {
        errors.push_back({ip + ".decisions", "must be a non-empty list (or the item \"noted\")"});
      }
      Decisions(decisions, ip + ".decisions", number, item, Inherited{}, 1);
    }
  }

 private:
  void Decisions(const json& list, const std::string& path, const std::string& parent_number,
                 const json& item, const Inherited& from, int depth) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string dp = path + "[" + std::to_string(k) + "]";
      const json& d = list[k];
      if (!d.is_object()) {
        errors.push_back({dp, "must be an object"});
        continue;
      }
      Str(d, "text", dp + ".text", true);
      if (d.contains("number")) Str(d, "number", dp + ".number", true);
      const std::string number = StringOr(d, "number", parent_number + "." + std::to_string(k + 1));
      const bool note = d.contains("note") && d["note"].is_boolean() && d["note"].get<bool>();
      if (d.contains("note") && !d["note"].is_boolean()) {
        errors.push_back({dp + ".note", "must be true or false"});
      }
      Inherited here = from;
      if (d.contains("assignees")) here.assignees = d["assignees"];
      for (auto [key, slot] :
           {std::pair{"jointly", &here.jointly}, std::pair{"deadline", &here.deadline},
            std::pair{"deadline_text", &here.deadline_text},
            std::pair{"report_to", &here.report_to}, std::pair{"report_via", &here.report_via}}) {
        if (d.contains(key)) *slot = d[key];
      }
      const json subs = d.value("decisions", json());
      if (note) {
        if (d.contains("assignees") || d.contains("deadline") || d.contains("decisions")) {
          errors.push_back({dp,
                            "a note (\"note\": true) has no assignees, deadline or "
                            "sub-decisions"});
        }
        continue;
      }
      if (!subs.is_null()) {
        if (!subs.is_array() || subs.empty()) {
          errors.push_back({dp + ".decisions", "must be a non-empty list"});
        } else if (depth >= 4) {
          errors.push_back({dp + ".decisions", "nest at most four levels deep"});
        } else {
          Decisions(subs, dp + ".decisions", number, item, here, depth + 1);
        }
        continue;  // a decision with sub-decisions assigns through them
      }
      Leaf(d, dp, number, item, here);
    }
  }

  void Leaf(const json& d, const std::string& dp, const std::string& number, const json& item,
            const Inherited& in) {
    if (!in.assignees.is_array() || in.assignees.empty()) {
      errors.push_back({dp + ".assignees", "must be a non-empty list (or the decision a note)"});
      return;
    }
    json deadline = in.deadline;
    if (!deadline.is_null()) {
      std::string error;
      if (!ParseSchedule(deadline, &error)) {
        errors.push_back({dp + ".deadline", error});
        return;
      }
      // A recurring deadline's periods start at the protocol's date unless it names a start.
      if (deadline.contains("recurring") && !deadline["recurring"].contains("start") &&
          body_.contains("date")) {
        deadline["recurring"]["start"] = body_["date"];
      }
    }
    if (!in.report_to.is_null()) {
      const Organization* to = in.report_to.is_string()
                                   ? directory_.FindOrganization(in.report_to.get<std::string>())
                                   : nullptr;
      if (to == nullptr) {
        errors.push_back({dp + ".report_to", "is not a known organisation"});
        return;
      }
    }
    json payload = {{"protocol_number", body_.value("number", json())},
                    {"item", item.value("title", json())},
                    {"decision", d.value("text", json())},
                    {"decision_number", number}};
    if (body_.contains("date")) payload["protocol_date"] = body_["date"];
    if (item.contains("number")) payload["item_number"] = item["number"];
    if (!deadline.is_null()) payload["deadline"] = deadline;
    for (auto [key, value] :
         {std::pair{"jointly", &in.jointly}, std::pair{"deadline_text", &in.deadline_text},
          std::pair{"report_to", &in.report_to}, std::pair{"report_via", &in.report_via}}) {
      if (!value->is_null()) payload[key] = *value;
    }
    std::set<std::string> seen;
    for (const auto& a : in.assignees) {
      if (!a.is_string()) {
        errors.push_back({dp + ".assignees", "must list organisation ids or groups"});
        continue;
      }
      const std::string ref = a.get<std::string>();
      std::vector<std::string> orgs;
      std::string group;
      if (ref == "all:roiv" || ref.starts_with("group:")) {
        group = ref == "all:roiv" ? "roiv" : ref.substr(6);
        const Group* g = directory_.FindGroup(group);
        if (g == nullptr && ref == "all:roiv") {
          for (const auto* o : directory_.Organizations("roiv")) orgs.push_back(o->id);
        } else if (g == nullptr) {
          errors.push_back({dp + ".assignees", ref + " is not a known group"});
          continue;
        } else {
          orgs = GroupMembers(directory_, *g);
        }
        RecordGroup(ref, orgs);
      } else if (const Organization* o = directory_.FindOrganization(ref)) {
        if (o->retired) {
          errors.push_back({dp + ".assignees", ref + " is a retired organisation"});
          continue;
        }
        orgs.push_back(ref);
      } else {
        errors.push_back({dp + ".assignees", ref + " is not a known organisation"});
        continue;
      }
      for (auto& o : orgs) {
        if (seen.insert(o).second) planned.push_back({payload, o, group.empty() ? "" : ref});
      }
    }
  }

  void RecordGroup(const std::string& ref, const std::vector<std::string>& members) {
    for (const auto& g : groups) {
      if (g["group"] == ref) return;
    }
    groups.push_back({{"group", ref}, {"members", members}});
  }

  const json& body_;
  const Directory& directory_;
};

}  // namespace

Result<ProtocolPlan> PlanProtocol(const json& body, const Principal& issuer_principal,
                                  const Directory& directory, IdGenerator& ids) {
  Planner plan(body, directory);
  if (!body.is_object()) {
    return Fail(ErrorCode::kValidationFailed, "the body must be a JSON object",
                {{"errors", {{{"field", ""}, {"message", "must be an object"}}}}});
  }
  static const std::set<std::string, std::less<>> kFields = {
      "number", "date", "title", "chair", "items", "place", "signed_by", "attendees", "letter"};
  for (const auto& [k, v] : body.items()) {
    if (!kFields.contains(k)) plan.errors.push_back({k, "is not a field of a protocol"});
  }
  plan.Str(body, "number", "number", true);
  plan.Str(body, "title", "title", true);
  plan.Str(body, "chair", "chair", false);
  if (!body.contains("date") || !body["date"].is_string() ||
      !engine::ParseDate(body["date"].get<std::string>())) {
    plan.errors.push_back({"date", "must be a date like 2024-10-23"});
  }
  plan.Items(body.value("items", json()));
  if (plan.planned.size() > 5000) {
    plan.errors.push_back({"items", "makes more than 5000 assignments"});
  }
  if (!plan.errors.empty()) {
    json list = json::array();
    for (const auto& e : plan.errors) list.push_back({{"field", e.field}, {"message", e.message}});
    return Fail(ErrorCode::kValidationFailed, plan.errors[0].field + " " + plan.errors[0].message,
                {{"errors", list}});
  }
  const std::string issuer = issuer_principal.org;
  const std::string protocol_id = ids.NewId();
  std::vector<Submission> group;
  group.reserve(plan.planned.size() + 1);
  json assignment_ids = json::array();
  for (auto& p : plan.planned) {
    Submission sub;
    sub.command.kind = Command::Kind::kCreate;
    sub.command.collection = "assignments";
    sub.command.workflow = "protocol_assignment";
    sub.command.instance_id = ids.NewId();
    sub.command.name = "create";
    sub.command.actor = issuer_principal;
    sub.command.payload = std::move(p.payload);
    sub.command.payload["protocol"] = protocol_id;
    sub.command.payload["assignee"] = p.assignee;
    sub.command.payload["issuer"] = issuer;
    if (!p.group.empty()) sub.command.payload["group"] = p.group;
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
  if (!plan.groups.empty()) protocol.command.payload["groups"] = plan.groups;
  group.insert(group.begin(), std::move(protocol));
  ProtocolPlan out;
  out.protocol_id = protocol_id;
  out.number = body["number"].get<std::string>();
  out.assignment_ids = std::move(assignment_ids);
  out.group = std::move(group);
  return out;
}

}  // namespace expertflow::engine
