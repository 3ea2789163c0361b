#include "engine/model/fields.h"

#include <algorithm>

#include "engine/core/intern.h"
#include "engine/log/event.h"

namespace expertflow::engine {
namespace {

nlohmann::json Parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string Canonical(const nlohmann::json& value) {
  std::string text;
  AppendJson(value, text);
  return text;
}

}  // namespace

Fields Fields::FromJson(const nlohmann::json& object) {
  Fields f;
  if (!object.is_object()) return f;
  f.members_.reserve(object.size());
  // nlohmann's objects are sorted by name, as the members are.
  for (const auto& [name, value] : object.items()) {
    f.members_.push_back(Member{Intern(name), Canonical(value)});
  }
  return f;
}

nlohmann::json Fields::ToJson() const {
  nlohmann::json out = nlohmann::json::object();
  for (const Member& m : members_) out[*m.name] = Parse(m.text);
  return out;
}

void Fields::AppendTo(std::string& out) const {
  out.push_back('{');
  bool first = true;
  for (const Member& m : members_) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(*m.name, out);
    out.push_back(':');
    out += m.text;
  }
  out.push_back('}');
}

std::vector<Fields::Member>::iterator Fields::LowerBound(std::string_view name) {
  return std::lower_bound(members_.begin(), members_.end(), name,
                          [](const Member& m, std::string_view n) { return *m.name < n; });
}

std::vector<Fields::Member>::const_iterator Fields::LowerBound(std::string_view name) const {
  return std::lower_bound(members_.begin(), members_.end(), name,
                          [](const Member& m, std::string_view n) { return *m.name < n; });
}

const std::string* Fields::Text(std::string_view name) const {
  auto it = LowerBound(name);
  return it != members_.end() && *it->name == name ? &it->text : nullptr;
}

nlohmann::json Fields::Get(std::string_view name) const { return value(name, nlohmann::json()); }

nlohmann::json Fields::value(std::string_view name, nlohmann::json fallback) const {
  const std::string* text = Text(name);
  return text != nullptr ? Parse(*text) : std::move(fallback);
}

std::string Fields::value(std::string_view name, const char* fallback) const {
  const std::string* text = Text(name);
  if (text == nullptr || text->empty() || text->front() != '"') return fallback;
  const nlohmann::json j = Parse(*text);
  return j.is_string() ? j.get<std::string>() : std::string(fallback);
}

void Fields::Set(std::string_view name, const nlohmann::json& value) {
  SetText(name, Canonical(value));
}

void Fields::SetText(std::string_view name, std::string text) {
  auto it = LowerBound(name);
  if (it != members_.end() && *it->name == name) {
    it->text = std::move(text);
  } else {
    members_.insert(it, Member{Intern(name), std::move(text)});
  }
}

void Fields::Erase(std::string_view name) {
  auto it = LowerBound(name);
  if (it != members_.end() && *it->name == name) members_.erase(it);
}

}  // namespace expertflow::engine
