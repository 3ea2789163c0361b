#include "engine/log/event.h"

#include <simdjson.h>

#include <charconv>
#include <map>

namespace expertflow::engine {
namespace {

bool HasControlChars(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Result<void> CheckName(std::string_view what, std::string_view value, bool allow_empty) {
  if (value.empty() && !allow_empty) {
    return Fail(ErrorCode::kValidationFailed, std::string(what) + " is empty");
  }
  if (value.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kValidationFailed,
                std::string(what) + " is longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (HasControlChars(value)) {
    return Fail(ErrorCode::kValidationFailed, std::string(what) + " has control characters");
  }
  return {};
}

void AppendUint(std::uint64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

Result<void> ValidateNewEvent(std::string_view stream, const NewEvent& event) {
  if (stream.empty()) return Fail(ErrorCode::kValidationFailed, "stream id is empty");
  if (stream.size() > kMaxStreamIdBytes) {
    return Fail(ErrorCode::kValidationFailed,
                "stream id is longer than " + std::to_string(kMaxStreamIdBytes) + " bytes");
  }
  if (HasControlChars(stream)) {
    return Fail(ErrorCode::kValidationFailed, "stream id has control characters");
  }
  if (auto r = CheckName("event type", event.type, false); !r) return r;
  if (auto r = CheckName("command", event.command, true); !r) return r;
  if (auto r = CheckName("command_id", event.command_id, true); !r) return r;
  if (auto r = CheckName("actor org", event.actor.org, false); !r) return r;
  if (auto r = CheckName("actor role", event.actor.role, false); !r) return r;
  if (auto r = CheckName("actor token_id", event.actor.token_id, true); !r) return r;
  if (event.data.size() > kMaxRecordBytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                "event data is larger than " + std::to_string(kMaxRecordBytes) + " bytes");
  }
  // The data must be exactly one JSON object: the record embeds it verbatim, so anything else
  // would make the record itself invalid JSON. simdjson validates it (UTF-8 included) several
  // times faster than a DOM parser would, and this runs for every event appended.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(event.data).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Fail(ErrorCode::kMalformedJson, "event data is not a JSON object");
  }
  return {};
}

void AppendJson(const nlohmann::json& value, std::string& out) {
  using Type = nlohmann::json::value_t;
  char digits[24];
  switch (value.type()) {
    case Type::null:
      out += "null";
      return;
    case Type::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case Type::number_integer: {
      auto end = std::to_chars(digits, digits + sizeof digits, value.get<std::int64_t>()).ptr;
      out.append(digits, end);
      return;
    }
    case Type::number_unsigned: {
      auto end = std::to_chars(digits, digits + sizeof digits, value.get<std::uint64_t>()).ptr;
      out.append(digits, end);
      return;
    }
    case Type::string:
      AppendJsonString(value.get_ref<const std::string&>(), out);
      return;
    case Type::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(element, out);
      }
      out.push_back(']');
      return;
    }
    case Type::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(key, out);
        out.push_back(':');
        AppendJson(member, out);
      }
      out.push_back('}');
      return;
    }
    default:  // floating point (its shortest form is nlohmann's to write), binary, discarded
      out += value.dump();
  }
}

std::string JsonText(const nlohmann::json& value) {
  std::string out;
  AppendJson(value, out);
  return out;
}

std::string EncodeRecord(std::uint64_t seq, std::string_view stream, std::uint64_t version,
                         const NewEvent& event, const Hash& prev_hash) {
  std::string out;
  out.reserve(256 + stream.size() + event.data.size());
  out += "{\"seq\":";
  AppendUint(seq, out);
  out += ",\"stream\":";
  AppendJsonString(stream, out);
  out += ",\"version\":";
  AppendUint(version, out);
  out += ",\"type\":";
  AppendJsonString(event.type, out);
  out += ",\"schema\":";
  AppendUint(event.schema, out);
  out += ",\"occurred_at\":\"";
  out += FormatRfc3339(event.occurred_at);
  out += "\",\"actor\":{\"org\":";
  AppendJsonString(event.actor.org, out);
  out += ",\"role\":";
  AppendJsonString(event.actor.role, out);
  if (!event.actor.token_id.empty()) {
    out += ",\"token_id\":";
    AppendJsonString(event.actor.token_id, out);
  }
  out += "},\"command\":";
  AppendJsonString(event.command, out);
  out += ",\"command_id\":";
  AppendJsonString(event.command_id, out);
  out += ",\"data\":";
  out += event.data;
  out += ",\"prev_hash\":\"";
  AppendHex(prev_hash, out);
  out += "\"}";
  return out;
}

