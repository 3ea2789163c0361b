#include "app/demo.h"

#include <future>
#include <random>
#include <string>
#include <vector>

#include "engine/runtime/protocols.h"

namespace expertflow::app {
namespace {

using nlohmann::json;
using std::chrono::days;

class Demo {
 public:
  Demo(engine::Sequencer& seq, engine::ManualClock& clock)
      : seq_(seq), clock_(clock), rng_(20241023) {}

  DemoSummary Run() {
    const auto& dir = seq_.directory();
    fumos_ = dir.Organizations("fumo");
    business_ = dir.Organizations("business");
    rumos_ = dir.Organizations("rumo");
    const auto umcs = dir.Organizations("umc");
    for (int week = 0; week < 52; ++week) {
      // Every UMC's association drafts two or three proposals over the year.
      for (std::size_t i = 0; i < umcs.size(); ++i) {
        if ((week + 3 * i) % 19 == 0) NewIndustryProposal(umcs[i]->id, i);
      }
      if (week % 9 == 2) NewFgosProposal();
      if (week % 11 == 1) NewAgreement();
      if (week == 1) Protocol98();
      if (week == 20) Protocol78();
      Progress();
      clock_.Advance(days(7));
      seq_.FireDueTimers();
    }
    summary_.instances = static_cast<std::uint64_t>(industry_.size() + fgos_.size() +
                                                    agreements_.size() + assignments_.size());
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

  std::optional<engine::CommandResult> Create(const std::string& collection,
                                              const std::string& workflow, engine::Principal actor,
                                              json payload) {
    engine::Command c;
    c.kind = engine::Command::Kind::kCreate;
    c.collection = collection;
    c.workflow = workflow;
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

  void NewIndustryProposal(const std::string& umc, std::size_t index) {
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
    auto r = Create(
        "proposals", "industry_proposal", As(assoc, "association_member"),
        {{"title", kTitles[t]},
         {"topic", kTopics[t]},
         {"summary",
          "Позиция отраслевой ассоциации, сформированная по итогам обсуждения с работодателями"},
         {"ugps", {fumo->ugps}}});
    if (r) industry_.push_back({r->instance.id, r->instance.participants, fumo->id});
  }

  void NewFgosProposal() {
    const auto* rumo = rumos_[Pick(rumos_.size())];
    const auto* fumo = fumos_[Pick(fumos_.size())];
    auto r = Create("proposals", "fgos_proposal", As(rumo->id, "rumo_member"),
                    {{"title", "Предложения к проекту ФГОС СПО"},
                     {"ugps", fumo->ugps},
                     {"standard", "Проект ФГОС СПО по специальности группы " + fumo->ugps},
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
    for (const auto& result : *r) {
      if (result.instance.collection == "assignments") {
        assignments_.push_back({result.instance.id, result.instance.participants, ""});
      }
    }
  }

  // Modelled on seed 002 (protocol № Д05-98/05пр of 23 October 2024): a dated report from a set
  // of regions, and weekly Monday 12:00 reports until a date.
  void Protocol98() {
    RegisterProtocol(
        {{"number", "Д05-98/05пр"},
         {"date", Date(0)},
         {"title",
          "Совещание с органами исполнительной власти субъектов Российской Федерации, "
          "осуществляющими государственное управление в сфере образования"},
         {"chair", "Директор Департамента"},
         {"items",
          {{{"title", "О реализации федерального проекта «Профессионалитет»"},
            {"decisions",
             {{{"text", "Представить информацию о ходе создания образовательных кластеров"},
               {"assignees",
                {"roiv-31", "roiv-69", "roiv-52", "roiv-74", "roiv-16", "roiv-66", "roiv-77"}},
               {"deadline", {{"due", Date(60)}}}},
              {{"text", "Еженедельно по понедельникам до 12:00 (МСК) представлять мониторинг"},
               {"assignees", {"roiv-52", "roiv-16", "roiv-23"}},
               {"deadline",
                {{"recurring",
                  {{"every", "week"},
                   {"weekday", "monday"},
                   {"time", "12:00"},
                   {"until", Date(90)}}}}}}}}}}}});
  }

  // Modelled on seed 003 (protocol № Д05-78/05пр of 20 June 2023): weekly reports by Friday
  // 18:00 and a dated one.
  void Protocol78() {
    RegisterProtocol({{"number", "Д05-78/05пр"},
                      {"date", Date(0)},
                      {"title",
                       "Совещание с победителями конкурса на предоставление грантов (кластеры "
                       "«Профессионалитет»)"},
                      {"items",
                       {{{"title", "Об исполнительской дисциплине"},
                         {"decisions",
                          {{{"text", "Еженедельно до 18:00 (МСК) пятницы направлять отчёт"},
                            {"assignees", {"roiv-02", "roiv-38", "roiv-54", "roiv-61", "roiv-78"}},
                            {"deadline",
                             {{"recurring",
                               {{"every", "week"},
                                {"weekday", "friday"},
                                {"time", "18:00"},
                                {"until", Date(120)}}}}}},
                           {{"text", "Представить план-график"},
                            {"assignees", {"roiv-02", "roiv-38", "roiv-54", "roiv-61", "roiv-78"}},
                            {"deadline", {{"due", Date(45)}}}}}}}}}});
  }

  void Progress() {
    for (auto& p : industry_) ProgressIndustry(p);
    for (auto& p : fgos_) ProgressFgos(p);
    for (auto& a : agreements_) ProgressAgreement(a);
    for (auto& a : assignments_) ProgressAssignment(a);
  }

  struct Tracked {
    std::string id;
    engine::Participants participants;
    std::string expert;
  };

  void ProgressIndustry(Tracked& p) {
    auto s = seq_.Find("proposals", p.id);
    if (!s) return;
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

  void ProgressFgos(Tracked& p) {
    auto s = seq_.Find("proposals", p.id);
    if (!s) return;
    const auto rumo = As(p.participants["rumo"], "rumo_member");
    const auto fumo = As(p.participants["fumo"], "fumo_expert");
    if (s->state == "drafting" && Chance(50)) {
      Act("proposals", p.id, "submit_to_fumo", rumo);
    } else if (s->state == "fumo_review" && Chance(40)) {
      if (s->rounds == 0) {
        Act("proposals", p.id, "open_expertise", fumo,
            {{"experts", {rumos_[Pick(rumos_.size())]->id}}});
      } else {
        Act("proposals", p.id, "send_to_ministry", fumo);
      }
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

  void ProgressAssignment(Tracked& a) {
    auto s = seq_.Find("assignments", a.id);
    if (!s) return;
    const auto region = As(a.participants["assignee"], "region_official");
    if (s->state == "assigned" && Chance(55)) {
      Act("assignments", a.id, "submit_report", region, {{"text", "Информация представлена"}});
    } else if (s->state == "reported" && Chance(70)) {
      if (Chance(85))
        Act("assignments", a.id, "accept_report", As("ministry", "ministry_official"));
      else
        Act("assignments", a.id, "return_report", As("ministry", "ministry_official"),
            {{"comment", "Информация неполная"}});
    }
  }

  engine::Sequencer& seq_;
  engine::ManualClock& clock_;
  std::mt19937_64 rng_;
  std::vector<const engine::Organization*> fumos_, business_, rumos_;
  std::vector<Tracked> industry_, fgos_, agreements_, assignments_;
  DemoSummary summary_;
};

}  // namespace

DemoSummary RunDemo(engine::Sequencer& sequencer, engine::ManualClock& clock) {
  return Demo(sequencer, clock).Run();
}

}  // namespace expertflow::app
