// GET /metrics after some commands: what an operator's Prometheus reads (docs/metrics.md).
#include "api/metrics.h"

#include <gmock/gmock.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "tests/api/api_harness.h"

namespace expertflow::testing {
namespace {

using ::testing::HasSubstr;

// The value of the sample `series` (its name and labels exactly as written) in `text`; NaN when
// there is none.
double Sample(const std::string& text, const std::string& series) {
  const std::string line = "\n" + series + " ";
  const auto at = text.find(line);
  if (at == std::string::npos) return std::nan("");
  const auto value = at + line.size();
  return std::stod(text.substr(value, text.find('\n', value) - value));
}

json Draft() {
  return {
      {"workflow", "industry_proposal"},
      {"payload",
       {{"title", "t"}, {"topic", "infrastructure"}, {"summary", "s"}, {"ugps", {"09.00.00"}}}}};
}

std::string Stage(const char* metric, const char* stage) {
  return std::string(metric) + "{workflow=\"industry_proposal\",stage=\"" + stage + "\"}";
}

// given three proposals: one still drafted, one at its UMC, one in expertise past its 30 days
class MetricsAfterCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string assoc = w_.Token("assoc-01", "association_member");
    const std::string umc = w_.Token("umc-01", "umc_lead");
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
      auto r = w_.Post("/api/v1/proposals", assoc, Draft());
      ASSERT_EQ(r.status, 201) << r.text;
      ids.push_back(r.body["id"]);
    }
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(w_.Post("/api/v1/proposals/" + ids[i] + "/commands", assoc,
                        {{"command", "submit_to_umc"}})
                    .status,
                200);
    }
    ASSERT_EQ(w_.Post("/api/v1/proposals/" + ids[1] + "/commands", umc,
                      {{"command", "send_to_expertise"},
                       {"payload", {{"experts", {{"fumo", {"fumo-09.00.00"}}}}}}})
                  .status,
              200);
    // a refusal: the draft is no longer a draft
    ASSERT_EQ(
        w_.Post("/api/v1/proposals/" + ids[0] + "/commands", assoc, {{"command", "submit_to_umc"}})
            .status,
        409);
    ASSERT_EQ(w_.Post("/api/v1/admin/clock", w_.admin(), {{"advance", "P31D"}}).status, 200);
    auto m = w_.Get("/metrics", "");
    ASSERT_EQ(m.status, 200);
    text_ = m.text;
  }

  ApiWorld w_;
  std::string text_;
};

TEST_F(MetricsAfterCommands, ShouldCountWorkInProgressAndOverdueByWorkflowAndStage) {
  EXPECT_EQ(Sample(text_, Stage("expertflow_instances_in_progress", "association")), 1);
  EXPECT_EQ(Sample(text_, Stage("expertflow_instances_in_progress", "umc")), 1);
  EXPECT_EQ(Sample(text_, Stage("expertflow_instances_in_progress", "expertise")), 1);
  EXPECT_EQ(Sample(text_, Stage("expertflow_instances_overdue", "expertise")), 1)
      << "30 days of expertise passed";
  EXPECT_EQ(Sample(text_, Stage("expertflow_instances_in_progress", "ministry")), 0)
      << "every running stage has a series before its first instance";
  EXPECT_THAT(text_, ::testing::Not(HasSubstr("stage=\"rejected\"")))
      << "a terminal stage is not work in progress";
}

TEST_F(MetricsAfterCommands, ShouldAgreeWithTheStageStatisticsOnOverdue) {
  auto r =
      w_.Get("/api/v1/stats/stages?workflow=industry_proposal", w_.Token("irpo", "irpo_staff"));
  ASSERT_EQ(r.status, 200) << r.text;
  for (const auto& s : r.body["stages"]) {
    const std::string stage = s["stage"];
    const double gauge = Sample(text_, Stage("expertflow_instances_overdue", stage.c_str()));
    if (!std::isnan(gauge)) {
      EXPECT_EQ(gauge, s["overdue"].get<double>()) << stage;
    }
  }
}

TEST_F(MetricsAfterCommands, ShouldCountEveryAppendedEventAndEachBatchInAHistogram) {
  const double head = static_cast<double>(w_.Head());
  EXPECT_EQ(Sample(text_, "expertflow_log_head_seq"), head);
  EXPECT_EQ(Sample(text_, "expertflow_events_appended_total"), head);
  // Six commands, and the deadlines that fired, as system commands.
  const double accepted = Sample(text_, "expertflow_commands_total{outcome=\"accepted\"}");
  EXPECT_EQ(accepted, 6 + Sample(text_, "expertflow_timers_fired_total"));
  EXPECT_GE(Sample(text_, "expertflow_timers_fired_total"), 1);
  EXPECT_EQ(Sample(text_, "expertflow_commands_total{outcome=\"refused\"}"), 1);
  // One command a batch before the clock moved (each waited for its answer).
  const double batches = Sample(text_, "expertflow_batches_total");
  EXPECT_GE(batches, 7);
  EXPECT_EQ(Sample(text_, "expertflow_batch_commands_count"), batches);
  EXPECT_EQ(Sample(text_, "expertflow_batch_commands_sum"), accepted);
  EXPECT_GE(Sample(text_, "expertflow_batch_commands_bucket{le=\"1\"}"), 6);
  EXPECT_EQ(Sample(text_, "expertflow_batch_commands_bucket{le=\"+Inf\"}"), batches);
  EXPECT_EQ(Sample(text_, "expertflow_batch_write_seconds_count"), batches);
  EXPECT_EQ(Sample(text_, "expertflow_batch_decide_seconds_count"), batches);
  EXPECT_EQ(Sample(text_, "expertflow_batch_decide_seconds_bucket{le=\"+Inf\"}"), batches);
  EXPECT_GT(Sample(text_, "expertflow_batch_decide_seconds_sum"), 0);
  EXPECT_EQ(Sample(text_, "expertflow_writes_refused"), 0);
  EXPECT_THAT(text_, ::testing::Not(HasSubstr("_average")))
      << "averages are the histograms' sum over count";
}

