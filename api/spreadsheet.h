#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace expertflow::api {

// A table to download: one header row and rows of cells, built once and written as CSV or XLSX
// from the same rows, so that the two downloads cannot disagree. A cell is a JSON scalar: a
// string, a number (a number in the spreadsheet too, never its text) or null (an empty cell).
struct Sheet {
  std::string name;  // the worksheet's name: at most 31 characters, none of []:*?/\ .
  std::vector<std::string> header;
  std::vector<std::vector<nlohmann::json>> rows;
};

// RFC 4180 with CRLF line ends, UTF-8 with a byte order mark so that a spreadsheet opens the
// Cyrillic right. A number is written as JSON writes it (2, 10.5).
std::string Csv(const Sheet& sheet);

// An Office Open XML workbook (a ZIP) of one worksheet: the header in bold and frozen above the
// rows, an autofilter over it, each column as wide as its longest cell (within limits). Written
// through a private temporary file, which is removed before returning. kInternal when the
// library or the file fails.
engine::Result<std::string> Xlsx(const Sheet& sheet);

inline constexpr const char* kXlsxContentType =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

}  // namespace expertflow::api
