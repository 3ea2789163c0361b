// The fixture the REST contract tests share: a world with the usual principals and the helpers
// that create a draft and check a problem+json answer.
#pragma once

#include <gmock/gmock.h>

#include <string>

#include "tests/api/api_harness.h"

namespace expertflow::testing {

inline json Draft() {
  return {{"workflow", "industry_proposal"},
          {"payload",
           {{"title", "Единый подход"}, {"topic", "standard_programme"}, {"summary", "Кратко"}}}};
}

class Api : public ::testing::Test {
 protected:
  std::string Create(const std::string& token) {
    auto r = w_.Post("/api/v1/proposals", token, Draft());
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body.value("id", "");
  }
  void ExpectProblem(const Reply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.text;
    EXPECT_EQ(r.content_type, "application/problem+json");
    EXPECT_EQ(r.body.value("code", ""), code) << r.text;
    EXPECT_EQ(r.body.value("status", 0), status);
    EXPECT_TRUE(r.body.contains("title"));
    EXPECT_TRUE(r.body.contains("detail"));
  }

  ApiWorld w_;
  std::string assoc_ = w_.Token("assoc-05", "association_member");
  std::string umc_ = w_.Token("umc-05", "umc_lead");
  std::string other_umc_ = w_.Token("umc-12", "umc_lead");
  std::string irpo_ = w_.Token("irpo", "irpo_staff");
  std::string auditor_ = w_.Token("audit", "auditor");
  std::string ministry_ = w_.Token("ministry", "ministry_official");
};

// A protocol of one decision for every region's body ("all:roiv"), reported by 2026-02-01.
inline json AllRegionsProtocol(const std::string& number) {
  return {{"number", number},
          {"date", "2026-01-10"},
          {"title", "Всем регионам"},
          {"items",
           {{{"title", "Пункт"},
             {"decisions",
              {{{"text", "Отчитаться"},
                {"assignees", {"all:roiv"}},
                {"deadline", {{"due", "2026-02-01"}}}}}}}}}};
}

}  // namespace expertflow::testing
