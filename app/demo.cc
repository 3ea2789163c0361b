#include "app/demo.h"

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "app/seed_protocols.h"
#include "engine/model/payload.h"
#include "engine/projections/discipline.h"
#include "engine/runtime/consolidation.h"
#include "engine/runtime/protocols.h"

namespace expertflow::app {
namespace {

using engine::Timestamp;
using nlohmann::json;
using std::chrono::days;
using std::chrono::sys_days;

const json& SeedProtocol(std::string_view name) {
  static const std::map<std::string, json, std::less<>> kBodies = [] {
    std::map<std::string, json, std::less<>> out;
    for (const auto& f : seed_protocols::EmbeddedFiles())
      out[std::string(f.name)] = json::parse(f.data);
    return out;
  }();
  return kBodies.find(name)->second;
}

sys_days DayOf(Timestamp t) { return sys_days(engine::MoscowDate(t)); }
sys_days DateOf(const json& date) { return sys_days(*engine::ParseDate(date.get<std::string>())); }
std::string Text(sys_days d) { return engine::FormatRfc3339(Timestamp(d)).substr(0, 10); }

// When a protocol is registered: at the date of its distribution letter, else at its own date.
sys_days RegistrationDay(const json& body) {
  return DateOf(body.contains("letter") ? body["letter"]["date"] : body["date"]);
}

// Seed 003 asks for reports during the 2023 admission campaign; the decisions that name no end
// (every Monday, every day, ...) are ended by the ministry the day after its weekly reports end
// (IV.2.5: "еженедельно до 20 августа 2023 г."), as the ministry ends a series it no longer needs.
constexpr sys_days kSeriesEnded = sys_days(std::chrono::year(2023) / 8 / 21);

class Demo {
  struct Tracked {
    std::string id;
    engine::Participants participants;
    std::string expert;
  };

 public:
  Demo(engine::Sequencer& seq, engine::ManualClock& clock, Timestamp end)
      : seq_(seq), clock_(clock), end_(end), rng_(20241023) {}

  DemoSummary Run() {
    const auto& dir = seq_.directory();
    fumos_ = dir.Organizations("fumo");
    business_ = dir.Organizations("business");
    rumos_ = dir.Organizations("rumo");
    const auto umcs = dir.Organizations("umc");
    // The proposals and agreements live through the year that ends at `end_`; the protocols from
    // their dates on, which may be earlier (DemoStart).
    const Timestamp traffic_from = end_ - days(364);
    std::vector<std::string> pending = {"seed003.json", "seed002.json"};
    for (int week = 0; clock_.Now() < end_;) {
      for (auto it = pending.begin(); it != pending.end();) {
        if (DayOf(clock_.Now()) < RegistrationDay(SeedProtocol(*it))) {
          ++it;
          continue;
        }
        RegisterProtocol(SeedProtocol(*it));
        it = pending.erase(it);
      }
      if (clock_.Now() >= traffic_from) {
        // Every UMC's association drafts two or three proposals over the year.
        // The first twelve weeks run on version 1 (as if created before the upgrade to seed
        // 001 as written; they keep it to their end), the rest on version 2.
        for (std::size_t i = 0; i < umcs.size(); ++i) {
          if ((week + 3 * i) % 19 == 0) NewIndustryProposal(umcs[i]->id, i, week < 12 ? 1 : 2);
          if (week >= 12 && (week + i) % 52 == 13) NewEventsPlan(umcs[i]->id);
        }
        if (week % 9 == 2) NewFgosProposal();
        if (week % 11 == 1) NewAgreement();
        Progress();
        ++week;
      }
      ProgressAssignments();
      // The last step ends at `end_` (now, for `serve --demo`), not up to a week past it: the
      // server's clock takes over from there, and an event dated in the future would date every
      // later one with it (the log's times never go back).
      clock_.Advance(std::min<engine::Duration>(days(7), end_ - clock_.Now()));
      seq_.FireDueTimers();
    }
    summary_.assignments = assignments_.size();
    summary_.instances = static_cast<std::uint64_t>(
        industry_.size() + fgos_.size() + agreements_.size() + assignments_.size() + plans_.size());
    std::vector<engine::InstanceState> all;
    seq_.ForEachInstance([&](const engine::InstanceState& s) {
      if (s.collection == "assignments") all.push_back(s);
      return true;
    });
    summary_.discipline =
        engine::Discipline(all, engine::DisciplineQuery{}, dir, clock_.Now())["totals"];
    return summary_;
  }

