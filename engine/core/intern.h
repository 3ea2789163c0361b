#pragma once

#include <string>
#include <string_view>

namespace expertflow::engine {

// One shared copy of a short string that many instances repeat: a participant slot and its
// organisation, a field's name (issue 19: at 1M events the instance states held ~57k copies of
// the same seven slot names and a few hundred organisation ids, 39 MB of map nodes and strings).
// The copy lives as long as the process; the pointer is stable, so equal strings intern to the
// same pointer. The strings interned are bounded by what definitions and the directory allow
// (slot names, known organisations, payload fields a spec declares), not by the number of
// instances. Thread-safe.
const std::string* Intern(std::string_view text);

}  // namespace expertflow::engine
