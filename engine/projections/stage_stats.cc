#include "engine/projections/stage_stats.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_set>

namespace expertflow::engine {
namespace {

using nlohmann::json;

bool InWindow(Timestamp t, const std::optional<Timestamp>& from,
              const std::optional<Timestamp>& to) {
  return (!from || t >= *from) && (!to || t < *to);
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// "2026-W03": the ISO week of the Moscow date of t.
std::string IsoWeek(Timestamp t) {
  using namespace std::chrono;
  const sys_days day{MoscowDate(t)};
  const weekday wd{day};
  const sys_days thursday = day + days(3 - static_cast<int>((wd.c_encoding() + 6) % 7));
  const year_month_day ymd{thursday};
  const sys_days jan1{ymd.year() / January / 1};
  const int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d-W%02d", static_cast<int>(ymd.year()), week);
  return buf;
}

double Hours(Duration d) { return static_cast<double>(d.count()) / 3600.0; }

}  // namespace

std::uint64_t StageStatistics::checkpoint() const {
  std::lock_guard lock(mu_);
  return checkpoint_;
}

Result<void> StageStatistics::CatchUp(const EventLog& log, std::uint64_t to_seq) {
  std::lock_guard lock(mu_);
  const std::uint64_t head = log.GetHead().seq;
  const std::uint64_t to = to_seq == 0 ? head : std::min(to_seq, head);
  if (to <= checkpoint_) return {};
  Result<void> failure;
  RecordReader reader;
  auto r = ForEachPipelined(log, checkpoint_ + 1, to,
                            [&](std::uint64_t seq, const Hash&, std::string_view record) {
                              auto e = reader.Read(record);
                              if (!e) {
                                failure = std::unexpected(e.error());
                                return false;
                              }
                              Apply(*e);
                              checkpoint_ = seq;
                              return true;
                            });
  if (!r) return r;
  return failure;
}

Result<void> StageStatistics::ApplyNext(std::uint64_t seq, std::string_view record,
                                        RecordReader& reader) {
  std::lock_guard lock(mu_);
  if (seq != checkpoint_ + 1) {
    return Fail(ErrorCode::kInternal, "stage statistics at " + std::to_string(checkpoint_) +
                                          " were handed event " + std::to_string(seq));
  }
  auto e = reader.Read(record);
  if (!e) return std::unexpected(e.error());
  Apply(*e);
  checkpoint_ = seq;
  return {};
}

StageStatistics::Groups StageStatistics::GroupsOf(const Participants& participants) const {
  Groups g;
  // The UMC (industry proposals), else the organisation whose region places the instance: the
  // RUMO of an FGOS proposal or agreement, the assignee of a protocol assignment.
  for (const char* slot : {"umc", "rumo", "assignee"}) {
    auto it = participants.find(slot);
    if (it == participants.end()) continue;
    const Organization* org = directory_.FindOrganization(it->second);
    if (std::string_view(slot) == "umc") g.umc = it->second;
    if (org != nullptr) {
      if (g.industry.empty()) g.industry = org->industry;
      if (g.federal_district.empty()) g.federal_district = org->federal_district;
      if (g.region.empty()) g.region = org->region_code;
    }
    break;
  }
  return g;
}

std::uint32_t StageStatistics::StageIndex(std::string_view stage) {
  if (auto it = stage_index_.find(stage); it != stage_index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(stage_names_.size());
  stage_names_.emplace_back(stage);
  stage_index_.emplace(std::string(stage), index);
  return index;
}

StageStatistics::Open& StageStatistics::OpenStream(std::string_view stream,
                                                   std::string_view workflow,
                                                   std::uint32_t version) {
  auto it = open_.find(stream);
  if (it == open_.end()) {
    streams_.emplace_back(stream);
    it = open_.emplace(streams_.back(), Open{}).first;
    it->second.stream = static_cast<std::uint32_t>(streams_.size() - 1);
  }
  Open& o = it->second;
  auto list = stays_.find(workflow);
  if (list == stays_.end()) list = stays_.emplace(std::string(workflow), StayList{}).first;
  o.workflow = &list->first;
  o.stays = &list->second;
  o.definition = definitions_.Find(workflow, version);
  o.version = version;
  return o;
}

std::string StageStatistics::GroupKey(const Groups& g) {
  std::string key;
  key.reserve(g.umc.size() + g.industry.size() + g.federal_district.size() + g.region.size() + 3);
  key.append(g.umc).push_back('\0');
  key.append(g.industry).push_back('\0');
  key.append(g.federal_district).push_back('\0');
  key.append(g.region);
  return key;
}

std::uint32_t StageStatistics::InternGroups(Groups g) {
  auto [it, fresh] =
      group_index_.try_emplace(GroupKey(g), static_cast<std::uint32_t>(groups_.size()));
  if (fresh) groups_.push_back(std::move(g));
  return it->second;
}

void StageStatistics::Apply(const RecordView& e) {
  // Only events that move an instance matter here; most do not, and are passed over without
  // parsing their data.
  if (e.data.find("\"to\"") == std::string_view::npos &&
      e.data.find("\"created\"") == std::string_view::npos) {
    return;
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object d;
  if (parser.parse(e.data.data(), e.data.size()).get(d) != simdjson::SUCCESS) return;
  std::string_view to;
  const bool has_to = d["to"].get(to) == simdjson::SUCCESS;
  auto stage_of = [&](const Open& o) {
    const StateSpec* st = o.definition ? o.definition->FindState(to) : nullptr;
    return StageIndex(st ? std::string_view(st->stage) : to);
  };
  if (simdjson::dom::object c; d["created"].get(c) == simdjson::SUCCESS) {
    // A missing member leaves the default: the record is the log's, already validated.
    std::string_view workflow;
    std::uint64_t version = 0;
    if (c["workflow"].get(workflow) != simdjson::SUCCESS) workflow = {};
    if (c["workflow_version"].get(version) != simdjson::SUCCESS) version = 0;
    Participants participants;
    if (simdjson::dom::object slots; c["participants"].get(slots) == simdjson::SUCCESS) {
      for (auto field : slots) {
        std::string_view org;
        if (field.value.get(org) == simdjson::SUCCESS) participants.Set(field.key, org);
      }
    }
    const std::uint32_t groups = InternGroups(GroupsOf(participants));
    Open& o = OpenStream(e.stream, workflow, static_cast<std::uint32_t>(version));
    o.stay = o.stays->size();
    o.stays->push_back(Stay{o.stream, stage_of(o), groups, o.version, e.occurred_at, std::nullopt});
    dirty_.emplace_back(o.workflow, o.stay);
    return;
  }
  if (!has_to) return;
  auto it = open_.find(e.stream);
  if (it == open_.end()) return;
  Open& o = it->second;
  const std::uint32_t stage = stage_of(o);
  StayList& stays = *o.stays;
  if (stays[o.stay].stage == stage) return;  // a move within one stage is no new stay
  stays[o.stay].exited = e.occurred_at;
  dirty_.emplace_back(o.workflow, o.stay);
  const std::uint32_t groups = stays[o.stay].groups;
  o.stay = stays.size();
  stays.push_back(Stay{o.stream, stage, groups, o.version, e.occurred_at, std::nullopt});
  dirty_.emplace_back(o.workflow, o.stay);
}

namespace {

constexpr std::string_view kStatsPrefix = "stages/";

std::string IndexKey(std::string prefix, std::uint64_t index) {
  for (int i = 7; i >= 0; --i) prefix.push_back(static_cast<char>((index >> (8 * i)) & 0xff));
  return prefix;
}

std::int64_t Seconds(Timestamp t) { return t.time_since_epoch().count(); }

// Visits every key/value of the analytics space under `prefix`, in key order, a page at a time:
// a saved projection of ~600k stays is never held twice in memory.
template <typename Visit>
Result<void> ForEachUnder(const EventLog& log, const std::string& prefix, Visit&& visit) {
  constexpr std::size_t kPage = 4096;
  std::string from = prefix;
  std::string to = prefix;
  to.back() = static_cast<char>(to.back() + 1);
  while (true) {
    auto page = log.Scan(Space::kAnalytics, from, to, kPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& [key, value] : *page) visit(key, value);
    if (page->size() < kPage) return {};
    from = page->back().first + '\0';
  }
}

}  // namespace

AppendBatch StageStatistics::SaveBatch() const {
  // A rebuild saves every stay (~600k from 1M events), so the values are written as text, not
  // through a DOM: a stay is [stream, stage, entered, exited or null, groups, version], a group
  // [umc, industry, federal_district, region] (what Load reads).
  AppendBatch batch;
  batch.writes.reserve(dirty_.size() + (groups_.size() - groups_saved_) + 2);
  auto number = [](std::string& out, std::int64_t n) { out += std::to_string(n); };
  for (const auto& [workflow, index] : dirty_) {
    const Stay& s = stays_.find(*workflow)->second[index];
    std::string v = "[";
    AppendJsonString(streams_[s.stream], v);
    v += ',';
    AppendJsonString(stage_names_[s.stage], v);
    v += ',';
    number(v, Seconds(s.entered));
    v += ',';
    if (s.exited) {
      number(v, Seconds(*s.exited));
    } else {
      v += "null";
    }
    v += ',';
    number(v, s.groups);
    v += ',';
    number(v, s.version);
    v += ']';
    batch.writes.push_back({Space::kAnalytics,
                            IndexKey(std::string(kStatsPrefix) + "s/" + *workflow + "/", index),
                            std::move(v)});
  }
  for (std::size_t i = groups_saved_; i < groups_.size(); ++i) {
    const Groups& g = groups_[i];
    std::string v = "[";
    AppendJsonString(g.umc, v);
    v += ',';
    AppendJsonString(g.industry, v);
    v += ',';
    AppendJsonString(g.federal_district, v);
    v += ',';
    AppendJsonString(g.region, v);
    v += ']';
    batch.writes.push_back(
        {Space::kAnalytics, IndexKey(std::string(kStatsPrefix) + "g/", i), std::move(v)});
  }
  batch.writes.push_back(
      {Space::kAnalytics, std::string(kStatsPrefix) + "checkpoint", std::to_string(checkpoint_)});
  batch.writes.push_back({Space::kAnalytics, std::string(kStatsPrefix) + "version",
                          std::to_string(kStageStatisticsVersion)});
  return batch;
}

void StageStatistics::MarkSaved() {
  dirty_.clear();
  groups_saved_ = groups_.size();
  saved_checkpoint_ = checkpoint_;
}

Result<void> StageStatistics::Save(EventLog& log) {
  std::lock_guard lock(mu_);
  if (dirty_.empty() && groups_saved_ == groups_.size() && saved_checkpoint_ == checkpoint_) {
    return {};  // nothing new: no write
  }
  if (auto r = log.Append(SaveBatch()); !r) return std::unexpected(r.error());
  MarkSaved();
  return {};
}

Result<void> StageStatistics::SaveReplacing(EventLog& log) {
  std::lock_guard lock(mu_);
  std::vector<std::string> stored;
  if (auto r =
          ForEachUnder(log, std::string(kStatsPrefix),
                       [&](const std::string& key, const std::string&) { stored.push_back(key); });
      !r) {
    return r;
  }
  // Everything, not only what changed since the last save.
  dirty_.clear();
  for (const auto& [workflow, stays] : stays_) {
    for (std::size_t i = 0; i < stays.size(); ++i) dirty_.emplace_back(&workflow, i);
  }
  groups_saved_ = 0;
  AppendBatch batch = SaveBatch();
  std::vector<KvWrite> stale;
  {
    std::unordered_set<std::string_view> written;  // views into batch.writes: not grown meanwhile
    written.reserve(batch.writes.size());
    for (const auto& w : batch.writes) written.insert(w.key);
    for (std::string& key : stored) {
      if (!written.contains(key))
        stale.push_back({Space::kAnalytics, std::move(key), std::nullopt});
    }
  }
  std::move(stale.begin(), stale.end(), std::back_inserter(batch.writes));
  if (auto r = log.Append(batch); !r) return std::unexpected(r.error());
  MarkSaved();
  return {};
}

Result<void> StageStatistics::Load(const EventLog& log) {
  std::lock_guard lock(mu_);
  auto version = log.Get(Space::kAnalytics, std::string(kStatsPrefix) + "version");
  if (!version) return std::unexpected(version.error());
  if (!*version || **version != std::to_string(kStageStatisticsVersion)) return {};
  auto checkpoint = log.Get(Space::kAnalytics, std::string(kStatsPrefix) + "checkpoint");
  if (!checkpoint) return std::unexpected(checkpoint.error());
  if (!*checkpoint) return {};
  auto reset = [&] {
    stays_.clear();
    streams_.clear();
    open_.clear();
    stage_names_.clear();
    stage_index_.clear();
    groups_.clear();
    group_index_.clear();
    dirty_.clear();
    checkpoint_ = 0;
    groups_saved_ = 0;
    saved_checkpoint_ = 0;
  };
  reset();
  Result<void> read;
  try {
    read = ForEachUnder(log, std::string(kStatsPrefix) + "g/",
                        [&](const std::string&, const std::string& value) {
                          json g = json::parse(value);
                          // Every stored group keeps its index (stays name it); a repeat in an
                          // older store's list is not shared further.
                          groups_.push_back(Groups{g.at(0), g.at(1), g.at(2), g.at(3)});
                          group_index_.try_emplace(GroupKey(groups_.back()),
                                                   static_cast<std::uint32_t>(groups_.size() - 1));
                        });
    const std::size_t prefix = kStatsPrefix.size() + 2;  // "stages/s/"
    if (read) {
      read = ForEachUnder(
          log, std::string(kStatsPrefix) + "s/",
          [&](const std::string& key, const std::string& value) {
            if (key.size() < prefix + 9) return;
            const std::string workflow = key.substr(prefix, key.size() - prefix - 9);
            json s = json::parse(value);
            const auto version = s.at(5).get<std::uint32_t>();
            Open& o = OpenStream(s.at(0).get<std::string>(), workflow, version);
            o.stay = o.stays->size();
            o.stays->push_back(Stay{
                o.stream, StageIndex(s.at(1).get<std::string>()), s.at(4).get<std::uint32_t>(),
                version, Timestamp(Duration(s.at(2).get<std::int64_t>())),
                s.at(3).is_null()
                    ? std::nullopt
                    : std::optional<Timestamp>(Timestamp(Duration(s.at(3).get<std::int64_t>())))});
          });
    }
    if (read) checkpoint_ = std::stoull(**checkpoint);
  } catch (const std::exception& e) {
    reset();
    return Fail(ErrorCode::kCorruption,
                std::string("stored stage statistics are malformed: ") + e.what());
  }
  if (!read) {
    reset();
    return read;
  }
  MarkSaved();
  return {};
}

json StageStatistics::Stages(const Query& q, const std::vector<InstanceState>& current) const {
  std::lock_guard lock(mu_);
  const Definition* def = definitions_.Latest(q.workflow);
  json out = {{"workflow", q.workflow}, {"as_of_seq", checkpoint_}, {"stages", json::array()}};
  if (q.from) out["from"] = FormatRfc3339(*q.from);
  if (q.to) out["to"] = FormatRfc3339(*q.to);
  if (!q.group_by.empty()) out["group_by"] = q.group_by;
  if (def == nullptr) return out;

  struct Acc {
    std::uint64_t entered = 0, exited = 0, overdue = 0;
    std::vector<double> hours;
    std::map<std::string, std::uint64_t> weeks;
  };
  auto group_key = [&](std::uint32_t index) -> std::string {
    if (index >= groups_.size()) return "none";  // an instance the statistics have not seen yet
    const Groups& g = groups_[index];
    const std::string& k = q.group_by == "umc"        ? g.umc
                           : q.group_by == "industry" ? g.industry
                           : q.group_by == "region"   ? g.region
                                                      : g.federal_district;
    return k.empty() ? "none" : k;
  };
  std::vector<std::string> stage_order;
  for (const auto& s : def->states) {
    if (std::find(stage_order.begin(), stage_order.end(), s.stage) == stage_order.end())
      stage_order.push_back(s.stage);
  }
  std::map<std::string, Acc> totals;
  std::map<std::string, std::map<std::string, Acc>> grouped;
  auto each = [&](const std::string& stage, std::uint32_t groups, auto&& fn) {
    fn(totals[stage]);
    if (!q.group_by.empty()) fn(grouped[stage][group_key(groups)]);
  };
  if (auto it = stays_.find(q.workflow); it != stays_.end()) {
    for (const Stay& s : it->second) {
      const std::string& stage = stage_names_[s.stage];
      if (InWindow(s.entered, q.from, q.to)) each(stage, s.groups, [](Acc& a) { ++a.entered; });
      if (s.exited && InWindow(*s.exited, q.from, q.to)) {
        const double h = Hours(*s.exited - s.entered);
        const std::string week = IsoWeek(*s.exited);
        each(stage, s.groups, [&](Acc& a) {
          ++a.exited;
          a.hours.push_back(h);
          ++a.weeks[week];
        });
      }
    }
  }
  for (const InstanceState& inst : current) {
    if (inst.workflow != q.workflow || inst.overdue.empty()) continue;
    const Definition* d = definitions_.Find(inst.workflow, inst.workflow_version);
    const StateSpec* st = d ? d->FindState(inst.state) : nullptr;
    if (st == nullptr || st->terminal) continue;
    auto open = open_.find(inst.Stream());
    std::uint32_t groups = 0;
    if (open != open_.end()) groups = (*open->second.stays)[open->second.stay].groups;
    each(st->stage, groups, [](Acc& a) { ++a.overdue; });
  }
  auto render = [](Acc& a) {
    std::sort(a.hours.begin(), a.hours.end());
    json weeks = json::array();
    for (const auto& [w, n] : a.weeks) weeks.push_back({{"week", w}, {"exited", n}});
    return json{{"entered", a.entered},
                {"exited", a.exited},
                {"wip", static_cast<std::int64_t>(a.entered) - static_cast<std::int64_t>(a.exited)},
                {"overdue", a.overdue},
                {"time_in_stage_hours",
                 {{"count", a.hours.size()},
                  {"p50", Percentile(a.hours, 0.5)},
                  {"p90", Percentile(a.hours, 0.9)},
                  {"max", a.hours.empty() ? 0.0 : a.hours.back()}}},
                {"throughput_per_week", weeks}};
  };
  for (const auto& stage : stage_order) {
    json s = render(totals[stage]);
    s["stage"] = stage;
    if (!q.group_by.empty()) {
      json groups = json::array();
      for (auto& [key, acc] : grouped[stage]) {
        json g = render(acc);
        g["group"] = key;
        groups.push_back(std::move(g));
      }
      s["groups"] = std::move(groups);
    }
    out["stages"].push_back(std::move(s));
  }
  return out;
}

}  // namespace expertflow::engine
