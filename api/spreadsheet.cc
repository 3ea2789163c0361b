#include "api/spreadsheet.h"

#include <stdlib.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

namespace expertflow::api {
namespace {

using engine::ErrorCode;
using nlohmann::json;

std::string Text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
}

std::string CsvCell(const json& v) {
  std::string text = Text(v);
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// Characters, not bytes: a column of Cyrillic is as wide as its letters.
std::size_t Utf8Length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Removes the temporary file however the writing ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

struct WorkbookCloser {
  void operator()(lxw_workbook* wb) const { workbook_close(wb); }
};

engine::Result<void> Check(lxw_error e, const char* what) {
  if (e == LXW_NO_ERROR) return {};
  return engine::Fail(ErrorCode::kInternal,
                      std::string("spreadsheet: ") + what + ": " + lxw_strerror(e));
}

}  // namespace

std::string Csv(const Sheet& sheet) {
  std::string out = "\xEF\xBB\xBF";
  for (std::size_t i = 0; i < sheet.header.size(); ++i) {
    out += (i ? "," : "") + CsvCell(sheet.header[i]);
  }
  out += "\r\n";
  for (const auto& row : sheet.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + CsvCell(row[i]);
    out += "\r\n";
  }
  return out;
}

engine::Result<std::string> Xlsx(const Sheet& sheet) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  std::string pattern = (dir / "expertflow-sheet-XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) return engine::Fail(ErrorCode::kInternal, "spreadsheet: no temporary file");
  ::close(fd);
  TempFile file{pattern};

  // libxlsxwriter 1.1.4 (Debian 12) writes only to a named file: its output_buffer came later.
  std::unique_ptr<lxw_workbook, WorkbookCloser> wb(workbook_new(file.path.c_str()));
  if (!wb) return engine::Fail(ErrorCode::kInternal, "spreadsheet: no workbook");
  // Checked first: the library would say why on stderr only.
  if (auto r = Check(workbook_validate_sheet_name(wb.get(), sheet.name.c_str()), "sheet name"); !r)
    return std::unexpected(r.error());
  lxw_worksheet* ws = workbook_add_worksheet(wb.get(), sheet.name.c_str());
  if (ws == nullptr) return engine::Fail(ErrorCode::kInternal, "spreadsheet: no worksheet");
  lxw_format* bold = workbook_add_format(wb.get());
  format_set_bold(bold);

  std::vector<std::size_t> widths(sheet.header.size(), 0);
  for (std::size_t c = 0; c < sheet.header.size(); ++c) {
    auto col = static_cast<lxw_col_t>(c);
    if (auto r = Check(worksheet_write_string(ws, 0, col, sheet.header[c].c_str(), bold), "header");
        !r)
      return std::unexpected(r.error());
    widths[c] = Utf8Length(sheet.header[c]);
  }
  for (std::size_t r = 0; r < sheet.rows.size(); ++r) {
    const auto row = static_cast<lxw_row_t>(r + 1);
    for (std::size_t c = 0; c < sheet.rows[r].size() && c < widths.size(); ++c) {
      const json& v = sheet.rows[r][c];
      const auto col = static_cast<lxw_col_t>(c);
      lxw_error e = LXW_NO_ERROR;
      if (v.is_number()) {
        e = worksheet_write_number(ws, row, col, v.get<double>(), nullptr);
      } else if (!v.is_null()) {
        e = worksheet_write_string(ws, row, col, Text(v).c_str(), nullptr);
      }
      if (auto ok = Check(e, "cell"); !ok) return std::unexpected(ok.error());
      widths[c] = std::max(widths[c], Utf8Length(Text(v)));
    }
  }
  for (std::size_t c = 0; c < widths.size(); ++c) {
    // A little wider than the text (bold headers, the filter's button), never a wall of text.
    const double width = std::clamp(static_cast<double>(widths[c]) + 2.0, 8.0, 60.0);
    const auto col = static_cast<lxw_col_t>(c);
    (void)worksheet_set_column(ws, col, col, width, nullptr);
  }
  worksheet_freeze_panes(ws, 1, 0);
  if (!sheet.header.empty()) {
    (void)worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(sheet.rows.size()),
                               static_cast<lxw_col_t>(sheet.header.size() - 1));
  }
  if (auto r = Check(workbook_close(wb.release()), "write"); !r) return std::unexpected(r.error());

  std::ifstream in(file.path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return engine::Fail(ErrorCode::kInternal, "spreadsheet: cannot read the workbook back");
  }
  return bytes;
}

}  // namespace expertflow::api
