#pragma once

#include <string>

#include "engine/core/note.h"

namespace expertflow::app {

// The log's signing key (docs/audit.md): the private key in the signed-note format, in the data
// folder as "log.key", mode 0600. Its name is the log's origin, set once per store. Made at the
// first start; never printed, served or logged (`expertflow key show` prints the verifier key).
inline constexpr const char* kLogKeyFile = "log.key";

// Reads the key; when there is none, makes one named `origin` (or "expertflow/<16 random hex>"
// when empty). A key that exists keeps its origin: asking for another is an error.
engine::Result<engine::note::SigningKey> LoadOrCreateLogKey(const std::string& data,
                                                            const std::string& origin);
// Reads the key, if the store has one.
engine::Result<engine::note::SigningKey> LoadLogKey(const std::string& data);

// Writes `text` to a new file at `path` only (O_EXCL), mode 0600, synced before it is used: how
// the keys of a data folder (this one, the webhooks') are made.
engine::Result<void> WriteNewPrivateFile(const std::string& path, const std::string& text);

}  // namespace expertflow::app
