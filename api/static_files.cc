#include "api/static_files.h"

#include "api/problem.h"
#include "engine/core/hash.h"

namespace expertflow::api {
namespace {

std::string_view ContentTypeOf(std::string_view name) {
  struct Type {
    std::string_view suffix, type;
  };
  static constexpr Type kTypes[] = {{".html", "text/html; charset=utf-8"},
                                    {".js", "text/javascript; charset=utf-8"},
                                    {".css", "text/css; charset=utf-8"},
                                    {".svg", "image/svg+xml"},
                                    {".json", "application/json"},
                                    {".png", "image/png"},
                                    {".ico", "image/x-icon"},
                                    {".txt", "text/plain; charset=utf-8"},
                                    {".md", "text/markdown; charset=utf-8"}};
  for (const auto& t : kTypes) {
    if (name.ends_with(t.suffix)) return t.type;
  }
  return "application/octet-stream";
}

// The page loads only its own files and talks only to its own origin: no inline script, no
// third-party host, no framing (clickjacking). Chart.js sizes its canvas through the CSSOM,
// which style-src does not restrict.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

StaticFiles::StaticFiles(std::span<const engine::EmbeddedFile> files) {
  for (const auto& f : files) {
    files_[f.name] =
        File{f.data, "\"" + engine::ToHex(engine::Sha256(f.data)) + "\"", ContentTypeOf(f.name)};
  }
}

HttpResponse StaticFiles::Serve(std::string_view path, const HttpRequest& request) const {
  std::string_view name = path;
  if (name.starts_with('/')) name.remove_prefix(1);
  if (name.empty()) name = "index.html";
  auto it = files_.find(name);
  if (it == files_.end()) return Problem(engine::ErrorCode::kNotFound, "no such file");
  const File& f = it->second;
  HttpResponse r;
  r.content_type = std::string(f.content_type);
  r.headers.emplace_back("ETag", f.etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (f.content_type.starts_with("text/html")) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  }
  // A weak comparison is enough here: the list form "a", "b" and W/ prefixes are matched by
  // looking for our exact tag.
  if (std::string_view inm = request.Header("if-none-match");
      !inm.empty() && (inm == "*" || inm.find(f.etag) != std::string_view::npos)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.body = std::string(f.data);
  return r;
}

}  // namespace expertflow::api
