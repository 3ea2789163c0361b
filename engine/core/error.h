#pragma once

#include <expected>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace expertflow::engine {

// The one vocabulary of failure (API.md, Errors). The HTTP layer maps each code to a status in one
// place; everything below it returns these as values and never throws across a module boundary.
enum class ErrorCode {
  kMalformedJson,
  kBadRequest,
  kUnauthenticated,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,  // 405: the path has routes, none for this method (the answer says Allow)
  kVersionConflict,
  kInvalidTransition,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kValidationFailed,
  kIdempotencyKeyReused,
  kUnavailable,  // storage failed, or shutting down
  kCorruption,   // the stored log does not verify
  kInternal,
};

// Wire name of a code, e.g. "version_conflict".
std::string_view CodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Extra members of the problem+json body (current_version, state, allowed_commands, errors...).
  nlohmann::json details = nlohmann::json::object();

  std::string ToString() const;
};

template <typename T>
using Result = std::expected<T, Error>;

// A field-level problem of a payload, as listed in a validation_failed answer.
struct FieldError {
  std::string field;
  std::string message;
};

inline std::unexpected<Error> Fail(ErrorCode code, std::string message,
                                   nlohmann::json details = nlohmann::json::object()) {
  return std::unexpected(Error{code, std::move(message), std::move(details)});
}

}  // namespace expertflow::engine