 private:
  static engine::Principal As(std::string org, std::string role) {
    return engine::Principal{std::move(org), std::move(role), "demo"};
  }

  bool Chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  std::size_t Pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  std::optional<engine::CommandResult> Send(engine::Command cmd) {
    engine::Submission sub;
    sub.command = std::move(cmd);
    auto r = seq_.Submit(std::move(sub)).get();
    ++summary_.commands;
    if (!r) {
      ++summary_.refused;
      return std::nullopt;
    }
    return std::move(*r);
  }

  std::optional<std::vector<engine::CommandResult>> SendGroup(
      std::vector<engine::Submission> group) {
    std::promise<engine::Result<std::vector<engine::CommandResult>>> done;
    auto future = done.get_future();
    seq_.SubmitGroup(std::move(group), [&done](auto r) { done.set_value(std::move(r)); });
    auto r = future.get();
    ++summary_.commands;
    if (!r) {
      ++summary_.refused;
      return std::nullopt;
    }
    return std::move(*r);
  }

  std::optional<engine::CommandResult> Create(const std::string& collection,
                                              const std::string& workflow, engine::Principal actor,
                                              json payload, std::uint32_t version = 0) {
    engine::Command c;
    c.kind = engine::Command::Kind::kCreate;
    c.collection = collection;
    c.workflow = workflow;
    c.workflow_version = version;
    c.name = "create";
    c.actor = std::move(actor);
    c.payload = std::move(payload);
    return Send(std::move(c));
  }

  bool Act(const std::string& collection, const std::string& id, const std::string& command,
           engine::Principal actor, json payload = json::object()) {
    engine::Command c;
    c.collection = collection;
    c.instance_id = id;
    c.name = command;
    c.actor = std::move(actor);
    c.payload = std::move(payload);
    return Send(std::move(c)).has_value();
  }

  void NewIndustryProposal(const std::string& umc, std::size_t index, std::uint32_t version) {
    static const char* kTopics[] = {"unified_training_approach", "new_profession_or_specialty",
                                    "standard_programme",        "teaching_materials",
                                    "normative_documents",       "infrastructure",
                                    "profession_prestige"};
    static const char* kTitles[] = {"Единый отраслевой подход к практической подготовке",
                                    "Новая специальность для отрасли",
                                    "Примерная образовательная программа по профессии",
                                    "Комплект учебно-методических материалов",
                                    "Изменения в порядок организации демонстрационного экзамена",
                                    "Стандарт оснащения учебно-производственных мастерских",
                                    "Программа популяризации рабочих профессий"};
    const std::size_t t = (index + industry_.size()) % 7;
    const std::string assoc = "assoc-" + umc.substr(4);
    const auto* fumo = fumos_[(index * 5 + industry_.size()) % fumos_.size()];
    json draft = {
        {"title", kTitles[t]},
        {"topic", kTopics[t]},
        {"summary",
         "Позиция отраслевой ассоциации, сформированная по итогам обсуждения с работодателями"},
        {"ugps", {fumo->ugps}}};
    if (version == 1) {
      auto r = Create("proposals", "industry_proposal", As(assoc, "association_member"), draft, 1);
      if (r) industry_.push_back({r->instance.id, r->instance.participants, fumo->id});
      return;
    }
    // Version 2 (seed 001 §5.1, §5.2): the association forms one or two positions and sends
    // them to its UMC, which forms the draft from them, as POST /api/v1/proposals does.
    json positions = json::array();
    for (std::size_t n = 0, count = 1 + Pick(2); n < count; ++n) {
      auto pos = Create("positions", "industry_position", As(assoc, "association_member"),
                        {{"title", std::string("Позиция: ") + kTitles[t]},
                         {"topic", kTopics[t]},
                         {"summary", "Предложения участников кластеров отрасли"}});
      if (!pos) return;
      if (!Act("positions", pos->instance.id, "send_to_umc", As(assoc, "association_member")))
        return;
      positions.push_back(pos->instance.id);
    }
    draft["positions"] = positions;
    draft["summary"] = "Проект предложений УМЦ при участии отраслевой ассоциации";
    engine::Submission create;
    create.command.kind = engine::Command::Kind::kCreate;
    create.command.collection = "proposals";
    create.command.workflow = "industry_proposal";
    create.command.name = "create";
    create.command.actor = As(umc, "umc_lead");
    create.command.payload = draft;
    engine::RandomIdGenerator ids;
    auto group = engine::PlanConsolidation(seq_, seq_.definitions().Latest("industry_proposal"),
                                           std::move(create), ids);
    if (!group) {
      ++summary_.commands;
      ++summary_.refused;
      return;
    }
    auto r = SendGroup(std::move(*group));
    if (r)
      industry_.push_back({r->front().instance.id, r->front().instance.participants, fumo->id});
  }

