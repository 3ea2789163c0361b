#include "engine/model/payload.h"

#include <algorithm>
#include <set>

namespace expertflow::engine {
namespace {

constexpr std::size_t kDefaultMaxString = 1000;
constexpr std::size_t kDefaultMaxText = 100000;
constexpr std::size_t kDefaultMaxItems = 1000;

// Length in Unicode code points: the bounds are for people writing Russian, not for bytes.
std::size_t CodePoints(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

class Validator {
 public:
  Validator(const Directory& directory, Timestamp now) : directory_(directory), now_(now) {}

  void Object(const std::vector<FieldSpec>& spec, const nlohmann::json& value, bool partial,
              const std::string& prefix) {
    if (!value.is_object()) {
      Add(prefix.empty() ? "payload" : prefix, "must be an object");
      return;
    }
    for (const auto& [key, v] : value.items()) {
      if (std::none_of(spec.begin(), spec.end(),
                       [&](const FieldSpec& f) { return f.name == key; })) {
        // An empty member name would otherwise make an error that names no field.
        if (key.empty())
          Add(Join(prefix, "\"\""), "is not a field of this command (a member without a name)");
        else
          Add(Join(prefix, key), "is not a field of this command");
      }
    }
    for (const FieldSpec& f : spec) {
      auto it = value.find(f.name);
      if (it == value.end() || it->is_null()) {
        if (f.required && !partial) Add(Join(prefix, f.name), "is required");
        continue;
      }
      Field(f, *it, Join(prefix, f.name));
    }
  }

  std::vector<FieldError> Take() { return std::move(errors_); }

 private:
  static std::string Join(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
  }

  void Add(std::string field, std::string message) {
    errors_.push_back(FieldError{std::move(field), std::move(message)});
  }

  void Field(const FieldSpec& f, const nlohmann::json& v, const std::string& path) {
    const std::string& t = f.type;
    if (t == "string" || t == "text") {
      if (!v.is_string()) return Add(path, "must be a string");
      const std::string& s = v.get_ref<const std::string&>();
      std::size_t n = CodePoints(s);
      std::size_t max =
          f.max_length ? f.max_length : (t == "text" ? kDefaultMaxText : kDefaultMaxString);
      if (n < f.min_length) {
        Add(path, f.min_length == 1
                      ? "must not be empty"
                      : "must be at least " + std::to_string(f.min_length) + " characters");
      }
      if (n > max) Add(path, "must be at most " + std::to_string(max) + " characters");
      if (!f.enum_values.empty() &&
          std::find(f.enum_values.begin(), f.enum_values.end(), s) == f.enum_values.end()) {
        std::string list;
        for (const auto& e : f.enum_values) list += (list.empty() ? "" : ", ") + e;
        Add(path, "must be one of: " + list);
      }
    } else if (t == "integer") {
      if (!v.is_number_integer()) return Add(path, "must be a whole number");
      if (v.is_number_unsigned() && v.get<std::uint64_t>() > 9007199254740991ull) {
        return Add(path, "is too large");
      }
      long long n = v.get<long long>();
      if (f.minimum && n < *f.minimum) Add(path, "must be at least " + std::to_string(*f.minimum));
      if (f.maximum && n > *f.maximum) Add(path, "must be at most " + std::to_string(*f.maximum));
    } else if (t == "boolean") {
      if (!v.is_boolean()) Add(path, "must be true or false");
    } else if (t == "date") {
      auto day = v.is_string() ? ParseDate(v.get<std::string>()) : std::nullopt;
      if (!day) return Add(path, "must be a date like 2024-12-28");
      if (f.not_in_future && std::chrono::sys_days(*day) > std::chrono::sys_days(MoscowDate(now_)))
        Add(path, "must not be in the future");
      if (f.min_days_ahead >= 0) {
        auto earliest =
            std::chrono::sys_days(MoscowDate(now_)) + std::chrono::days(f.min_days_ahead);
        if (std::chrono::sys_days(*day) < earliest) {
          Add(path, "must be at least " + std::to_string(f.min_days_ahead) +
                        " calendar days after today (" +
                        FormatRfc3339(Timestamp(earliest)).substr(0, 10) + " or later)");
        }
      }
    } else if (t == "datetime") {
      if (!v.is_string() || !ParseRfc3339(v.get<std::string>())) {
        Add(path, "must be an RFC 3339 time like 2026-03-01T09:00:00Z");
      }
    } else if (t == "org") {
      if (!v.is_string()) return Add(path, "must be an organisation id");
      const Organization* org = directory_.FindOrganization(v.get<std::string>());
      if (org == nullptr) return Add(path, "is not a known organisation");
      if (org->retired) return Add(path, "is a retired organisation");
      if (!f.org_kind.empty() && org->kind != f.org_kind) {
        Add(path, "must be an organisation of kind " + f.org_kind);
      }
    } else if (t == "ugps") {
      if (!v.is_string() || !IsUgpsCode(v.get<std::string>())) {
        return Add(path, "must be an enlarged group code like 09.00.00");
      }
      if (directory_.FindOrganization("fumo-" + v.get<std::string>()) == nullptr) {
        Add(path, "is not an enlarged group of the current list");
      }
    } else if (t == "array") {
      if (!v.is_array()) return Add(path, "must be a list");
      std::size_t max = f.max_items ? f.max_items : kDefaultMaxItems;
      if (v.size() < f.min_items)
        Add(path, "must have at least " + std::to_string(f.min_items) + " items");
      if (v.size() > max) return Add(path, "must have at most " + std::to_string(max) + " items");
      const FieldSpec& item = f.items.front();
      std::set<std::string> seen;
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string ipath = path + "[" + std::to_string(i) + "]";
        Field(item, v[i], ipath);
        // Lists of references name each organisation or group once.
        if ((item.type == "org" || item.type == "ugps") && v[i].is_string() &&
            !seen.insert(v[i].get<std::string>()).second) {
          Add(ipath, "is listed twice");
        }
      }
    } else if (t == "object") {
      Object(f.properties, v, false, path);
    } else if (t == "deadline") {
      std::string error;
      if (!ParseSchedule(v, &error)) Add(path, error);
    }
  }

  const Directory& directory_;
  Timestamp now_;
  std::vector<FieldError> errors_;
};

}  // namespace

bool IsUgpsCode(const std::string& s) {
  return s.size() == 8 && std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::isdigit(static_cast<unsigned char>(s[1])) && s.substr(2) == ".00.00";
}

std::vector<FieldError> ValidatePayload(const std::vector<FieldSpec>& spec,
                                        const nlohmann::json& payload, bool partial,
                                        const Directory& directory, Timestamp now) {
  Validator v(directory, now);
  v.Object(spec, payload, partial, "");
  return v.Take();
}

std::optional<ScheduleSpec> ParseSchedule(const nlohmann::json& value, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<ScheduleSpec> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (!value.is_object() || !(value.contains("due") || value.contains("recurring")) ||
      (value.contains("due") && value.contains("recurring"))) {
    return fail("must be {\"due\": DATE} or {\"recurring\": {...}}");
  }
  for (const auto& [k, v] : value.items()) {
    if (k != "due" && k != "recurring" && k != "time") {
      return fail("has an unknown member \"" + k + "\"");
    }
  }
  auto date_of = [](const nlohmann::json& v) {
    return v.is_string() ? ParseDate(v.get<std::string>()) : std::nullopt;
  };
  ScheduleSpec s;
  if (auto it = value.find("due"); it != value.end()) {
    if (value.contains("time")) {
      auto day = date_of(*it);
      auto time = value["time"].is_string() ? ParseTimeOfDay(value["time"].get<std::string>())
                                            : std::nullopt;
      if (!day) return fail("due must be a date like 2023-07-07 when a time is given");
      if (!time) return fail("time must be HH:MM (Moscow time)");
      s.due = StartOfMoscowDay(*day) + *time;
      return s;
    }
    auto due = it->is_string() ? ParseDeadline(it->get<std::string>()) : std::nullopt;
    if (!due) return fail("due must be a date like 2024-12-28 or an RFC 3339 time");
    s.due = *due;
    return s;
  }
  if (value.contains("time")) return fail("time goes inside recurring, or with due");
  const auto& r = value.at("recurring");
  if (!r.is_object()) return fail("recurring must be an object");
  for (const auto& [k, v] : r.items()) {
    if (k != "every" && k != "weekday" && k != "day" && k != "time" && k != "start" &&
        k != "until" && k != "min_count") {
      return fail("recurring has an unknown member \"" + k + "\"");
    }
  }
  s.recurring = true;
  const std::string every = r.value("every", "");
  if (every == "week") {
    s.every = ScheduleSpec::Every::kWeek;
  } else if (every == "day") {
    s.every = ScheduleSpec::Every::kDay;
  } else if (every == "month") {
    s.every = ScheduleSpec::Every::kMonth;
  } else {
    return fail("recurring.every must be \"week\", \"day\" or \"month\"");
  }
  s.weekly = s.every == ScheduleSpec::Every::kWeek;
  if (r.contains("time")) {
    auto time = r["time"].is_string() ? ParseTimeOfDay(r["time"].get<std::string>()) : std::nullopt;
    if (!time) return fail("recurring.time must be HH:MM (Moscow time)");
    s.time_of_day = *time;
  }
  if (r.contains("weekday")) {
    if (!s.weekly) return fail("recurring.weekday applies to every: week only");
    auto day =
        r["weekday"].is_string() ? ParseWeekday(r["weekday"].get<std::string>()) : std::nullopt;
    if (!day) return fail("recurring.weekday must be monday ... sunday");
    s.weekday = *day;
  }
  if (r.contains("day")) {
    if (s.every != ScheduleSpec::Every::kMonth) {
      return fail("recurring.day applies to every: month only");
    }
    if (!r["day"].is_number_integer() || r["day"].get<std::int64_t>() < 1 ||
        r["day"].get<std::int64_t>() > 31) {
      return fail("recurring.day must be a day of the month, 1 to 31");
    }
    s.day_of_month = r["day"].get<unsigned>();
  } else if (s.every == ScheduleSpec::Every::kMonth) {
    return fail("recurring.day is required with every: month");
  }
  if (r.contains("start")) {
    auto day = date_of(r["start"]);
    if (!day) return fail("recurring.start must be a date like 2023-06-20");
    s.start = StartOfMoscowDay(*day);
  }
  if (r.contains("until")) {
    auto until =
        r["until"].is_string() ? ParseDeadline(r["until"].get<std::string>()) : std::nullopt;
    if (!until) return fail("recurring.until must be a date like 2024-12-28");
    s.until = *until;
    if (s.start && *s.until < *s.start) return fail("recurring.until is before its start");
  }
  if (r.contains("min_count")) {
    if (!r["min_count"].is_number_integer() || r["min_count"].get<std::int64_t>() < 1 ||
        r["min_count"].get<std::int64_t>() > 1000) {
      return fail("recurring.min_count must be an integer from 1 to 1000");
    }
    s.min_count = r["min_count"].get<unsigned>();
  }
  return s;
}

std::optional<Timestamp> NextDue(const ScheduleSpec& s, Timestamp after) {
  if (!s.recurring) return s.due;
  // The first period's due instant is the first one at or after the start of its start day.
  if (s.start && after < *s.start) after = *s.start - std::chrono::seconds(1);
  Timestamp next;
  switch (s.every) {
    case ScheduleSpec::Every::kDay:
      next = NextMoscowDaily(after, s.time_of_day);
      break;
    case ScheduleSpec::Every::kWeek:
      next = NextMoscowWeekly(after, s.weekday, s.time_of_day);
      break;
    case ScheduleSpec::Every::kMonth:
      next = NextMoscowMonthly(after, s.day_of_month, s.time_of_day);
      break;
  }
  if (s.until && next > *s.until) return std::nullopt;
  return next;
}

Timestamp ReportJudgedAt(const nlohmann::json& report) {
  Timestamp judged = Timestamp::max();
  if (auto at = report.find("at"); at != report.end() && at->is_string()) {
    if (auto t = ParseRfc3339(at->get<std::string>())) judged = *t;
  }
  if (auto d = report.find("letter_date"); d != report.end() && d->is_string()) {
    if (auto day = ParseDate(d->get<std::string>()))
      judged = std::min(judged, EndOfMoscowDay(*day));
  }
  return judged == Timestamp::max() ? Timestamp{} : judged;
}

nlohmann::json ReportsOf(const Fields& fields) {
  nlohmann::json reports = fields.Get("reports");
  return reports.is_array() ? reports : nlohmann::json::array();
}

std::vector<Timestamp> CountedReportTimes(const nlohmann::json& reports) {
  std::vector<Timestamp> out;
  for (const auto& r : reports) {
    if (r.value("status", "") != "returned") out.push_back(ReportJudgedAt(r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Timestamp> DueInstants(const ScheduleSpec& s, Timestamp through, std::size_t cap) {
  std::vector<Timestamp> out;
  if (!s.recurring) {
    if (s.due <= through && cap > 0) out.push_back(s.due);
    return out;
  }
  if (!s.start) return out;  // a series with no start has no first period to count from
  Timestamp after = *s.start - std::chrono::seconds(1);
  while (out.size() < cap) {
    auto next = NextDue(s, after);
    if (!next || *next > through) break;
    out.push_back(*next);
    after = *next;
  }
  return out;
}

}  // namespace expertflow::engine