namespace {

std::map<std::pair<std::string, std::uint32_t>, Upcaster, std::less<>>& Upcasters() {
  static std::map<std::pair<std::string, std::uint32_t>, Upcaster, std::less<>> upcasters;
  return upcasters;
}

}  // namespace

void RegisterUpcaster(std::string type, std::uint32_t from, Upcaster upcast) {
  Upcasters()[{std::move(type), from}] = std::move(upcast);
}

namespace {

// The fast path for records in the layout EncodeRecord writes: the envelope (everything before
// "data") is parsed with simdjson, and only the data with nlohmann, since evolve reads it as a
// DOM. `,"data":` cannot occur inside an envelope string (quotes are escaped there), so its first
// occurrence is the envelope's.
std::optional<Event> DecodeFast(std::string_view record) {
  constexpr std::string_view kData = ",\"data\":";
  constexpr std::string_view kPrev = ",\"prev_hash\":\"";
  constexpr std::size_t kTail = kPrev.size() + 64 + 2;
  const std::size_t at = record.find(kData);
  if (at == std::string_view::npos || record.size() < at + kData.size() + kTail ||
      record.substr(record.size() - kTail, kPrev.size()) != kPrev || !record.ends_with("\"}")) {
    return std::nullopt;
  }
  thread_local simdjson::dom::parser parser;
  thread_local std::string envelope;
  envelope.assign(record.substr(0, at));
  envelope.push_back('}');
  simdjson::dom::element root;
  if (parser.parse(envelope).get(root) != simdjson::SUCCESS) return std::nullopt;
  Event e;
  std::string_view stream, type, occurred_at, org, role, command, command_id, token_id;
  std::uint64_t schema = 1;
  if (root["seq"].get(e.seq) || root["stream"].get(stream) || root["version"].get(e.version) ||
      root["type"].get(type) || root["occurred_at"].get(occurred_at) ||
      root["actor"]["org"].get(org) || root["actor"]["role"].get(role) ||
      root["command"].get(command) || root["command_id"].get(command_id)) {
    return std::nullopt;
  }
  if (root["schema"].get(schema) == simdjson::SUCCESS)
    e.schema = static_cast<std::uint32_t>(schema);
  if (root["actor"]["token_id"].get(token_id) == simdjson::SUCCESS) e.actor.token_id = token_id;
  auto at_time = ParseRfc3339(occurred_at);
  auto prev = HashFromHex(record.substr(record.size() - 66, 64));
  if (!at_time || !prev) return std::nullopt;
  e.stream = stream;
  e.type = type;
  e.occurred_at = *at_time;
  e.actor.org = org;
  e.actor.role = role;
  e.command = command;
  e.command_id = command_id;
  e.prev_hash = *prev;
  e.data = nlohmann::json::parse(
      record.substr(at + kData.size(), record.size() - kTail - at - kData.size()), nullptr, false);
  if (e.data.is_discarded() || !e.data.is_object()) return std::nullopt;
  return e;
}

void Upcast(Event& e) {
  const auto& upcasters = Upcasters();
  if (upcasters.empty()) return;
  for (auto it = upcasters.find({e.type, e.schema}); it != upcasters.end();
       it = upcasters.find({e.type, e.schema})) {
    e.data = it->second(std::move(e.data));
    ++e.schema;
  }
}

}  // namespace

Result<Event> DecodeRecord(std::string_view record) {
  if (auto fast = DecodeFast(record)) {
    Upcast(*fast);
    return std::move(*fast);
  }
  nlohmann::json j = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(ErrorCode::kCorruption, "record is not a JSON object");
  }
  try {
    Event e;
    e.seq = j.at("seq").get<std::uint64_t>();
    e.stream = j.at("stream").get<std::string>();
    e.version = j.at("version").get<std::uint64_t>();
    e.type = j.at("type").get<std::string>();
    e.schema = j.value("schema", 1u);
    auto at = ParseRfc3339(j.at("occurred_at").get<std::string>());
    if (!at) return Fail(ErrorCode::kCorruption, "record has a bad occurred_at");
    e.occurred_at = *at;
    const auto& actor = j.at("actor");
    e.actor.org = actor.at("org").get<std::string>();
    e.actor.role = actor.at("role").get<std::string>();
    e.actor.token_id = actor.value("token_id", "");
    e.command = j.value("command", "");
    e.command_id = j.value("command_id", "");
    e.data = std::move(j.at("data"));
    auto prev = HashFromHex(j.at("prev_hash").get<std::string>());
    if (!prev) return Fail(ErrorCode::kCorruption, "record has a bad prev_hash");
    e.prev_hash = *prev;
    Upcast(e);
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return Fail(ErrorCode::kCorruption, std::string("record is incomplete: ") + ex.what());
  }
}

