#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/time.h"
#include "engine/model/directory.h"
#include "engine/model/instance.h"

namespace expertflow::engine {

// Executive discipline on protocol assignments (seed 003 §II, «исполнительская дисциплина»),
// computed from the assignments as they stand and the time now. The rules (docs/discipline.md):
// - A report is on time when it was submitted by the due instant of its period, judged by
//   ReportJudgedAt (the time it was recorded, or the end of its letter's date for a report
//   entered after the fact); when the ministry or IRPO accepts it does not matter, and while it
//   awaits review the deadline does not run. A returned report counts for nothing: the one sent
//   again is judged by its own time.
// - One-time deadline: done on time / done late by the accepted report; open until the due
//   instant passes with no on-time report, then overdue; it counts as one period, missed when
//   it is overdue or was done late. No deadline: never overdue.
// - Recurring deadline: its periods run from the start (the protocol's date) to its end, the
//   ministry's end_schedule, or now; a period is missed when fewer than its minimum count of
//   reports fall in it. A series that has ended is done — on time when no period was missed.
struct AssignmentDiscipline {
  // "done_on_time", "done_late", "open", "overdue", "cancelled"
  std::string status;
  bool awaiting_review = false;   // a report is pending, whatever the status
  std::optional<Timestamp> due;   // one-time deadline
  std::uint32_t periods_due = 0;  // recurring: periods whose due instant has passed
  std::uint32_t periods_missed = 0;
  std::uint32_t reports = 0;  // reports submitted and not returned
};

AssignmentDiscipline Classify(const InstanceState& assignment, Timestamp now);

struct DisciplineQuery {
  std::string protocol;               // a protocol's id or number
  std::string assignee;               // an organisation id
  std::string decision;               // a decision number ("II.2.1"), with a protocol
  std::optional<Timestamp> from, to;  // the protocol's date (else the assignment's creation)
  std::string group_by = "assignee";  // "assignee", "protocol" or "decision"
  bool assignments = false;           // add the drill-down list of the assignments counted
};

// {"group_by", "items": [{<key columns>, "assigned", "done_on_time", "done_late", "open",
//  "overdue", "overdue_open" (= overdue, the version 1 name), "cancelled", "awaiting_review",
//  "periods_due", "periods_missed"}], "totals": {...}, "assignments": [...] (on request)}.
nlohmann::json Discipline(const std::vector<InstanceState>& assignments,
                          const DisciplineQuery& query, const Directory& directory, Timestamp now);

}  // namespace expertflow::engine
