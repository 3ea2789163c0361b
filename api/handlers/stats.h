#pragma once

#include <nlohmann/json.hpp>

#include "api/spreadsheet.h"

// The monitoring tables as downloads (stats.cc): the rows both the CSV and the XLSX are written
// from, with the Russian headers of IRPO's reports.
namespace expertflow::api::handlers {

// The discipline table (engine::Discipline's answer): one row per item, the columns its items
// hold, in the order of seed 003 §II; with no items, the figures' columns alone.
Sheet DisciplineSheet(const nlohmann::json& table);

// The stage statistics (engine::StageStatistics::Stages' answer): one row per stage in the
// workflow's order, its Russian name beside its code; grouped, each stage's row (group «всего»)
// is followed by a row per group. Weekly throughput is left to the JSON.
Sheet StagesSheet(const nlohmann::json& stages);

}  // namespace expertflow::api::handlers
