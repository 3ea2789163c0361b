#pragma once

#include <string>

#include "engine/core/error.h"

namespace expertflow::app {

// The server's webhook key (docs/webhooks.md): 32 random bytes, as 64 hex characters, in the data
// folder as "webhook.key", mode 0600. Each subscription's signing secret is derived from it and
// the subscription's id, so that no secret is stored in the store (whose log auditors export).
// Made at the first start; never printed, served or logged. `backup` copies it.
inline constexpr const char* kWebhookKeyFile = "webhook.key";

// Reads the key, or makes one when there is none.
engine::Result<std::string> LoadOrCreateWebhookKey(const std::string& data);

}  // namespace expertflow::app
