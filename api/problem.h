#pragma once

#include "api/http.h"
#include "engine/core/error.h"

namespace expertflow::api {

// The one place where error codes become HTTP statuses (API.md, Errors; STYLE.md, Abseil).
int StatusOf(engine::ErrorCode code);

// An application/problem+json answer: {"status", "code", "title", "detail"} plus the error's
// details (current_version, state, allowed_commands, errors...).
HttpResponse Problem(const engine::Error& error);
HttpResponse Problem(engine::ErrorCode code, std::string detail);
// A problem of the HTTP exchange itself, which no engine code names (431, 501): the same body,
// with the status given.
HttpResponse TransportProblem(int status, std::string_view code, std::string_view title,
                              std::string detail);

}  // namespace expertflow::api
