// Attachments (issue 18, docs/attachments.md): uploads into the content-addressed store, and
// downloads for whoever may see an instance whose events reference the file.
#include "api/attachments.h"

#include <algorithm>
#include <cstdio>

#include "api/handlers/handlers.h"
#include "api/problem.h"
#include "api/reply.h"
#include "engine/projections/attachment_refs.h"

namespace expertflow::api {

using engine::ErrorCode;
using engine::Principal;
using nlohmann::json;

namespace {

constexpr std::size_t kDownloadPiece = 256 * 1024;
constexpr std::size_t kMaxNameBytes = 255;

bool IsTokenChar(char c) {
  // RFC 9110 §5.6.2 tchar
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The media type of Content-Type, lower case, without parameters; nothing when it is not
// "type/subtype" of token characters. Absent: application/octet-stream.
std::optional<std::string> MediaType(std::string_view header) {
  std::string_view t = header.substr(0, header.find(';'));
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.empty()) return "application/octet-stream";
  const auto slash = t.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == t.size() || t.size() > 127)
    return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i != slash && !IsTokenChar(t[i])) return std::nullopt;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(t[i])));
  }
  if (std::count(out.begin(), out.end(), '/') != 1) return std::nullopt;
  return out;
}

// A download name: 1 to 255 bytes of UTF-8 with no control characters and no path separators.
bool IsGoodName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || name == "." || name == "..") return false;
  for (std::size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    if (len == 0 || i + len > name.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(name[i + k]) & 0xc0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Content-Disposition for a download (RFC 6266): always "attachment", so that a browser saves
// the file instead of showing it in the API's origin; the name as ASCII and as UTF-8.
std::string Disposition(std::string_view name, std::string_view sha256) {
  if (name.empty()) return "attachment; filename=\"" + std::string(sha256) + "\"";
  std::string ascii, utf8;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : name) {
    // One '_' for each character the ASCII name cannot hold (not for each of its bytes).
    if ((c & 0xc0) != 0x80) {
      ascii +=
          (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') ? static_cast<char>(c) : '_';
    }
    if (std::isalnum(c) ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      utf8 += static_cast<char>(c);
    } else {
      utf8 += '%';
      utf8 += kHex[c >> 4];
      utf8 += kHex[c & 15];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + utf8;
}

json InfoJson(const engine::AttachmentInfo& info) {
  return {{"sha256", info.sha256},
          {"size", info.size},
          {"type", info.type},
          {"name", info.name},
          {"uri", std::string(engine::kAttachmentPath) + info.sha256},
          {"stored_at", engine::FormatRfc3339(info.stored_at)}};
}

engine::Error TooLarge(std::uint64_t limit) {
  return {ErrorCode::kPayloadTooLarge, "an attachment is at most " + SizeText(limit)};
}

}  // namespace

std::string SizeText(std::uint64_t bytes) {
  char buf[32];
  if (bytes % (1 << 20) == 0) {
    std::snprintf(buf, sizeof buf, "%llu MiB", static_cast<unsigned long long>(bytes >> 20));
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

engine::Result<std::unique_ptr<AttachmentSink>> AttachmentSink::Open(handlers::Context& ctx,
                                                                     const HttpRequest& head,
                                                                     const Principal& p) {
  if (ctx.options.attachments == nullptr)
    return engine::Fail(ErrorCode::kNotFound, "this server keeps no attachments");
  if (p.role == "auditor") return engine::Fail(ErrorCode::kForbidden, "auditors never write");
  const std::uint64_t limit = ctx.options.max_attachment_bytes;
  if (auto length = head.Header("content-length"); !length.empty()) {
    auto n = ParseCount(length);
    if (n && *n > limit) return std::unexpected(TooLarge(limit));
  }
  auto type = MediaType(head.Header("content-type"));
  if (!type) {
    return engine::Fail(ErrorCode::kUnsupportedMediaType,
                        "Content-Type must be the file's media type, type/subtype");
  }
  if (*type == "multipart/form-data") {
    return engine::Fail(ErrorCode::kUnsupportedMediaType,
                        "send the file itself as the body, with its own media type, not a form");
  }
  const Target t = ParseTarget(head.target);
  std::string name;
  if (auto n = t.query.find("name"); n != t.query.end()) {
    if (!IsGoodName(n->second)) {
      return std::unexpected(
          engine::Error{ErrorCode::kValidationFailed,
                        "name must be 1 to 255 bytes of UTF-8, without control characters, "
                        "'/' or '\\'",
                        {{"errors", {{{"field", "name"}, {"message", "is not a file name"}}}}}});
    }
    name = n->second;
  }
  auto upload = ctx.options.attachments->Begin(*type, std::move(name), ctx.seq.clock().Now());
  if (!upload) return std::unexpected(upload.error());
  return std::unique_ptr<AttachmentSink>(new AttachmentSink(std::move(*upload), limit));
}

engine::Result<void> AttachmentSink::Write(std::string_view piece) {
  if (piece.size() > limit_ - taken_) return std::unexpected(TooLarge(limit_));
  taken_ += piece.size();
  return upload_->Write(piece);
}

HttpResponse AttachmentSink::Finish() {
  auto done = upload_->Commit();
  if (!done) return Problem(done.error());
  HttpResponse r = Json(done->created ? 201 : 200, InfoJson(done->info));
  r.headers.emplace_back("Location", std::string(engine::kAttachmentPath) + done->info.sha256);
  return r;
}

namespace handlers {

// POST /api/v1/attachments with the body already read (the router's callers other than the
// server, which streams it: Server, AttachmentSink).
void UploadAttachment(Context& ctx, const Call& call, Respond respond) {
  auto sink = AttachmentSink::Open(ctx, call.request, call.principal);
  if (!sink) return respond(Problem(sink.error()));
  if (auto w = (*sink)->Write(call.request.body); !w) return respond(Problem(w.error()));
  respond((*sink)->Finish());
}

// Whether `p` may see one of the instances `streams` names.
bool SeesOneOf(const Context& ctx, const Principal& p, const std::vector<std::string>& streams) {
  if (engine::SeesEverything(p)) return true;
  for (const std::string& stream : streams) {
    const auto slash = stream.find('/');
    if (slash == std::string::npos) continue;
    bool seen = false;
    ctx.seq.Inspect(std::string_view(stream).substr(0, slash),
                    std::string_view(stream).substr(slash + 1),
                    [&](const engine::InstanceState& s) { seen = engine::CanSee(s, p); });
    if (seen) return true;
  }
  return false;
}

// GET /api/v1/attachments/{sha256}: the file, to whoever may see an instance whose events
// reference it; 404 to everyone else, as if it were not there.
void GetAttachment(Context& ctx, const Call& call, Respond respond) {
  std::string sha = call.segments[1];
  std::transform(sha.begin(), sha.end(), sha.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ctx.options.attachments == nullptr || !engine::IsAttachmentHash(sha))
    return respond(Problem(ErrorCode::kNotFound, "no attachment " + call.segments[1]));
  Offload(ctx, std::move(respond), [&ctx, sha, p = call.principal](Respond respond) {
    if (auto r = ctx.attachment_refs.CatchUp(ctx.log); !r) return respond(Problem(r.error()));
    const auto ref = ctx.attachment_refs.Find(sha);
    if (!ref || !SeesOneOf(ctx, p, ref->streams))
      return respond(Problem(ErrorCode::kNotFound, "no attachment " + sha));
    const auto info = ctx.options.attachments->Find(sha);
    if (!info) {
      return respond(Problem(ErrorCode::kNotFound,
                             "the file of attachment " + sha + " (referenced since seq " +
                                 std::to_string(ref->first_seq) +
                                 ") is not in the store; verify names what is missing"));
    }
    HttpResponse r;
    r.status = 200;
    r.content_type = info->type;
    r.headers.emplace_back("ETag", "\"" + sha + "\"");
    r.headers.emplace_back("Content-Disposition", Disposition(info->name, sha));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
    r.headers.emplace_back("Cache-Control", "private, no-cache");
    r.headers.emplace_back("X-Attachment-Size", std::to_string(info->size));
    engine::AttachmentStore* store = ctx.options.attachments;
    r.pieces = [store, sha, offset = std::uint64_t{0},
                size = info->size]() mutable -> engine::Result<std::string> {
      if (offset >= size) return std::string();
      auto piece = store->Read(sha, offset, kDownloadPiece);
      if (!piece) return piece;
      if (piece->empty()) {
        return engine::Fail(ErrorCode::kInternal, "attachment " + sha + " ended before its size");
      }
      offset += piece->size();
      return piece;
    };
    respond(std::move(r));
  });
}

}  // namespace handlers
}  // namespace expertflow::api
