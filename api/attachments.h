#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/http.h"
#include "engine/core/attachments.h"
#include "engine/decide/policy.h"

namespace expertflow::api {

namespace handlers {
struct Context;
}

// POST /api/v1/attachments (issue 18, docs/attachments.md): the body is the file, taken a piece
// at a time into the store, never held whole. The server streams a request's body into it; the
// router gives it a body it already holds. Open decides, from the request's head alone, whether
// the body is taken at all: a token, a size within the limit (from Content-Length, when given),
// a media type and a download name. Write refuses the piece that goes over the limit; Finish
// makes the file durable and answers 201 (stored now) or 200 (that content was stored already).
// Destroyed before Finish, it leaves nothing.
class AttachmentSink {
 public:
  static engine::Result<std::unique_ptr<AttachmentSink>> Open(handlers::Context& ctx,
                                                              const HttpRequest& head,
                                                              const engine::Principal& p);
  engine::Result<void> Write(std::string_view piece);
  HttpResponse Finish();
  std::uint64_t limit() const { return limit_; }

 private:
  AttachmentSink(std::unique_ptr<engine::AttachmentUpload> upload, std::uint64_t limit)
      : upload_(std::move(upload)), limit_(limit) {}
  std::unique_ptr<engine::AttachmentUpload> upload_;
  std::uint64_t limit_;
  std::uint64_t taken_ = 0;
};

// "1.5 MiB": a size as the 413's detail says it.
std::string SizeText(std::uint64_t bytes);

}  // namespace expertflow::api
