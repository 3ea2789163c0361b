#include "workflows/registry.h"

#include <cstdio>
#include <cstdlib>

#include "workflows/embedded.h"

namespace expertflow::workflows {
namespace {

using nlohmann::json;

const std::map<std::string, std::string, std::less<>> kPrefixOfKind = {
    {"umc", "umc-"},
    {"association", "assoc-"},
    {"fumo", "fumo-"},
    {"rumo", "rumo-"},
    {"roiv", "roiv-"},
    {"ftpo", "ftpo-"},
    {"business", "business-"},
    {"ministry", "ministry"},
    {"irpo", "irpo"},
    {"irpo_centre", "irpo-"},
    {"project_office", "project-office"},
    {"university", "university-"},
    {"college", "college-"},
    {"cluster", "cluster-"},
    {"employer", "employer"}};

json File(std::string_view name) {
  for (const auto& f : EmbeddedFiles()) {
    if (f.name == name) return json::parse(f.data);
  }
  std::fprintf(stderr, "expertflow: reference data %.*s is missing from the build\n",
               static_cast<int>(name.size()), name.data());
  std::abort();
}

}  // namespace

BuiltinDirectory::BuiltinDirectory() {
  try {
    // Each file is held in a local: a range-for over File(...).at(...) would iterate a temporary
    // that is already gone.
    const json regions = File("registry/regions.json");
    const json organizations = File("registry/organizations.json");
    const json umcs = File("registry/umcs.json");
    const json fumos = File("registry/fumo.json");
    const json groups = File("registry/groups.json");
    for (const auto& r : regions.at("regions")) {
      region_index_[r.at("code").get<std::string>()] = regions_.size();
      regions_.push_back(
          engine::Region{r.at("code"), r.at("name"), r.at("name_en"), r.at("federal_district")});
    }
    auto district = [&](const std::string& code) {
      const engine::Region* r = FindRegion(code);
      return r ? r->federal_district : std::string();
    };
    for (const auto& o : organizations.at("organizations")) {
      engine::Organization org;
      org.id = o.at("id");
      org.kind = o.at("kind");
      org.name = o.at("name");
      org.name_en = o.value("name_en", "");
      org.region_code = o.value("region_code", "");
      org.federal_district = district(org.region_code);
      Insert(std::move(org));
    }
    // Seed 001 annex: the UMCs in the annex's order, each with the association of its industry.
    // A UMC (and its association) is placed where its lead college is.
    for (const auto& u : umcs.at("umcs")) {
      const std::string id = u.at("id");
      engine::Organization umc;
      umc.id = id;
      umc.kind = "umc";
      umc.name = "Межрегиональный отраслевой УМЦ СПО: " + u.at("industry_name").get<std::string>();
      umc.name_en = "Interregional industry UMC: " + u.at("industry_name_en").get<std::string>();
      umc.region_code = u.at("region_code");
      umc.federal_district = district(umc.region_code);
      umc.industry = u.at("industry");
      umc.extra = {{"industry_name", u.at("industry_name")},
                   {"supervising_body", u.at("supervising_body")},
                   {"key_employer", u.at("key_employer")},
                   {"lead_college", u.at("lead_college")}};
      engine::Organization assoc = umc;
      assoc.id = "assoc-" + id.substr(4);
      assoc.kind = "association";
      assoc.name = "Отраслевая ассоциация кластеров «Профессионалитет»: " +
                   u.at("industry_name").get<std::string>();
      assoc.name_en = "Industry association of Professionalitet clusters: " +
                      u.at("industry_name_en").get<std::string>();
      assoc.extra = {{"industry_name", u.at("industry_name")}, {"umc", id}};
      // The key employer of the industry (the annex's fourth column) is a body of that
      // industry's business community (§1.3.3), an expert of its proposals (§5.3; issue 16).
      engine::Organization employer;
      employer.id = "business-key-" + id.substr(4);
      employer.kind = "business";
      employer.name = u.at("key_employer");
      employer.name_en = "Key employer: " + u.at("industry_name_en").get<std::string>();
      employer.industry = umc.industry;
      employer.extra = {{"key_employer_of", id}};
      Insert(std::move(umc));
      Insert(std::move(assoc));
      Insert(std::move(employer));
    }
    for (const auto& f : fumos.at("fumo")) {
      engine::Organization org;
      org.ugps = f.at("ugps");
      org.id = "fumo-" + org.ugps;
      org.kind = "fumo";
      org.name = "ФУМО СПО по УГПС " + org.ugps + " " + f.at("name").get<std::string>();
      org.name_en = "FUMO for " + org.ugps + " " + f.at("name_en").get<std::string>();
      org.region_code = "77";
      org.federal_district = district("77");
      Insert(std::move(org));
    }
    // Every region has its RUMO and its regional executive body for education.
    for (const auto& r : regions_) {
      engine::Organization rumo;
      rumo.id = "rumo-" + r.code;
      rumo.kind = "rumo";
      rumo.name = "РУМО СПО: " + r.name;
      rumo.name_en = "RUMO: " + r.name_en;
      rumo.region_code = r.code;
      rumo.federal_district = r.federal_district;
      engine::Organization roiv = rumo;
      roiv.id = "roiv-" + r.code;
      roiv.kind = "roiv";
      roiv.name = "Орган исполнительной власти в сфере образования: " + r.name;
      roiv.name_en = "Regional education authority: " + r.name_en;
      Insert(std::move(rumo));
      Insert(std::move(roiv));
    }
    for (const auto& g : groups.at("groups")) {
      engine::Group group;
      group.id = g.at("id");
      group.name = g.at("name");
      group.name_en = g.value("name_en", "");
      group.provisional = g.value("provisional", false);
      const json& members = g.at("members");
      if (members.is_object()) {
        for (const auto& o : orgs_) {
          if (o.kind == members.at("kind").get<std::string>()) group.members.push_back(o.id);
        }
      } else {
        for (const auto& m : members) {
          if (!by_id_.contains(m.get<std::string>())) {
            std::fprintf(stderr, "expertflow: group %s names unknown %s\n", group.id.c_str(),
                         m.get<std::string>().c_str());
            std::abort();
          }
          group.members.push_back(m);
        }
      }
      groups_.push_back(std::move(group));
    }
  } catch (const json::exception& e) {
    std::fprintf(stderr, "expertflow: the reference data is malformed: %s\n", e.what());
    std::abort();
  }
}

void BuiltinDirectory::Insert(engine::Organization org) {
  orgs_.push_back(std::move(org));
  by_id_[orgs_.back().id] = &orgs_.back();
}

const engine::Organization* BuiltinDirectory::FindOrganization(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<const engine::Organization*> BuiltinDirectory::Organizations(
    std::string_view kind) const {
  std::lock_guard lock(mu_);
  std::vector<const engine::Organization*> out;
  for (const auto& o : orgs_) {
    if (kind.empty() || o.kind == kind) out.push_back(&o);
  }
  return out;
}

const engine::Region* BuiltinDirectory::FindRegion(std::string_view code) const {
  auto it = region_index_.find(code);
  return it == region_index_.end() ? nullptr : &regions_[it->second];
}

const std::vector<engine::Region>& BuiltinDirectory::Regions() const { return regions_; }

const engine::Group* BuiltinDirectory::FindGroup(std::string_view id) const {
  for (const auto& g : groups_) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

std::vector<const engine::Group*> BuiltinDirectory::Groups() const {
  std::vector<const engine::Group*> out;
  for (const auto& g : groups_) out.push_back(&g);
  return out;
}

bool BuiltinDirectory::MayHoldRole(const engine::Organization& org, std::string_view role) const {
  if (role.empty()) return false;
  // A FUMO and a RUMO act through their chair as well (seed 000 annex 2, agreement v2).
  if ((org.kind == "fumo" && role == "fumo_chair") || (org.kind == "rumo" && role == "rumo_chair"))
    return true;
  return ActingRole(org) == role;
}

BuiltinDirectory& Builtin() {
  static BuiltinDirectory directory;
  return directory;
}

std::string_view FtpoForDistrict(std::string_view d) {
  // 6.5.1. ФТПО в г. Калуге: Центральный, Северо-Западный, Южный федеральные округа и
  //        воссоединенные регионы, Северо-Кавказский федеральный округ.
  // 6.5.2. ФТПО в г. Нижний Новгород: Приволжский, Уральский, Сибирский, Дальневосточный.
  if (d == "central" || d == "northwestern" || d == "southern" || d == "reunited" ||
      d == "north_caucasian") {
    return "ftpo-kaluga";
  }
  if (d == "volga" || d == "ural" || d == "siberian" || d == "far_eastern") return "ftpo-nnovgorod";
  return "";
}

std::string_view IdPrefixOfKind(std::string_view kind) {
  auto it = kPrefixOfKind.find(kind);
  return it == kPrefixOfKind.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view ActingRole(const engine::Organization& org) {
  static const std::map<std::string, std::string, std::less<>> kRoles = {
      {"umc", "umc_lead"},
      {"association", "association_member"},
      {"fumo", "fumo_expert"},
      {"rumo", "rumo_member"},
      {"roiv", "region_official"},
      {"ftpo", "ftpo_coordinator"},
      {"business", "business_expert"},
      {"ministry", "ministry_official"},
      {"irpo", "irpo_staff"},
      {"irpo_centre", "irpo_staff"},
      {"project_office", "project_office_staff"},
      {"university", "university_staff"},
      {"college", "college_staff"},
      {"cluster", "cluster_staff"},
      {"employer", "employer_representative"}};
  auto it = kRoles.find(org.kind);
  return it == kRoles.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace expertflow::workflows
