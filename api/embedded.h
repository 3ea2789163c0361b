#pragma once

#include <span>
#include <string_view>

namespace expertflow::api {

// A file compiled into the binary (cmake/embed.cmake): the OpenAPI document and the web page.
struct EmbeddedFile {
  std::string_view name;
  std::string_view data;
};

std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace expertflow::api