// The gauges are kept batch by batch, not counted at each scrape: they must be what a count of
// every instance finds, and what a restart counts from the stored views.
TEST_F(MetricsAfterCommands, ShouldKeepTheStageLoadsARecountFindsAlsoAfterARestart) {
  auto recount = [](const engine::Sequencer& seq) {
    engine::WorkInProgress wip(seq.definitions());
    seq.ForEachInstance([&](const engine::InstanceState& s) {
      wip.Add(s);
      return true;
    });
    return wip.stages();
  };
  const auto live = w_.sequencer().StageLoads();
  EXPECT_EQ(live, recount(w_.sequencer()));
  w_.sequencer().Stop();
  const auto definitions = *workflows::BuiltinDefinitions();
  const auto routing = workflows::BuiltinRouting();
  engine::RandomIdGenerator ids;
  engine::Sequencer again(w_.log(), definitions, workflows::Builtin(), routing, w_.clock(), ids);
  ASSERT_TRUE(again.Start());
  EXPECT_EQ(again.StageLoads(), live);
  again.Stop();
}

TEST(Metrics, ShouldTimeRequestsByMethodAndRoute) {
  api::Metrics m;
  m.ObserveRequest("GET", "/api/v1/{c}/{id}", 200, 3000);
  m.ObserveRequest("GET", "/api/v1/{c}/{id}", 404, 700);
  m.ObserveRequest("POST", "/api/v1/{c}", 201, 700000);
  const std::string text = m.Render({});
  const std::string get = "method=\"GET\",route=\"/api/v1/{c}/{id}\"";
  const std::string post = "method=\"POST\",route=\"/api/v1/{c}\"";
  const std::string name = "expertflow_http_request_duration_seconds";
  EXPECT_EQ(Sample(text, name + "_bucket{" + get + ",le=\"0.0005\"}"), 0);
  EXPECT_EQ(Sample(text, name + "_bucket{" + get + ",le=\"0.001\"}"), 1);
  EXPECT_EQ(Sample(text, name + "_bucket{" + get + ",le=\"0.0025\"}"), 1);
  EXPECT_EQ(Sample(text, name + "_bucket{" + get + ",le=\"0.005\"}"), 2);
  EXPECT_EQ(Sample(text, name + "_count{" + get + "}"), 2);
  EXPECT_DOUBLE_EQ(Sample(text, name + "_sum{" + get + "}"), 0.0037);
  EXPECT_EQ(Sample(text, name + "_bucket{" + post + ",le=\"0.5\"}"), 0);
  EXPECT_EQ(Sample(text, name + "_bucket{" + post + ",le=\"1\"}"), 1);
  EXPECT_EQ(Sample(text, name + "_count{" + post + "}"), 1);
  EXPECT_EQ(Sample(text,
                   "expertflow_http_requests_total{method=\"GET\",route=\"/api/v1/{c}/{id}\","
                   "status=\"404\"}"),
            1);
}

TEST(Metrics, ShouldShowTheProcessAndTheBuild) {
  // The kernel counts CPU time in ticks (10 ms): a test that starts in less than one has none
  // yet. Spend a few ticks first, so that a zero is the metric's fault.
  const auto cpu = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
  };
  // Each turn reads the clock, a call the compiler cannot drop: the loop spends the CPU itself.
  while (cpu() < 0.05) {
  }
  const std::string text = api::Metrics().Render({});
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(Sample(text, "process_virtual_memory_bytes"),
            Sample(text, "process_resident_memory_bytes"));
  EXPECT_GT(Sample(text, "process_cpu_seconds_total"), 0);
  const double fds = Sample(text, "process_open_fds");
  EXPECT_GE(fds, 3) << "stdin, stdout, stderr";
  EXPECT_LT(fds, Sample(text, "process_max_fds"));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = Sample(text, "process_start_time_seconds");
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 24 * 3600) << "this test started less than a day ago";
  EXPECT_TRUE(std::regex_search(
      text, std::regex("\nexpertflow_build_info\\{version=\"[0-9]+\\.[0-9]+\\.[0-9]+\"\\} 1\n")))
      << text;
}

// A sequencer that follows another on the same log (the server after `serve --demo`) counts
// what the first appended.
TEST(Metrics, ShouldCountWhatAnEarlierSequencerAppended) {
  ApiWorld w;
  const std::string assoc = w.Token("assoc-01", "association_member");
  ASSERT_EQ(w.Post("/api/v1/proposals", assoc, Draft()).status, 201);
  engine::SequencerStats earlier;
  earlier.events = 5;
  earlier.commands = 4;
  earlier.batches = 2;
  earlier.batch_buckets[1] = 2;
  w.sequencer().CarryStats(earlier);
  const std::string text = w.Get("/metrics", "").text;
  EXPECT_EQ(Sample(text, "expertflow_events_appended_total"), 6);
  EXPECT_EQ(Sample(text, "expertflow_batches_total"), 3);
  EXPECT_EQ(Sample(text, "expertflow_batch_commands_bucket{le=\"2\"}"), 3);
}

}  // namespace
}  // namespace expertflow::testing
