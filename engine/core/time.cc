#include "engine/core/time.h"

#include <date/date.h>

#include <charconv>
#include <sstream>

namespace expertflow::engine {

using std::chrono::days;
using std::chrono::sys_days;

std::string FormatRfc3339(Timestamp t) {
  // Hand-written because it sits on every event's path: date::format goes through a stream.
  const auto day = std::chrono::floor<days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  const int y = static_cast<int>(ymd.year());
  const unsigned parts[] = {static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                            static_cast<unsigned>(hms.hours().count()),
                            static_cast<unsigned>(hms.minutes().count()),
                            static_cast<unsigned>(hms.seconds().count())};
  if (y < 0 || y > 9999) return date::format("%FT%TZ", t);
  char buf[21] = "0000-00-00T00:00:00Z";
  buf[0] = static_cast<char>('0' + y / 1000);
  buf[1] = static_cast<char>('0' + y / 100 % 10);
  buf[2] = static_cast<char>('0' + y / 10 % 10);
  buf[3] = static_cast<char>('0' + y % 10);
  const int at[] = {5, 8, 11, 14, 17};
  for (int i = 0; i < 5; ++i) {
    buf[at[i]] = static_cast<char>('0' + parts[i] / 10);
    buf[at[i] + 1] = static_cast<char>('0' + parts[i] % 10);
  }
  return std::string(buf, 20);
}

namespace {

// "2026-03-01T09:00:00Z", the form every record carries, without a stream: replay parses one per
// event. nullopt for any other form.
std::optional<Timestamp> ParseCanonical(std::string_view t) {
  if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != 'Z') {
    return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    auto [ptr, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, out);
    return ec == std::errc() && ptr == t.data() + pos + len;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, s) || h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return Timestamp(sys_days(ymd)) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s);
}

}  // namespace

std::optional<Timestamp> ParseRfc3339(std::string_view text) {
  if (auto t = ParseCanonical(text)) return t;
  // date::parse is strict about the pattern; try the forms RFC 3339 allows, most common first.
  // It does not check that nothing follows the match, so a trailing remainder is refused here.
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  std::string s(text);
  for (char& c : s) {
    if (c == 't') c = 'T';
    if (c == 'z') c = 'Z';
  }
  for (const char* fmt : {"%FT%TZ", "%FT%T%Ez"}) {
    std::istringstream in(s);
    date::sys_time<std::chrono::microseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
      return std::chrono::floor<std::chrono::seconds>(tp);
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::year_month_day> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](std::size_t pos, std::size_t len, auto& out) {
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && ptr == text.data() + pos + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

Timestamp EndOfMoscowDay(std::chrono::year_month_day day) {
  return Timestamp(sys_days(day) + days(1) - kMoscowOffset - std::chrono::seconds(1));
}

std::optional<Timestamp> ParseDeadline(std::string_view text) {
  if (auto day = ParseDate(text)) return EndOfMoscowDay(*day);
  return ParseRfc3339(text);
}

std::chrono::year_month_day MoscowDate(Timestamp t) {
  return std::chrono::year_month_day(std::chrono::floor<days>(t + kMoscowOffset));
}

std::optional<Duration> ParseIsoDuration(std::string_view text) {
  if (text.size() < 3 || text.size() > 32 || text[0] != 'P') return std::nullopt;
  Duration total{0};
  bool in_time = false;
  bool any = false;
  int last_rank = -1;  // W, D, H, M, S in this order and each once (ISO 8601): no "P1D1D"
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    long long n = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || ptr == text.data() + text.size() || n < 0) return std::nullopt;
    i = static_cast<std::size_t>(ptr - text.data());
    char unit = text[i++];
    if (n > 100000) return std::nullopt;  // guards the multiplication below
    int rank = -1;
    if (!in_time && unit == 'W') {
      rank = 0;
      total += days(7 * n);
    } else if (!in_time && unit == 'D') {
      rank = 1;
      total += days(n);
    } else if (in_time && unit == 'H') {
      rank = 2;
      total += std::chrono::hours(n);
    } else if (in_time && unit == 'M') {
      rank = 3;
      total += std::chrono::minutes(n);
    } else if (in_time && unit == 'S') {
      rank = 4;
      total += std::chrono::seconds(n);
    }
    if (rank <= last_rank) return std::nullopt;
    last_rank = rank;
    any = true;
  }
  if (!any || text.back() == 'T') return std::nullopt;
  return total;
}

std::optional<Duration> ParseTimeOfDay(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  unsigned h = 0, m = 0;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + 2, h);
  auto [p2, e2] = std::from_chars(text.data() + 3, text.data() + 5, m);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + 2 || p2 != text.data() + 5 ||
      h > 23 || m > 59) {
    return std::nullopt;
  }
  return std::chrono::hours(h) + std::chrono::minutes(m);
}

std::optional<std::chrono::weekday> ParseWeekday(std::string_view text) {
  static constexpr std::string_view kNames[] = {"sunday",   "monday", "tuesday", "wednesday",
                                                "thursday", "friday", "saturday"};
  for (unsigned i = 0; i < 7; ++i) {
    if (text == kNames[i]) return std::chrono::weekday(i);
  }
  return std::nullopt;
}

Timestamp NextMoscowDaily(Timestamp after, Duration time_of_day) {
  auto local_day = std::chrono::floor<days>(after + kMoscowOffset);
  Timestamp candidate(local_day + time_of_day - kMoscowOffset);
  while (candidate <= after) candidate += days(1);
  return candidate;
}

Timestamp NextMoscowWeekly(Timestamp after, std::chrono::weekday day, Duration time_of_day) {
  auto local_day = std::chrono::floor<days>(after + kMoscowOffset);
  std::chrono::weekday today{sys_days(local_day)};
  auto target_day = local_day + (day - today);  // weekday difference is in [0, 6] days
  Timestamp candidate(target_day + time_of_day - kMoscowOffset);
  while (candidate <= after) candidate += days(7);
  return candidate;
}

Timestamp NextMoscowMonthly(Timestamp after, unsigned day_of_month, Duration time_of_day) {
  using namespace std::chrono;
  const year_month_day today = MoscowDate(after);
  year_month month = today.year() / today.month();
  for (;;) {
    const unsigned last_day = static_cast<unsigned>((month / std::chrono::last).day());
    const year_month_day day = month / std::chrono::day(std::min(day_of_month, last_day));
    Timestamp candidate(sys_days(day) + time_of_day - kMoscowOffset);
    if (candidate > after) return candidate;
    month += months(1);
  }
}

Timestamp StartOfMoscowDay(std::chrono::year_month_day day) {
  return Timestamp(sys_days(day) - kMoscowOffset);
}

}  // namespace expertflow::engine
