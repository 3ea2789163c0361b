#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/attachments.h"
#include "engine/log/event_log.h"

namespace expertflow::engine {

// The path under which this server serves a file: `uri` of a reference ends with it and the hash.
inline constexpr std::string_view kAttachmentPath = "/api/v1/attachments/";

// Which attachments the log's events reference, and from which instances (issue 18): every
// object of an event's data, at any depth, whose `sha256` holds 64 hex characters and whose
// `uri` ends with /api/v1/attachments/ and that hash (the `{name, uri, sha256}` items of a
// payload's `attachments`, an agreement's `attachment`). A sha256 beside a uri elsewhere is a
// document kept elsewhere, as all were before this server kept files, and is not counted. Who
// may download a file is who may see one of those instances; verify re-hashes exactly these
// files; a file no event references is removed after a grace period. Caught up from the log on
// demand, a range at a time. Thread-safe.
class AttachmentRefs {
 public:
  struct Ref {
    std::vector<std::string> streams;  // "collection/id", each once, in the order first seen
    std::uint64_t first_seq = 0;       // the first event that references it
  };

  // Reads the events after the last one read up to the log's head.
  Result<void> CatchUp(const EventLog& log);
  std::optional<Ref> Find(std::string_view sha256) const;
  std::map<std::string, Ref, std::less<>> All() const;
  std::uint64_t checkpoint() const;

  // The attachment hashes in an event's data (lower case, each once, in document order).
  static std::vector<std::string> HashesIn(std::string_view data);

 private:
  void Apply(std::uint64_t seq, std::string_view stream, std::string_view data);
  mutable std::mutex mu_;
  std::uint64_t checkpoint_ = 0;
  std::map<std::string, Ref, std::less<>> refs_;
};

// What verify finds of the files the events reference.
struct AttachmentCheck {
  std::uint64_t checked = 0;
  struct Problem {
    std::string sha256;
    std::uint64_t first_seq = 0;
    std::string what;  // "missing" or "altered"
  };
  std::vector<Problem> problems;
  bool ok() const { return problems.empty(); }
};
// Re-hashes every file `refs` names in `store`: one that is not there is missing, one whose
// bytes hash to something else is altered.
AttachmentCheck CheckAttachments(const AttachmentRefs& refs, const AttachmentStore& store);

// Removes the files no event references that were stored more than `grace` before `now`, and
// answers how many. Unreferenced files younger than that stay (an upload waits for the command
// that references it).
Result<std::size_t> SweepAttachments(const AttachmentRefs& refs, AttachmentStore& store,
                                     Timestamp now, Duration grace);

}  // namespace expertflow::engine