  // §6.4: the UMC's yearly plan of industry events at the FTPO.
  void NewEventsPlan(const std::string& umc) {
    const int year = static_cast<int>(engine::MoscowDate(clock_.Now()).year()) + 1;
    auto r = Create(
        "event_plans", "industry_events_plan", As(umc, "umc_lead"),
        {{"year", year},
         {"events",
          {{{"title", "Отраслевой методический семинар"}, {"month", 3}, {"format", "seminar"}},
           {{"title", "Стажировка преподавателей на производстве"},
            {"month", 6},
            {"format", "training"}},
           {{"title", "Конференция отраслевого УМЦ"}, {"month", 10}, {"format", "conference"}}}}});
    if (r) plans_.push_back({r->instance.id, r->instance.participants, ""});
  }

  void ProgressEventsPlan(Tracked& p) {
    auto s = seq_.Find("event_plans", p.id);
    if (!s) return;
    const auto umc = As(p.participants["umc"], "umc_lead");
    if (s->state == "drafting" && Chance(50)) {
      Act("event_plans", p.id, "submit_for_agreement", umc);
    } else if (s->state == "agreeing" && s->round) {
      for (const auto& party : s->round->parties) {
        if (party.acted || !Chance(50)) continue;
        Act("event_plans", p.id, "agree", As(party.org, party.role),
            {{"verdict", Chance(90) ? "agree" : "revise"}});
      }
    } else if (s->state == "in_effect" && Chance(15)) {
      Act("event_plans", p.id, "record_event", As(p.participants["ftpo"], "ftpo_coordinator"),
          {{"title", "Отраслевое мероприятие в ФТПО"},
           {"held_on", Date(0)},
           {"participants", 20 + static_cast<int>(Pick(100))}});
    }
  }

  // A RUMO's proposal to the FUMO of a group, or now and then the FUMO's own (seed 000 §4.2а):
  // on a draft standard, or on an exemplary programme.
  void NewFgosProposal() {
    const auto* rumo = rumos_[Pick(rumos_.size())];
    const auto* fumo = fumos_[Pick(fumos_.size())];
    const bool own = Chance(30);
    const bool programme = Chance(25);
    auto r = Create("proposals", "fgos_proposal",
                    own ? As(fumo->id, "fumo_expert") : As(rumo->id, "rumo_member"),
                    {{"title", programme ? "Проект примерной образовательной программы"
                                         : "Предложения к проекту ФГОС СПО"},
                     {"ugps", fumo->ugps},
                     {"kind", programme ? "pop" : "fgos"},
                     {"standard", "ФГОС СПО по специальности группы " + fumo->ugps},
                     {"summary", "Уточнить требования к результатам освоения программы"}});
    if (r) fgos_.push_back({r->instance.id, r->instance.participants, fumo->id});
  }

