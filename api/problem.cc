#include "api/problem.h"

namespace expertflow::api {
namespace {

const char* TitleOf(engine::ErrorCode code) {
  using engine::ErrorCode;
  switch (code) {
    case ErrorCode::kMalformedJson:
      return "The body is not a JSON object";
    case ErrorCode::kBadRequest:
      return "Bad request";
    case ErrorCode::kUnauthenticated:
      return "Authentication required";
    case ErrorCode::kForbidden:
      return "Not allowed";
    case ErrorCode::kNotFound:
      return "Not found";
    case ErrorCode::kMethodNotAllowed:
      return "Method not allowed";
    case ErrorCode::kVersionConflict:
      return "Version conflict";
    case ErrorCode::kInvalidTransition:
      return "Not valid in the current state";
    case ErrorCode::kPayloadTooLarge:
      return "Payload too large";
    case ErrorCode::kUnsupportedMediaType:
      return "Unsupported media type";
    case ErrorCode::kValidationFailed:
      return "Validation failed";
    case ErrorCode::kIdempotencyKeyReused:
      return "Idempotency key reused";
    case ErrorCode::kUnavailable:
      return "Service unavailable";
    case ErrorCode::kCorruption:
      return "Stored data failed verification";
    case ErrorCode::kInternal:
      return "Internal error";
  }
  return "Internal error";
}

}  // namespace

int StatusOf(engine::ErrorCode code) {
  using engine::ErrorCode;
  switch (code) {
    case ErrorCode::kMalformedJson:
      return 400;
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kVersionConflict:
      return 409;
    case ErrorCode::kInvalidTransition:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kValidationFailed:
      return 422;
    case ErrorCode::kIdempotencyKeyReused:
      return 422;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kCorruption:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse Problem(const engine::Error& error) {
  nlohmann::json body = error.details.is_object() ? error.details : nlohmann::json::object();
  const int status = StatusOf(error.code);
  body["status"] = status;
  body["code"] = std::string(engine::CodeName(error.code));
  body["title"] = TitleOf(error.code);
  body["detail"] = error.message;
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

HttpResponse TransportProblem(int status, std::string_view code, std::string_view title,
                              std::string detail) {
  nlohmann::json body = {{"status", status},
                         {"code", std::string(code)},
                         {"title", std::string(title)},
                         {"detail", std::move(detail)}};
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump();
  return r;
}

HttpResponse Problem(engine::ErrorCode code, std::string detail) {
  return Problem(engine::Error{code, std::move(detail), nlohmann::json::object()});
}

}  // namespace expertflow::api
