#pragma once

#include <span>
#include <string_view>

namespace expertflow::workflows {

// A data file compiled into the binary (cmake/embed.cmake). `name` is its path under workflows/,
// e.g. "industry_proposal.v1.json" or "registry/regions.json".
struct EmbeddedFile {
  std::string_view name;
  std::string_view data;
};

std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace expertflow::workflows