  void NewAgreement() {
    const auto* rumo = rumos_[Pick(rumos_.size())];
    const auto* fumo = fumos_[Pick(fumos_.size())];
    auto r = Create("agreements", "agreement", As(fumo->id, "fumo_expert"),
                    {{"fumo", fumo->id},
                     {"rumo", rumo->id},
                     {"ugps", fumo->ugps},
                     {"city", seq_.directory().FindRegion(rumo->region_code)
                                  ? seq_.directory().FindRegion(rumo->region_code)->name
                                  : "Москва"}});
    if (r) agreements_.push_back({r->instance.id, r->instance.participants, ""});
  }

  std::string Date(int days_ahead) {
    return engine::FormatRfc3339(clock_.Now() + days(days_ahead)).substr(0, 10);
  }

  // Registers a protocol through the same all-or-nothing path as POST /api/v1/protocols.
  void RegisterProtocol(const json& body) {
    engine::RandomIdGenerator ids;
    auto plan =
        engine::PlanProtocol(body, As("ministry", "ministry_official"), seq_.directory(), ids);
    ++summary_.commands;
    if (!plan) {
      ++summary_.refused;
      return;
    }
    std::promise<engine::Result<std::vector<engine::CommandResult>>> done;
    auto future = done.get_future();
    seq_.SubmitGroup(std::move(plan->group), [&done](auto r) { done.set_value(std::move(r)); });
    auto r = future.get();
    if (!r) {
      ++summary_.refused;
      return;
    }
    ++summary_.protocols;
    for (const auto& result : *r) {
      if (result.instance.collection == "assignments") Track(result.instance);
    }
  }

  // Whoever of `org` may act in the first of `roles` its kind allows.
  engine::Principal Person(const std::string& org, std::initializer_list<const char*> roles) {
    const engine::Organization* o = seq_.directory().FindOrganization(org);
    for (const char* role : roles) {
      if (o != nullptr && seq_.directory().MayHoldRole(*o, role)) return As(org, role);
    }
    return As("ministry", "ministry_official");
  }

  // How an assignee deals with its assignments, drawn once per assignment: most report on time,
  // some late, some have a report returned and send it again late, some reports are still
  // waiting for review at the end, and some assignees never report.
  enum class Habit { kPunctual, kLate, kReturned, kUnreviewed, kNever };

  struct Assignment {
    std::string id;
    engine::Principal assignee, reviewer;
    std::optional<engine::ScheduleSpec> schedule;
    sys_days protocol_date;
    Habit habit = Habit::kNever;
    sys_days first_letter, late_letter;  // one-time: the first report's letter, a late one's
    int sent = 0;                        // one-time: reports sent
    Timestamp periods_done{};            // recurring: periods reported on up to here
    bool ended = false;
  };

  void Track(const engine::InstanceState& s) {
    Assignment a;
    a.id = s.id;
    a.assignee = Person(
        s.participants.at("assignee"),
        {"region_official", "employer_representative", "college_staff", "cluster_staff", "umc_lead",
         "project_office_staff", "university_staff", "irpo_staff", "association_member",
         "fumo_expert", "rumo_member", "ftpo_coordinator", "business_expert"});
    const std::string report_to = s.fields.value("report_to", "");
    a.reviewer = report_to.empty()
                     ? As("ministry", "ministry_official")
                     : Person(report_to, {"ministry_official", "irpo_staff", "project_office_staff",
                                          "university_staff"});
    a.protocol_date = DateOf(s.fields["protocol_date"]);
    if (s.fields.contains("deadline"))
      a.schedule = engine::ParseSchedule(s.fields["deadline"], nullptr);
    const int dice = static_cast<int>(Pick(100));
    a.habit = dice < 50   ? Habit::kPunctual
              : dice < 68 ? Habit::kLate
              : dice < 78 ? Habit::kReturned
              : dice < 85 ? Habit::kUnreviewed
                          : Habit::kNever;
    // A one-time deadline's day (a decision without one is asked for within a month); a letter
    // of the day before a deadline with a time, or of its very day otherwise, is on time.
    const bool dated = a.schedule && !a.schedule->recurring;
    const sys_days due = dated ? DayOf(a.schedule->due) : a.protocol_date + days(30);
    const bool by_time =
        dated && a.schedule->due != engine::EndOfMoscowDay(engine::MoscowDate(a.schedule->due));
    a.first_letter = std::max(a.protocol_date, due - days(by_time ? 1 : 0) - days(Pick(4)));
    a.late_letter = due + days(2 + Pick(40));
    a.periods_done = Timestamp(a.protocol_date);
    assignments_.push_back(std::move(a));
  }

