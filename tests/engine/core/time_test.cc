#include "engine/core/time.h"

#include <gtest/gtest.h>

namespace expertflow::engine {
namespace {

using std::chrono::days;
using std::chrono::hours;

TEST(Time, FormatsAndParsesRfc3339) {
  auto t = ParseRfc3339("2026-03-01T09:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2026-03-01T09:00:00Z");
  EXPECT_EQ(ParseRfc3339("2026-03-01T12:00:00+03:00"), t);
  EXPECT_EQ(ParseRfc3339("2026-03-01T09:00:00.750Z"), t);
  EXPECT_FALSE(ParseRfc3339("2026-03-01"));
  EXPECT_FALSE(ParseRfc3339("2026-03-01T09:00:00Zjunk"));
  EXPECT_FALSE(ParseRfc3339("2026-02-30T09:00:00Z"));
}

TEST(Time, BareDateDeadlineIsTheEndOfTheMoscowDay) {
  // API.md: a bare date means the end of that day, Moscow time (UTC+3).
  auto t = ParseDeadline("2024-12-28");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2024-12-28T20:59:59Z");
  EXPECT_FALSE(ParseDeadline("2024-13-01"));
}

TEST(Time, ParsesFixedLengthIsoDurations) {
  EXPECT_EQ(ParseIsoDuration("P30D"), days(30));
  EXPECT_EQ(ParseIsoDuration("P1W"), days(7));
  EXPECT_EQ(ParseIsoDuration("PT12H"), hours(12));
  EXPECT_EQ(ParseIsoDuration("P1DT2H30M"), days(1) + hours(2) + std::chrono::minutes(30));
  EXPECT_FALSE(ParseIsoDuration("P1Y"));
  // Each component once and in order (ISO 8601): a repeated one would multiply the bound.
  EXPECT_FALSE(ParseIsoDuration("P100000D100000D"));
  EXPECT_FALSE(ParseIsoDuration("PT1H1H"));
  EXPECT_FALSE(ParseIsoDuration("P1DT2H1D"));
  EXPECT_FALSE(ParseIsoDuration("PT30M2H"));
  EXPECT_FALSE(ParseIsoDuration("P1DT"));
  EXPECT_EQ(ParseIsoDuration("P1W2DT3H4M5S"),
            days(9) + hours(3) + std::chrono::minutes(4) + std::chrono::seconds(5));
  EXPECT_FALSE(ParseIsoDuration("P1M"));
  EXPECT_FALSE(ParseIsoDuration("P"));
  EXPECT_FALSE(ParseIsoDuration("30D"));
  EXPECT_FALSE(ParseIsoDuration("P-3D"));
}

TEST(Time, NextWeeklyInstantIsMoscowTime) {
  // 2024-10-23 was a Wednesday. The next "Monday 12:00 MSK" is 2024-10-28 09:00Z.
  auto after = *ParseRfc3339("2024-10-23T10:00:00Z");
  auto next = NextMoscowWeekly(after, std::chrono::Monday, hours(12));
  EXPECT_EQ(FormatRfc3339(next), "2024-10-28T09:00:00Z");
  // Exactly at the instant: the next one is a week later.
  EXPECT_EQ(FormatRfc3339(NextMoscowWeekly(next, std::chrono::Monday, hours(12))),
            "2024-11-04T09:00:00Z");
}

TEST(Time, NextDailyInstantCrossesMidnightInMoscow) {
  // 22:30Z is already 01:30 the next day in Moscow; 18:00 MSK that day is 15:00Z.
  auto after = *ParseRfc3339("2024-10-23T22:30:00Z");
  EXPECT_EQ(FormatRfc3339(NextMoscowDaily(after, hours(18))), "2024-10-24T15:00:00Z");
}

}  // namespace
}  // namespace expertflow::engine
