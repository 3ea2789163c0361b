#pragma once

#include <span>

#include "engine/core/embedded.h"

namespace expertflow::web {

using EmbeddedFile = engine::EmbeddedFile;

// The dashboard as served at "/": the files of web/site/ (index.html, its script and style) and
// the charting library copied from web/node_modules at build time, e.g. "vendor/chart.umd.min.js".
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace expertflow::web