  // A command for one assignment, done in order with the others of the same assignment.
  struct Step {
    std::string command;
    engine::Principal actor;
    json payload = json::object();
  };

  json Report(sys_days letter) {
    return {
        {"text", "Информация об исполнении поручения направлена"},
        {"letter", {{"number", "01-12/" + std::to_string(++letters_)}, {"date", Text(letter)}}}};
  }

  void ProgressAssignments() {
    std::map<std::string, std::deque<Step>> steps;
    const sys_days today = DayOf(clock_.Now());
    for (auto& a : assignments_) {
      if (a.ended) continue;
      auto s = seq_.Find("assignments", a.id);
      if (!s || (s->state != "assigned" && s->state != "reported")) {
        a.ended = true;
        continue;
      }
      if (a.schedule && a.schedule->recurring) {
        ProgressSeries(a, today, steps[a.id]);
      } else {
        ProgressOnce(a, *s, today, steps[a.id]);
      }
    }
    // A round sends the next step of every assignment at once, so the sequencer commits them
    // together, then waits for all before the next round.
    for (bool more = true; more;) {
      more = false;
      std::vector<std::pair<std::deque<Step>*, std::future<engine::Result<engine::CommandResult>>>>
          round;
      for (auto& [id, queue] : steps) {
        if (queue.empty()) continue;
        engine::Submission sub;
        sub.command.collection = "assignments";
        sub.command.instance_id = id;
        sub.command.name = queue.front().command;
        sub.command.actor = queue.front().actor;
        sub.command.payload = queue.front().payload;
        round.emplace_back(&queue, seq_.Submit(std::move(sub)));
      }
      for (auto& [queue, result] : round) {
        ++summary_.commands;
        queue->pop_front();
        if (!result.get()) {
          ++summary_.refused;
          queue->clear();
        }
        more = more || !queue->empty();
      }
    }
  }

  void ProgressOnce(Assignment& a, const engine::InstanceState& s, sys_days today,
                    std::deque<Step>& steps) {
    if (s.state == "reported") {
      // Reviewed a week after it came in; a returned report is sent again, late.
      if (a.habit == Habit::kUnreviewed) return;
      if (a.habit == Habit::kReturned && a.sent == 1) {
        steps.push_back({"return_report",
                         a.reviewer,
                         {{"comment", "Информация представлена не в полном объёме"}}});
      } else {
        steps.push_back({"accept_report", a.reviewer});
      }
      return;
    }
    if (a.habit == Habit::kNever || a.sent >= 2) return;
    // A report sent again after its return is dated the day it goes; a late one, some weeks
    // after the deadline.
    const bool late = a.habit == Habit::kLate || a.sent == 1;
    if ((late ? a.late_letter : a.first_letter) > today) return;
    const sys_days letter = a.sent == 1 ? today : late ? a.late_letter : a.first_letter;
    steps.push_back({"submit_report", a.assignee, Report(letter)});
    ++a.sent;
  }

