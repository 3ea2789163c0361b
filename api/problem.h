#pragma once

#include "api/http.h"
#include "engine/error.h"

namespace expertflow::api {

// The one place where error codes become HTTP statuses (API.md, Errors; STYLE.md, Abseil).
int StatusOf(engine::ErrorCode code);

// An application/problem+json answer: {"status", "code", "title", "detail"} plus the error's
// details (current_version, state, allowed_commands, errors...).
HttpResponse Problem(const engine::Error& error);
HttpResponse Problem(engine::ErrorCode code, std::string detail);

}  // namespace expertflow::api
