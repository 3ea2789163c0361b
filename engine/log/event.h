#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/core/time.h"

namespace expertflow::engine {

// Who caused an event. Timers act as {"org": "system", "role": "system"} (API.md, Events).
struct Actor {
  std::string org;
  std::string role;
  std::string token_id;  // empty for the system and for tools acting on the store directly
};

// An event as `decide` produces it, before the log gives it a place: the log assigns `seq`,
// `version` and `prev_hash` and only then can the record text be written.
struct NewEvent {
  std::string type;          // past tense, e.g. "ConclusionSubmitted"
  std::uint32_t schema = 1;  // the version of this type's `data` layout (upcast on read)
  Timestamp occurred_at{};
  Actor actor;
  std::string command;     // wire name of the command that caused it, e.g. "submit_conclusion"
  std::string command_id;  // one id per accepted command; all its events share it
  std::string data;        // compact JSON text of an object
};

// An event as the log holds it: its exact record text and the hash over it.
struct StoredEvent {
  std::uint64_t seq = 0;
  Hash hash{};
  std::string record;
};

// The whole event, decoded from a record.
struct Event {
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t version = 0;
  std::string type;
  std::uint32_t schema = 1;
  Timestamp occurred_at{};
  Actor actor;
  std::string command;
  std::string command_id;
  nlohmann::json data;
  Hash prev_hash{};
};

// Bounds the log enforces on every append (before anything is written).
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;  // 1 MiB, the same bound as a request body
inline constexpr std::size_t kMaxStreamIdBytes = 200;
inline constexpr std::size_t kMaxNameBytes = 100;  // type, command, actor fields

// Checks what the log refuses: an empty or oversized stream id, an empty type, names with control
// characters, `data` that is not a JSON object. The record size is checked when it is encoded.
Result<void> ValidateNewEvent(std::string_view stream, const NewEvent& event);

// Writes the record text: compact JSON with members in a fixed order, so that the same event
// always gives the same bytes:
//   {"seq":..,"stream":..,"version":..,"type":..,"schema":..,"occurred_at":..,
//    "actor":{"org":..,"role":..[,"token_id":..]},"command":..,"command_id":..,"data":{..},
//    "prev_hash":".."}
// `event.data` is copied as given (it was validated to be a JSON object).
std::string EncodeRecord(std::uint64_t seq, std::string_view stream, std::uint64_t version,
                         const NewEvent& event, const Hash& prev_hash);

// Parses a record back. Fails with kCorruption when it is not a record. The event's data comes
// out in the current schema of its type: older schemas are upcast by the registered functions.
Result<Event> DecodeRecord(std::string_view record);

// Event schema evolution: a function that turns the data of `type` at schema `from` into schema
// `from + 1`. Stored records are never rewritten (the hash chain covers them); readers see the
// current layout. Register at start-up, before any record is read.
using Upcaster = std::function<nlohmann::json(nlohmann::json data)>;
void RegisterUpcaster(std::string type, std::uint32_t from, Upcaster upcast);

// What replay needs of a record: the envelope's members and the data text in the current schema
// of its type. Views into the record, or into the reader that made them; valid until the next
// Read or until the record goes away.
struct RecordView {
  std::uint64_t seq = 0;
  std::string_view stream;
  std::uint64_t version = 0;
  std::string_view type;
  Timestamp occurred_at{};
  std::string_view data;
};

// Reads records for replay (rebuilds, as_of, stage statistics), the hot path of every projection:
// the fixed layout EncodeRecord writes is scanned in place, with no JSON parser and no copy, and
// only the data is left for the caller to parse. A record outside that layout (an escaped
// character in the envelope) goes through DecodeRecord instead, and data of an older schema is
// upcast, so a view says exactly what DecodeRecord would. One reader per thread.
class RecordReader {
 public:
  Result<RecordView> Read(std::string_view record);

 private:
  Event decoded_;     // a record read the slow way
  std::string data_;  // data upcast to the current schema
};

// The type of a record without parsing it: the first "type" member, which the fixed layout puts
// before `data`. Empty when the record is not in that layout.
std::string_view RecordType(std::string_view record);

// The event as the API shows it: the record's members, in the record's order, plus "hash" last.
// Spliced as text, so the record's bytes appear unchanged.
std::string EventJsonText(const StoredEvent& stored);

// Appends `text` to `out` as a JSON string literal (quotes and escapes included).
void AppendJsonString(std::string_view text, std::string& out);

// Appends `value` as JSON text: the bytes nlohmann's `dump()` writes (no spaces, object members in
// key order, strings escaped as AppendJsonString does) without dump()'s decoding of every byte
// of every string, which the Cyrillic payloads of the write path make costly. Where dump()
// would throw (a string that is not UTF-8) the bytes are copied as they are; the log's
// validation of event data refuses them.
void AppendJson(const nlohmann::json& value, std::string& out);
std::string JsonText(const nlohmann::json& value);

}  // namespace expertflow::engine