  void ProgressSeries(Assignment& a, sys_days today, std::deque<Step>& steps) {
    const engine::ScheduleSpec& spec = *a.schedule;
    // An open-ended series is reported on until the ministry ends it (kSeriesEnded).
    const bool ending = !spec.until && today >= kSeriesEnded;
    // The share of periods an assignee reports on: a punctual one misses none.
    const int percent = a.habit == Habit::kPunctual     ? 100
                        : a.habit == Habit::kUnreviewed ? 90
                        : a.habit == Habit::kReturned   ? 80
                        : a.habit == Habit::kLate       ? 60
                                                        : 0;
    // Up to now, which is within a week of kSeriesEnded when the clock passed the protocol's
    // date; a demo started long after ends the series without reporting on years of periods.
    const Timestamp through = std::min(clock_.Now(), Timestamp(kSeriesEnded + days(7)));
    for (auto due = engine::NextDue(spec, a.periods_done); due && *due <= through;
         due = engine::NextDue(spec, *due)) {
      const sys_days start =
          std::max(a.protocol_date, DayOf(a.periods_done + std::chrono::seconds(1)));
      a.periods_done = *due;
      if (!Chance(percent)) continue;
      // min_count letters within the period, the last of its due day (of the day before, when
      // it is due at a time of day).
      const sys_days last = DayOf(*due) - days(spec.time_of_day == engine::kEndOfDay ? 0 : 1);
      for (unsigned i = 0; i < spec.min_count; ++i) {
        const sys_days letter = std::max(start, last - days(i));
        if (a.habit == Habit::kReturned && i == 0 && Chance(30)) {
          steps.push_back({"submit_report", a.assignee, Report(letter)});
          steps.push_back(
              {"return_report", a.reviewer, {{"comment", "Приложите подтверждающие материалы"}}});
        }
        steps.push_back({"submit_report", a.assignee, Report(letter)});
        steps.push_back({"accept_report", a.reviewer});
      }
    }
    if (ending) {
      steps.push_back({"end_schedule",
                       As("ministry", "ministry_official"),
                       {{"comment", "Приёмная кампания завершена, отчёты больше не требуются"}}});
      a.ended = true;
    }
  }

  void Progress() {
    for (auto& p : industry_) ProgressIndustry(p);
    for (auto& p : plans_) ProgressEventsPlan(p);
    for (auto& p : fgos_) ProgressFgos(p);
    for (auto& a : agreements_) ProgressAgreement(a);
  }

  void ProgressIndustry(Tracked& p) {
    auto s = seq_.Find("proposals", p.id);
    if (!s) return;
    if (s->workflow_version >= 2) return ProgressIndustryV2(p, *s);
    const auto umc = As(p.participants["umc"], "umc_lead");
    const auto assoc = As(p.participants["association"], "association_member");
    const auto ftpo = As(p.participants["ftpo"], "ftpo_coordinator");
    const auto ministry = As("ministry", "ministry_official");
    const std::string& st = s->state;
    if (st == "drafting" && Chance(45)) {
      if (Chance(30))
        Act("proposals", p.id, "update", assoc, {{"summary", "Уточнённая позиция ассоциации"}});
      Act("proposals", p.id, "submit_to_umc", assoc);
    } else if (st == "umc_review" && Chance(40)) {
      if (Chance(15)) {
        Act("proposals", p.id, "return_to_association", umc,
            {{"comment", "Дополнить обоснование"}});
      } else {
        json experts = {{"fumo", {p.expert}}};
        if (Chance(60)) experts["business"] = {business_[Pick(business_.size())]->id};
        Act("proposals", p.id, "send_to_expertise", umc, {{"experts", experts}});
      }
    } else if (st == "expertise" && s->round) {
      for (const auto& party : s->round->parties) {
        if (party.acted || !Chance(30)) continue;
        std::string verdict = Chance(85) ? "approve" : "revise";
        Act("proposals", p.id, "submit_conclusion", As(party.org, party.role),
            {{"verdict", verdict}, {"comment", "Экспертное заключение"}});
      }
    } else if (st == "approbation" && Chance(25)) {
      Act("proposals", p.id, "record_approbation", ftpo,
          {{"outcome", Chance(85) ? "successful" : "unsuccessful"},
           {"report", "Отчёт об апробации в ФТПО"}});
    } else if (st == "ministry_review" && Chance(35)) {
      int dice = static_cast<int>(Pick(100));
      if (dice < 70)
        Act("proposals", p.id, "approve", ministry);
      else if (dice < 90)
        Act("proposals", p.id, "return_for_revision", ministry,
            {{"comment", "Уточнить финансово-экономическое обоснование"}});
      else
        Act("proposals", p.id, "reject", ministry, {{"comment", "Не соответствует приоритетам"}});
    } else if (st == "dissemination" && Chance(40)) {
      if (Chance(60)) {
        Act("proposals", p.id, "record_training", ftpo,
            {{"programme", "Повышение квалификации педагогов"},
             {"teachers_trained", 20 + static_cast<int>(Pick(80))}});
      } else {
        Act("proposals", p.id, "complete", ftpo);
      }
    }
  }

