#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/http.h"
#include "engine/core/embedded.h"

namespace expertflow::api {

// The dashboard's files (web/, embedded into the binary at build time) served at "/" by GET.
// The set of embedded names is the whole allowlist: a path is looked up by exact name, never
// joined to a folder, so "..", encoded slashes or absolute paths can only miss (404).
class StaticFiles {
 public:
  // `files` must outlive this object (embedded files live as long as the program).
  explicit StaticFiles(std::span<const engine::EmbeddedFile> files);

  bool empty() const { return files_.empty(); }

  // The answer for `path` (already percent-decoded, without the query): "/" is index.html.
  // Every file is sent with `Cache-Control: no-cache` and a strong ETag (its SHA-256), so a
  // browser revalidates cheaply (304 on If-None-Match) and never runs a stale script after an
  // upgrade; unknown names are a problem+json 404.
  HttpResponse Serve(std::string_view path, const HttpRequest& request) const;

 private:
  struct File {
    std::string_view data;
    std::string etag;
    std::string_view content_type;
  };
  std::unordered_map<std::string_view, File> files_;
};

}  // namespace expertflow::api
