#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/model/directory.h"
#include "engine/runtime/sequencer.h"

namespace expertflow::engine {

// A protocol registration (API.md, Protocols) checked and laid out as one all-or-nothing group of
// commands: the protocol itself and one protocol_assignment per decision and assignee
// ("all:roiv" stands for every regional education body).
struct ProtocolPlan {
  std::string protocol_id;
  std::string number;
  nlohmann::json assignment_ids = nlohmann::json::array();
  std::vector<Submission> group;  // for Sequencer::SubmitGroup
};

// Refuses a malformed body with validation_failed naming every problem.
Result<ProtocolPlan> PlanProtocol(const nlohmann::json& body, const Principal& issuer,
                                  const Directory& directory, IdGenerator& ids);

}  // namespace expertflow::engine
