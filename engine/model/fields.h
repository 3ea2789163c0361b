#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace expertflow::engine {

// An instance's fields: a JSON object kept member by member as each member's JSON text, in the
// order of the names (issue 19). An nlohmann object spent ~1.5 KiB on a completed proposal's
// eight fields (a map node, a string object and its buffer for every member and every nested
// value); the texts take far less (serve's peak at 1M events fell by ~75 MB with this and the
// interned participants, benchmarks/README.md), and a member is parsed only when something
// reads it (a deadline's date, a protocol's reports) — most commands read none. The texts are
// canonical (`AppendJson`, engine/log/event.h), so `AppendTo` writes byte for byte what
// AppendJson wrote of the object, and names are interned (a definition declares them; payloads
// with unknown fields are refused).
class Fields {
 public:
  struct Member {
    const std::string* name;  // interned
    std::string text;         // the value, canonical JSON
    friend bool operator==(const Member&, const Member&) = default;
  };

  Fields() = default;
  // The members of a JSON object; anything else gives no fields.
  static Fields FromJson(const nlohmann::json& object);
  nlohmann::json ToJson() const;
  // Appends the object's canonical text: the same bytes as AppendJson(ToJson(), out).
  void AppendTo(std::string& out) const;

  // The member's canonical text, or null when there is none.
  const std::string* Text(std::string_view name) const;
  bool contains(std::string_view name) const { return Text(name) != nullptr; }
  // The member's value (parsed now), or null when there is none.
  nlohmann::json Get(std::string_view name) const;
  nlohmann::json operator[](std::string_view name) const { return Get(name); }
  // The member's value, or `fallback` when there is none.
  nlohmann::json value(std::string_view name, nlohmann::json fallback) const;
  // A string member's value, or `fallback` when there is none or it is not a string.
  std::string value(std::string_view name, const char* fallback) const;

  void Set(std::string_view name, const nlohmann::json& value);
  // Sets a member to a value given as its canonical text (as AppendJson writes it).
  void SetText(std::string_view name, std::string text);
  void Erase(std::string_view name);

  std::size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  std::vector<Member>::const_iterator begin() const { return members_.begin(); }
  std::vector<Member>::const_iterator end() const { return members_.end(); }

  friend bool operator==(const Fields&, const Fields&) = default;

 private:
  std::vector<Member>::iterator LowerBound(std::string_view name);
  std::vector<Member>::const_iterator LowerBound(std::string_view name) const;

  std::vector<Member> members_;
};

}  // namespace expertflow::engine
