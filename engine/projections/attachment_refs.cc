#include "engine/projections/attachment_refs.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace expertflow::engine {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// An object `{..., "uri": ".../api/v1/attachments/<h>", "sha256": "<h>"}` references the file
// <h> of this server. A sha256 beside a uri that points elsewhere is a document kept elsewhere
// (as every attachment was before the server kept files): not this server's to serve or check.
void Collect(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    const auto sha = j.find("sha256");
    const auto uri = j.find("uri");
    if (sha != j.end() && sha->is_string() && uri != j.end() && uri->is_string()) {
      std::string h = Lower(sha->get<std::string>());
      const std::string u = Lower(uri->get<std::string>());
      const std::string path = std::string(kAttachmentPath) + h;
      const bool here =
          u.size() >= path.size() && u.compare(u.size() - path.size(), path.size(), path) == 0;
      if (IsAttachmentHash(h) && here && std::find(out.begin(), out.end(), h) == out.end())
        out.push_back(std::move(h));
    }
    for (const auto& [key, value] : j.items()) {
      if (value.is_structured()) Collect(value, out);
    }
  } else if (j.is_array()) {
    for (const auto& item : j) Collect(item, out);
  }
}

}  // namespace

std::vector<std::string> AttachmentRefs::HashesIn(std::string_view data) {
  std::vector<std::string> out;
  // Most events reference no file: no parse for them.
  if (data.find("sha256") == std::string_view::npos) return out;
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_discarded()) Collect(j, out);
  return out;
}

void AttachmentRefs::Apply(std::uint64_t seq, std::string_view stream, std::string_view data) {
  for (std::string& h : HashesIn(data)) {
    auto [it, added] = refs_.try_emplace(std::move(h));
    if (added) it->second.first_seq = seq;
    auto& streams = it->second.streams;
    if (std::find(streams.begin(), streams.end(), stream) == streams.end())
      streams.emplace_back(stream);
  }
}

Result<void> AttachmentRefs::CatchUp(const EventLog& log) {
  std::lock_guard lock(mu_);
  const std::uint64_t head = log.GetHead().seq;
  if (head <= checkpoint_) return {};
  Result<void> failure;
  RecordReader reader;
  auto r = log.ForEachUncached(checkpoint_ + 1, head,
                               [&](std::uint64_t seq, const Hash&, std::string_view record) {
                                 auto e = reader.Read(record);
                                 if (!e) {
                                   failure = std::unexpected(e.error());
                                   return false;
                                 }
                                 Apply(seq, e->stream, e->data);
                                 checkpoint_ = seq;
                                 return true;
                               });
  if (!r) return r;
  return failure;
}

std::optional<AttachmentRefs::Ref> AttachmentRefs::Find(std::string_view sha256) const {
  std::lock_guard lock(mu_);
  auto it = refs_.find(sha256);
  if (it == refs_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, AttachmentRefs::Ref, std::less<>> AttachmentRefs::All() const {
  std::lock_guard lock(mu_);
  return refs_;
}

std::uint64_t AttachmentRefs::checkpoint() const {
  std::lock_guard lock(mu_);
  return checkpoint_;
}

AttachmentCheck CheckAttachments(const AttachmentRefs& refs, const AttachmentStore& store) {
  AttachmentCheck check;
  for (const auto& [sha, ref] : refs.All()) {
    ++check.checked;
    auto h = store.Rehash(sha);
    if (!h) {
      check.problems.push_back({sha, ref.first_seq, "missing"});
    } else if (ToHex(*h) != sha) {
      check.problems.push_back({sha, ref.first_seq, "altered"});
    }
  }
  return check;
}

Result<std::size_t> SweepAttachments(const AttachmentRefs& refs, AttachmentStore& store,
                                     Timestamp now, Duration grace) {
  std::size_t removed = 0;
  for (const AttachmentInfo& info : store.List()) {
    if (info.stored_at + grace > now) continue;
    if (refs.Find(info.sha256)) continue;
    if (auto r = store.Remove(info.sha256); !r) return std::unexpected(r.error());
    ++removed;
  }
  return removed;
}

}  // namespace expertflow::engine
