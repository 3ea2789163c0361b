#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>

#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/decide/decide.h"
#include "engine/log/event_log.h"

namespace expertflow::engine {

struct ImportOptions {
  // A line longer than this is refused before more of it is read: a record is at most
  // kMaxRecordBytes, and escaping inside the export line can at most sextuple it (\u00XX).
  std::size_t max_line_bytes = 6 * kMaxRecordBytes + 4096;
  // Events appended to the log a write.
  std::size_t batch_events = 5000;
  // The head hash the auditor kept: a file that ends on another head is refused.
  std::optional<Hash> expect_head;
};

struct ImportReport {
  std::uint64_t events = 0;
  Hash head = kZeroHash;
};

// Loads an export (NDJSON lines {"seq", "hash", "record"}, API.md) into `log`, which must be
// empty, reading the file as a stream: memory holds one line, one write's batch and the
// instances' states, never the file.
//
// Every event is checked as the live path would have checked it before it is appended: the seq
// and the hash chain, then the command it records. The command (its actor, name and payload,
// at the time it occurred) is decided again against the workflow definitions and the reference
// data, and the events it decides must be exactly the recorded ones, in type and data. So an
// import refuses what the engine could never have written: a jump between states no command
// makes, a command by a role or organisation that may not give it, an event of another
// workflow, a participant or round party that routing did not choose, a state or workflow
// version that does not exist. The import of a store written by a build whose decisions differ
// is refused the same way; import it with that build.
//
// Fails at the first bad line, with its seq (or line number) in the message; what was appended
// before it stays in `log`, so the caller imports into a store it throws away on failure.
Result<ImportReport> ImportExport(std::istream& in, EventLog& log, const DefinitionSet& definitions,
                                  const Directory& directory, const RoutingTable& routing,
                                  const ImportOptions& options = {});

}  // namespace expertflow::engine
