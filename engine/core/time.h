#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace expertflow::engine {

// Business time has whole-second precision: it is what events carry in `occurred_at` and what
// deadlines are computed in. Latency is measured elsewhere with a steady clock.
using Timestamp = std::chrono::sys_seconds;
using Duration = std::chrono::seconds;

// Moscow has been UTC+3 all year since 2014; the seeds and API.md state deadlines in Moscow time.
inline constexpr Duration kMoscowOffset = std::chrono::hours(3);

// The last instant a record can carry: `occurred_at` and deadlines are written with four-digit
// years, and a record that could not be read back would break every replay after it.
inline constexpr Timestamp kLastRecordableTime =
    std::chrono::sys_days(std::chrono::year(9999) / 12 / 31) + std::chrono::seconds(86399);

// "2026-03-01T09:00:00Z".
std::string FormatRfc3339(Timestamp t);
// RFC 3339: "2026-03-01T09:00:00Z", with optional fraction (truncated to seconds) and an offset
// ("+03:00") instead of Z. nullopt when it is not one.
std::optional<Timestamp> ParseRfc3339(std::string_view text);
// Whether a deadline due at `due` has passed at `now`. A due instant is the last second that
// still counts: an action at `due` itself is in time (API.md: a bare date is due at 23:59:59
// Moscow, and the whole of that second belongs to the day), so a deadline passes, and its timer
// fires, from the next second on.
inline bool HasPassed(Timestamp due, Timestamp now) { return due < now; }

// A calendar date "2024-12-28"; nullopt when not a real date.
std::optional<std::chrono::year_month_day> ParseDate(std::string_view text);
// "2024-12-28" as a deadline: the last second of that day in Moscow (23:59:59+03:00), API.md.
Timestamp EndOfMoscowDay(std::chrono::year_month_day day);
// A deadline written either as a bare date (end of that Moscow day) or as an RFC 3339 time.
std::optional<Timestamp> ParseDeadline(std::string_view text);
// The calendar date in Moscow of an instant.
std::chrono::year_month_day MoscowDate(Timestamp t);

// ISO 8601 durations with fixed-length units only: "P30D", "P1W", "PT12H", "P1DT2H30M", "PT45S".
// Years and months have no fixed length and are refused (write "P365D").
std::optional<Duration> ParseIsoDuration(std::string_view text);

// "12:00" -> 12h; nullopt unless HH:MM with HH < 24 and MM < 60.
std::optional<Duration> ParseTimeOfDay(std::string_view text);
// "monday" ... "sunday" (English, lower case) -> weekday.
std::optional<std::chrono::weekday> ParseWeekday(std::string_view text);

// The first instant strictly after `after` that falls on `day` at `time_of_day`, Moscow time.
Timestamp NextMoscowWeekly(Timestamp after, std::chrono::weekday day, Duration time_of_day);
// The first instant strictly after `after` at `time_of_day`, Moscow time.
Timestamp NextMoscowDaily(Timestamp after, Duration time_of_day);
// The first instant strictly after `after` on day `day_of_month` (1..31; a month shorter than that
// uses its last day) at `time_of_day`, Moscow time.
Timestamp NextMoscowMonthly(Timestamp after, unsigned day_of_month, Duration time_of_day);
// The first instant of a Moscow day (00:00+03:00).
Timestamp StartOfMoscowDay(std::chrono::year_month_day day);
// A time of day that means "by the end of the day": 23:59:59, as a bare date's deadline.
inline constexpr Duration kEndOfDay = std::chrono::hours(24) - std::chrono::seconds(1);

}  // namespace expertflow::engine
