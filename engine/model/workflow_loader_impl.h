// Private to the definition loader: the checker that keeps the first problem, the name rules,
// and the steps of LoadDefinition (workflow_loader.cc parses each section, workflow_checks.cc
// checks the sections against each other). Not installed, not included outside engine/model.
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/directory.h"
#include "engine/model/workflow.h"

namespace expertflow::engine::loader {

using Doc = nlohmann::ordered_json;

inline const std::set<std::string, std::less<>> kFieldTypes = {
    "string", "text", "integer", "boolean", "date",    "datetime",
    "org",    "ugps", "array",   "object",  "deadline"};

inline bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

inline bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

inline bool IsEventName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

// Collects the first problem with a path, so a refusal names exactly what is
// wrong.
class Checker {
 public:
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(std::string where, std::string what) {
    if (error_.empty()) error_ = where + ": " + what;
  }

  std::string String(const Doc& obj, std::string_view key, std::string_view where, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Fail(std::string(where), "missing \"" + std::string(key) + "\"");
      return {};
    }
    if (!it->is_string()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be a string");
      return {};
    }
    return it->get<std::string>();
  }

  std::vector<std::string> Strings(const Doc& obj, std::string_view key, std::string_view where) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    if (!it->is_array()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be a list of strings");
      return out;
    }
    for (const auto& v : *it) {
      if (!v.is_string()) {
        Fail(std::string(where), "\"" + std::string(key) + "\" must be a list of strings");
        return out;
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  bool Bool(const Doc& obj, std::string_view key, std::string_view where) {
    auto it = obj.find(key);
    if (it == obj.end()) return false;
    if (!it->is_boolean()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be true or false");
      return false;
    }
    return it->get<bool>();
  }

  std::size_t Count(const Doc& obj, std::string_view key, std::string_view where) {
    auto it = obj.find(key);
    if (it == obj.end()) return 0;
    if (!it->is_number_unsigned()) {
      Fail(std::string(where), "\"" + std::string(key) + "\" must be a whole number >= 0");
      return 0;
    }
    return it->get<std::size_t>();
  }

 private:
  std::string error_;
};

// The checks across sections, once every section is parsed (workflow_checks.cc).
void CheckCommands(Checker& c, const Definition& d, const std::string& where);
void CheckRounds(Checker& c, const Definition& d, const std::string& where);
void CheckDeadlines(Checker& c, const Definition& d, const std::string& where);
void CheckReachable(Checker& c, const Definition& d, const std::string& where);

}  // namespace expertflow::engine::loader
