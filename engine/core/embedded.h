#pragma once

#include <string_view>

namespace expertflow::engine {

// A data file compiled into the binary (cmake/embed.cmake): workflow definitions, reference data,
// the OpenAPI document. `name` is its path under the folder that embeds it.
struct EmbeddedFile {
  std::string_view name;
  std::string_view data;
};

}  // namespace expertflow::engine