namespace {

// A cursor over the fixed record layout. Each step consumes an exact piece or fails; strings
// with an escape fail too, so that the caller falls back to the full decoder.
struct LayoutScanner {
  std::string_view rest;

  bool Literal(std::string_view text) {
    if (!rest.starts_with(text)) return false;
    rest.remove_prefix(text.size());
    return true;
  }
  bool Uint(std::uint64_t& out) {
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out);
    if (ec != std::errc() || end == rest.data()) return false;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    return true;
  }
  // The body of a string whose opening quote was consumed, up to and past its closing quote.
  bool PlainString(std::string_view& out) {
    const std::size_t end = rest.find('"');
    if (end == std::string_view::npos || rest.substr(0, end).find('\\') != std::string_view::npos)
      return false;
    out = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    return true;
  }
};

}  // namespace

Result<RecordView> RecordReader::Read(std::string_view record) {
  constexpr std::string_view kData = ",\"data\":";
  constexpr std::string_view kPrev = ",\"prev_hash\":\"";
  constexpr std::size_t kTail = kPrev.size() + 64 + 2;
  RecordView v;
  LayoutScanner scan{record};
  std::uint64_t schema = 0;
  std::string_view occurred_at;
  bool fast = scan.Literal("{\"seq\":") && scan.Uint(v.seq) && scan.Literal(",\"stream\":\"") &&
              scan.PlainString(v.stream) && scan.Literal(",\"version\":") && scan.Uint(v.version) &&
              scan.Literal(",\"type\":\"") && scan.PlainString(v.type) &&
              scan.Literal(",\"schema\":") && scan.Uint(schema) &&
              scan.Literal(",\"occurred_at\":\"") && scan.PlainString(occurred_at);
  if (fast) {
    // `,"data":` cannot stand inside the actor or command strings (their quotes are escaped), so
    // its first occurrence after the envelope's start is the data's.
    const std::size_t at = scan.rest.find(kData);
    const std::size_t tail = record.size() - kTail;
    auto time = ParseRfc3339(occurred_at);
    fast = at != std::string_view::npos && time && record.size() >= kTail &&
           record.substr(tail, kPrev.size()) == kPrev && record.ends_with("\"}");
    if (fast) {
      v.occurred_at = *time;
      const std::size_t data_begin =
          static_cast<std::size_t>(scan.rest.data() - record.data()) + at + kData.size();
      fast = data_begin < tail;
      if (fast) v.data = record.substr(data_begin, tail - data_begin);
    }
  }
  if (!fast) {
    auto decoded = DecodeRecord(record);
    if (!decoded) return std::unexpected(decoded.error());
    decoded_ = std::move(*decoded);
    data_ = decoded_.data.dump();
    return RecordView{decoded_.seq,  decoded_.stream,      decoded_.version,
                      decoded_.type, decoded_.occurred_at, data_};
  }
  const auto& upcasters = Upcasters();
  if (!upcasters.empty() &&
      upcasters.contains({std::string(v.type), static_cast<std::uint32_t>(schema)})) {
    Event e;
    e.type = v.type;
    e.schema = static_cast<std::uint32_t>(schema);
    e.data = nlohmann::json::parse(v.data, nullptr, false);
    if (e.data.is_discarded()) return Fail(ErrorCode::kCorruption, "record data is not JSON");
    Upcast(e);
    data_ = e.data.dump();
    v.data = data_;
  }
  return v;
}

std::string_view RecordType(std::string_view record) {
  constexpr std::string_view kKey = ",\"type\":\"";
  auto at = record.find(kKey);
  if (at == std::string_view::npos) return {};
  auto begin = at + kKey.size();
  auto end = record.find('"', begin);
  if (end == std::string_view::npos) return {};
  return record.substr(begin, end - begin);
}

std::string EventJsonText(const StoredEvent& stored) {
  std::string_view record = stored.record;
  if (!record.empty() && record.back() == '}') record.remove_suffix(1);
  std::string out;
  out.reserve(record.size() + 80);
  out += record;
  out += ",\"hash\":\"";
  AppendHex(stored.hash, out);
  out += "\"}";
  return out;
}

}  // namespace expertflow::engine