  // Seed 001 as written: experts conclude over days to weeks, some ask for more time; the UMC
  // decides; approbation at the UMC and the FTPO takes months; then courses for teachers.
  void ProgressIndustryV2(Tracked& p, const engine::InstanceState& s) {
    const auto umc = As(p.participants["umc"], "umc_lead");
    const auto ftpo = As(p.participants["ftpo"], "ftpo_coordinator");
    const auto ministry = As("ministry", "ministry_official");
    const std::string& st = s.state;
    auto experts = [&] {
      json e = {{"fumo", {p.expert}}};
      if (Chance(50)) e["business"] = {business_[Pick(business_.size())]->id};
      return json{{"experts", e}};
    };
    if ((st == "drafting" || st == "umc_review") && Chance(45)) {
      Act("proposals", p.id, "send_to_expertise", umc, experts());
    } else if (st == "expertise" && s.round) {
      for (const auto& party : s.round->parties) {
        if (party.acted) continue;
        if (Chance(5) && s.overdue.empty()) {
          const std::string until = Date(21);
          if (Act("proposals", p.id, "request_extension", As(party.org, party.role),
                  {{"until", until}, {"reason", "Требуется дополнительное обсуждение"}}))
            Act("proposals", p.id, "grant_extension", umc,
                {{"expert", party.org}, {"until", until}});
          continue;
        }
        if (!Chance(30)) continue;
        const int dice = static_cast<int>(Pick(100));
        Act("proposals", p.id, "submit_conclusion", As(party.org, party.role),
            {{"verdict", dice < 75   ? "approve"
                         : dice < 93 ? "revise"
                                     : "reject"},
             {"comment", "Экспертное заключение"}});
      }
    } else if (st == "umc_decision" && Chance(60)) {
      const int dice = static_cast<int>(Pick(100));
      if (dice < 75)
        Act("proposals", p.id, "start_approbation", umc,
            {{"plan", "Апробация на базе УМЦ и ФТПО в течение учебного семестра"}});
      else if (dice < 92)
        Act("proposals", p.id, "send_to_expertise", umc, experts());
      else
        Act("proposals", p.id, "withdraw", umc, {{"comment", "Замечания экспертов не устранимы"}});
    } else if (st == "approbation" && s.round) {
      for (const auto& party : s.round->parties) {
        if (party.acted || !Chance(10)) continue;
        Act("proposals", p.id, "record_approbation", As(party.org, party.role),
            {{"outcome", Chance(88) ? "successful" : "unsuccessful"},
             {"report", "Отчёт об апробации"}});
      }
    } else if (st == "ministry_review" && Chance(30)) {
      const int dice = static_cast<int>(Pick(100));
      if (dice < 65)
        Act("proposals", p.id, "approve", ministry);
      else if (dice < 88)
        Act("proposals", p.id, "return_for_revision", ministry,
            {{"comment", "Уточнить финансово-экономическое обоснование"}});
      else
        Act("proposals", p.id, "reject", ministry, {{"comment", "Не соответствует приоритетам"}});
    } else if (st == "dissemination" && Chance(40)) {
      const auto planned = s.fields.value("courses", json::array());
      const auto done = s.fields.value("courses_completed", json::array());
      if (planned.size() < 2 && (planned.empty() || Chance(40))) {
        Act("proposals", p.id, "plan_course", ftpo,
            {{"number", std::to_string(planned.size() + 1)},
             {"programme", "Повышение квалификации педагогических работников"},
             {"starts_on", Date(7)},
             {"ends_on", Date(21)},
             {"places", 25}});
      } else if (done.size() < planned.size()) {
        Act("proposals", p.id, "record_course_result", ftpo,
            {{"number", planned[done.size()]},
             {"teachers_trained", 15 + static_cast<int>(Pick(10))}});
      } else {
        Act("proposals", p.id, "complete", ftpo);
      }
    }
  }

