#pragma once

#include <span>

#include "engine/core/embedded.h"

namespace expertflow::api {

using EmbeddedFile = engine::EmbeddedFile;

// The files of api/ compiled into the binary: the OpenAPI document.
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace expertflow::api
