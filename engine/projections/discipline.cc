#include "engine/projections/discipline.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "engine/model/payload.h"

namespace expertflow::engine {

using nlohmann::json;

namespace {

// A daily series over decades stops counting here; the drill-down says so by its figures.
constexpr std::size_t kMaxPeriods = 20000;

bool Pending(const json& r) { return r.value("status", "") == "pending"; }

// Version 1 assignments keep their period list in the events (DeadlineMissed counted a report
// accepted after the due instant as late: issue 15); they are read as version 1 recorded them.
AssignmentDiscipline ClassifyV1(const InstanceState& a) {
  AssignmentDiscipline d;
  for (const auto& p : a.periods) {
    d.periods_due += p.missed || p.accepted ? 1 : 0;
    d.periods_missed += p.missed ? 1 : 0;
  }
  const bool late = std::any_of(a.periods.begin(), a.periods.end(), [](const Period& p) {
    return p.missed || (p.accepted && !p.on_time);
  });
  d.awaiting_review = a.state == "reported";
  if (a.state == "done") {
    d.status = late ? "done_late" : "done_on_time";
  } else if (a.state == "cancelled") {
    d.status = "cancelled";
  } else {
    d.status = a.overdue.empty() ? "open" : "overdue";
  }
  return d;
}

}  // namespace

AssignmentDiscipline Classify(const InstanceState& a, Timestamp now) {
  if (a.workflow_version < 2) return ClassifyV1(a);
  AssignmentDiscipline d;
  const json& reports = ReportsOf(a.fields);
  const std::vector<Timestamp> counted = CountedReportTimes(reports);
  const json* accepted = nullptr;
  for (const auto& r : reports) {
    if (Pending(r)) d.awaiting_review = true;
    if (r.value("status", "") == "accepted") accepted = &r;
  }
  d.reports = static_cast<std::uint32_t>(counted.size());
  const bool closed = a.state == "done" || a.state == "cancelled";
  auto schedule =
      a.fields.contains("deadline") ? ParseSchedule(a.fields["deadline"], nullptr) : std::nullopt;

  if (!schedule || !schedule->recurring) {
    if (schedule) d.due = schedule->due;
    if (a.state == "cancelled") {
      d.status = "cancelled";
    } else if (a.state == "done") {
      const bool on_time =
          accepted == nullptr || !schedule ||
          accepted->value("on_time", !HasPassed(schedule->due, ReportJudgedAt(*accepted)));
      d.status = on_time ? "done_on_time" : "done_late";
    } else {
      // Open: overdue once the due instant passed without a report sent by it (a pending one
      // sent in time stops the clock; a late one under review does not make it on time).
      const bool in_time = std::any_of(reports.begin(), reports.end(), [&](const json& r) {
        return Pending(r) &&
               !HasPassed(schedule ? schedule->due : Timestamp::max(), ReportJudgedAt(r));
      });
      d.status = schedule && HasPassed(schedule->due, now) && !in_time ? "overdue" : "open";
    }
    // A one-time deadline is one period: due once its instant passed (or the work is done),
    // missed when no report was sent by it (version 1 counted it so too).
    if (schedule && d.status != "cancelled") {
      d.periods_due = HasPassed(schedule->due, now) || a.state == "done" ? 1 : 0;
      d.periods_missed = d.status == "overdue" || d.status == "done_late" ? 1 : 0;
    }
    return d;
  }

  // Recurring: count the periods up to now, the series' end, or the moment it was closed.
  Timestamp through = now - std::chrono::seconds(1);
  if (closed) through = std::min(through, a.stage_entered_at);
  const std::vector<Timestamp> dues = DueInstants(*schedule, through, kMaxPeriods);
  std::optional<Timestamp> begun = schedule->start;
  std::size_t r = 0;
  bool last_missed = false;
  for (Timestamp due : dues) {
    while (r < counted.size() && begun && !(*begun < counted[r])) ++r;  // before this period
    std::uint32_t n = 0;
    while (r < counted.size() && !(due < counted[r])) {
      ++n;
      ++r;
    }
    last_missed = n < schedule->min_count;
    d.periods_missed += last_missed ? 1 : 0;
    begun = due;
  }
  d.periods_due = static_cast<std::uint32_t>(dues.size());
  const bool series_over = !NextDue(*schedule, through).has_value();
  if (a.state == "cancelled") {
    d.status = "cancelled";
  } else if (a.state == "done" || series_over) {
    d.status = d.periods_missed == 0 ? "done_on_time" : "done_late";
  } else {
    d.status = last_missed ? "overdue" : "open";
  }
  return d;
}

json Discipline(const std::vector<InstanceState>& assignments, const DisciplineQuery& q,
                const Directory& directory, Timestamp now) {
  struct Acc {
    json key;
    std::uint64_t assigned = 0, done_on_time = 0, done_late = 0, open = 0, overdue = 0,
                  cancelled = 0, awaiting_review = 0, periods_due = 0, periods_missed = 0;
    void Add(const AssignmentDiscipline& d) {
      ++assigned;
      done_on_time += d.status == "done_on_time";
      done_late += d.status == "done_late";
      open += d.status == "open";
      overdue += d.status == "overdue";
      cancelled += d.status == "cancelled";
      awaiting_review += d.awaiting_review;
      periods_due += d.periods_due;
      periods_missed += d.periods_missed;
    }
    json Row() const {
      json row = key;
      row["assigned"] = assigned;
      row["done_on_time"] = done_on_time;
      row["done_late"] = done_late;
      row["open"] = open;
      row["overdue"] = overdue;
      row["overdue_open"] = overdue;
      row["cancelled"] = cancelled;
      row["awaiting_review"] = awaiting_review;
      row["periods_due"] = periods_due;
      row["periods_missed"] = periods_missed;
      return row;
    }
  };
  // Rows in a stable order: by assignee id, or by protocol date and number, then decision.
  std::map<std::tuple<std::string, std::string, std::string>, Acc> rows;
  Acc totals;
  json drill = json::array();
  auto name_of = [&](const std::string& id) {
    const Organization* o = directory.FindOrganization(id);
    return o ? o->name : id;
  };
  for (const auto& a : assignments) {
    if (a.workflow != "protocol_assignment") continue;
    const std::string protocol = a.fields.value("protocol", "");
    const std::string number = a.fields.value("protocol_number", "");
    if (!q.protocol.empty() && protocol != q.protocol && number != q.protocol) continue;
    auto assignee = a.participants.find("assignee");
    if (assignee == a.participants.end()) continue;
    if (!q.assignee.empty() && assignee->second != q.assignee) continue;
    const std::string decision = a.fields.value("decision_number", "");
    if (!q.decision.empty() && decision != q.decision) continue;
    const std::string date = a.fields.value("protocol_date", "");
    Timestamp when = a.created_at;
    if (auto day = ParseDate(date)) when = StartOfMoscowDay(*day);
    if ((q.from && when < *q.from) || (q.to && !(when < *q.to))) continue;

    const AssignmentDiscipline d = Classify(a, now);
    std::tuple<std::string, std::string, std::string> key;
    json key_json;
    if (q.group_by == "protocol" || q.group_by == "decision") {
      key = {date, number, q.group_by == "decision" ? decision : ""};
      key_json = {{"protocol", protocol}, {"protocol_number", number}, {"protocol_date", date}};
      if (q.group_by == "decision") {
        key_json["decision_number"] = decision;
        key_json["decision"] = a.fields.value("decision", "");
      }
    } else {
      key = {assignee->second, "", ""};
      key_json = {{"assignee", assignee->second}, {"assignee_name", name_of(assignee->second)}};
    }
    Acc& acc = rows[key];
    if (acc.assigned == 0) acc.key = std::move(key_json);
    acc.Add(d);
    totals.Add(d);
    if (q.assignments) {
      json row = {{"id", a.id},
                  {"protocol", protocol},
                  {"protocol_number", number},
                  {"decision_number", decision},
                  {"assignee", assignee->second},
                  {"state", a.state},
                  {"status", d.status},
                  {"awaiting_review", d.awaiting_review},
                  {"reports", d.reports},
                  {"periods_due", d.periods_due},
                  {"periods_missed", d.periods_missed}};
      if (d.due) row["due"] = FormatRfc3339(*d.due);
      drill.push_back(std::move(row));
    }
  }
  json items = json::array();
  for (const auto& [key, acc] : rows) items.push_back(acc.Row());
  if (q.group_by == "assignee") {
    // The ones with work overdue first, then the most periods missed (seed 003 §II: who lags).
    std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
      return std::make_pair(a["overdue"].get<std::uint64_t>(),
                            a["periods_missed"].get<std::uint64_t>()) >
             std::make_pair(b["overdue"].get<std::uint64_t>(),
                            b["periods_missed"].get<std::uint64_t>());
    });
  }
  json totals_row = totals.Row();
  json out = {{"group_by", q.group_by},
              {"as_of", FormatRfc3339(now)},
              {"items", items},
              {"totals", totals_row}};
  if (!q.protocol.empty()) out["protocol"] = q.protocol;
  if (q.assignments) out["assignments"] = std::move(drill);
  return out;
}

}  // namespace expertflow::engine
