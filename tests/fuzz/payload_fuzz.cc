// libFuzzer target: the command payload validator (engine/model/payload.cc) and the protocol
// deadline parser, on every command of the built-in workflow definitions.
//
// Input: the first byte picks a command (among all commands of all definitions that take a
// payload) and whether the check is partial (an update); the rest is the payload as JSON text.
// Besides the sanitizers, it checks that every reported problem names a field and says something.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "engine/model/payload.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"

namespace {

using namespace expertflow;

const std::vector<const std::vector<engine::FieldSpec>*>& Specs() {
  static const engine::DefinitionSet definitions = [] {
    auto r = workflows::BuiltinDefinitions();
    if (!r) std::abort();
    return std::move(*r);
  }();
  static const std::vector<const std::vector<engine::FieldSpec>*> specs = [] {
    std::vector<const std::vector<engine::FieldSpec>*> out;
    for (const auto& definition : definitions.All()) {
      out.push_back(&definition->create.payload);
      for (const auto& command : definition->commands) out.push_back(&command.payload);
    }
    return out;
  }();
  return specs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& specs = Specs();
  const std::vector<engine::FieldSpec>& spec = *specs[(data[0] >> 1) % specs.size()];
  const bool partial = data[0] & 1;
  auto payload = nlohmann::json::parse(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), nullptr, false);
  if (payload.is_discarded()) return 0;
  const auto now = *engine::ParseRfc3339("2026-01-12T09:00:00Z");
  for (const engine::FieldError& e :
       engine::ValidatePayload(spec, payload, partial, workflows::Builtin(), now)) {
    if (e.field.empty() || e.message.empty()) {
      std::fprintf(stderr, "a field error without a field or a message\n");
      std::abort();
    }
  }
  if (payload.is_object() && payload.contains("deadline")) {
    std::string error;
    if (auto schedule = engine::ParseSchedule(payload["deadline"], &error)) {
      auto due = engine::NextDue(*schedule, now);
      for (int i = 0; due && i < 8; ++i) due = engine::NextDue(*schedule, *due);
    } else if (error.empty()) {
      std::fprintf(stderr, "a refused deadline without a reason\n");
      std::abort();
    }
  }
  return 0;
}