  // Version 2: a RUMO submits its draft to the FUMO, the FUMO sends its own to expertise; the
  // FUMO concludes beside the RUMOs it invites, then sends the proposal to the ministry.
  void ProgressFgos(Tracked& p) {
    auto s = seq_.Find("proposals", p.id);
    if (!s) return;
    const auto fumo = As(p.participants["fumo"], "fumo_expert");
    const json experts = {{"experts", {rumos_[Pick(rumos_.size())]->id}}};
    if (s->state == "drafting" && Chance(50)) {
      if (p.participants.contains("rumo"))
        Act("proposals", p.id, "submit_to_fumo", As(p.participants["rumo"], "rumo_member"));
      else
        Act("proposals", p.id, "open_expertise", fumo, experts);
    } else if (s->state == "fumo_review" && Chance(40)) {
      Act("proposals", p.id, "open_expertise", fumo, experts);
    } else if (s->state == "expertise_review" && Chance(40)) {
      Act("proposals", p.id, "send_to_ministry", fumo);
    } else if (s->state == "expertise" && s->round) {
      for (const auto& party : s->round->parties) {
        if (!party.acted && Chance(40)) {
          Act("proposals", p.id, "submit_conclusion", As(party.org, party.role),
              {{"verdict", "approve"}});
        }
      }
    } else if (s->state == "ministry_review" && Chance(30)) {
      Act("proposals", p.id, "approve", As("ministry", "ministry_official"));
    }
  }

  void ProgressAgreement(Tracked& a) {
    auto s = seq_.Find("agreements", a.id);
    if (!s) return;
    const auto fumo = As(a.participants["fumo"], "fumo_expert");
    const auto rumo = As(a.participants["rumo"], "rumo_member");
    if (s->state == "draft" && s->round) {
      for (const auto& party : s->round->parties) {
        if (!party.acted && Chance(50)) Act("agreements", a.id, "sign", As(party.org, party.role));
      }
    } else if (s->state == "active" && Chance(8)) {
      Act("agreements", a.id, "record_meeting", Chance(50) ? fumo : rumo,
          {{"date", Date(0)}, {"minutes", "Заседание рабочей группы"}});
    }
  }

  engine::Sequencer& seq_;
  engine::ManualClock& clock_;
  const Timestamp end_;
  std::mt19937_64 rng_;
  std::vector<const engine::Organization*> fumos_, business_, rumos_;
  std::vector<Tracked> industry_, fgos_, agreements_, plans_;
  std::vector<Assignment> assignments_;
  std::uint64_t letters_ = 0;
  DemoSummary summary_;
};

}  // namespace

Timestamp DemoStart(Timestamp end) {
  sys_days first = DayOf(end - days(364));
  for (const char* name : {"seed002.json", "seed003.json"}) {
    first = std::min(first, RegistrationDay(SeedProtocol(name)));
  }
  // Ten in the morning, Moscow time, of that day.
  return Timestamp(first) - engine::kMoscowOffset + std::chrono::hours(10);
}

DemoSummary RunDemo(engine::Sequencer& sequencer, engine::ManualClock& clock, Timestamp end) {
  return Demo(sequencer, clock, end).Run();
}

}  // namespace expertflow::app
