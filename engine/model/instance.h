#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/time.h"
#include "engine/model/directory.h"
#include "engine/model/fields.h"

namespace expertflow::engine {

// One party of a multi-party step (an expert body in a round of expertise, a signatory).
struct Party {
  std::string org;
  std::string role;
  bool acted = false;
  std::string verdict;  // when the round command has a vote field
  friend bool operator==(const Party&, const Party&) = default;
};

struct Round {
  std::uint32_t number = 0;  // 1, 2, ... over the instance's life
  std::vector<Party> parties;
  friend bool operator==(const Round&, const Round&) = default;
};

// One period of a protocol deadline: a one-time deadline has one, a recurring one a series
// (seed 003: weekly and daily reports). A report answers the oldest period not yet accepted.
struct Period {
  std::uint32_t number = 0;
  Timestamp due{};
  bool missed = false;  // its due time passed before it was accepted
  bool accepted = false;
  bool on_time = false;  // accepted, for a report submitted by the due time
  friend bool operator==(const Period&, const Period&) = default;
};

// The state of one workflow instance, as `evolve` builds it from the instance's events. It is the
// only state the engine decides on; the instance view of the API is computed from it.
struct InstanceState {
  std::string id;
  std::string collection;
  std::string workflow;
  std::uint32_t workflow_version = 0;
  std::string state;
  std::uint64_t version = 0;  // the stream version: the number of events applied
  Timestamp created_at{};
  Timestamp updated_at{};
  Timestamp stage_entered_at{};
  std::string created_by;  // organisation of the creator
  Participants participants;
  Fields fields;
  std::optional<Round> round;
  std::uint32_t rounds = 0;
  // Organisations that gave a conclusion in a round, in order of id: an invited expert keeps
  // sight of what it concluded on after its round closes.
  std::vector<std::string> concluded;
  // The version whose event entered the current state: version - state_entered_version events
  // have followed in it (a definition may cap them).
  std::uint64_t state_entered_version = 0;
  std::map<std::string, Timestamp> timers;   // armed deadlines: name -> due
  std::map<std::string, Timestamp> overdue;  // deadlines that passed while still running
  std::vector<Period> periods;

  std::string Stream() const { return collection + "/" + id; }
  friend bool operator==(const InstanceState&, const InstanceState&) = default;
};

// Applies one event, given its time and its data as JSON text (the `data` of its record). This is
// the only code that changes an instance: the sequencer applies the events it has just decided,
// and replay applies stored ones, through this same function. The event data carries its effects
// (see decide.h), so evolve needs no definition and no event type. Data that is not a JSON object
// changes nothing but the version (the log refuses such data on append).
void Evolve(InstanceState& state, Timestamp occurred_at, std::string_view data);

// Applies a stored record to `state` (replay of one stream: as_of, tests).
Result<void> EvolveRecord(InstanceState& state, std::string_view record);

// The state as stored (the instance view) and back. Deterministic: the same state gives the
// same bytes, so a rebuild can be compared byte for byte.
nlohmann::json StateToJson(const InstanceState& state);
// The stored form of a state, written straight to text: byte for byte StateToJson(state).dump()
// (members in key order, as nlohmann's sorted objects print them), without building the DOM.
// The sequencer writes one per touched instance a batch, and a rebuild one per instance.
std::string StateToText(const InstanceState& state);
Result<InstanceState> StateFromJson(const nlohmann::json& json);

}  // namespace expertflow::engine
