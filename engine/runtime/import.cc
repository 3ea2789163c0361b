#include "engine/runtime/import.h"

#include <string>
#include <unordered_map>
#include <vector>

#include "engine/log/event.h"
#include "engine/model/instance.h"
#include "engine/model/registry_layer.h"

namespace expertflow::engine {
namespace {

// One line of the stream, at most `max` bytes without its newline. False at the end of the
// stream or when the line is longer (then `too_long`); nothing past `max` is kept.
bool ReadLine(std::istream& in, std::string& line, std::size_t max, bool& too_long) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  bool any = false;
  for (int c = buf->sbumpc(); c != std::char_traits<char>::eof(); c = buf->sbumpc()) {
    any = true;
    if (c == '\n') return true;
    if (line.size() == max) {
      too_long = true;
      return false;
    }
    line.push_back(static_cast<char>(c));
  }
  return any;
}

struct Line {
  Event event;
  Hash hash{};
  std::string record;
};

// The data text of a record as written, for re-appending it unchanged: the fixed layout
// (EncodeRecord) puts "data" last before "prev_hash", and no string inside the envelope can hold
// an unescaped quote, so the first `,"data":` and the last `,"prev_hash":"` are the members.
std::string DataText(const std::string& record) {
  constexpr std::string_view kData = ",\"data\":";
  const auto data_at = record.find(kData);
  const auto prev_at = record.rfind(",\"prev_hash\":\"");
  if (data_at == std::string::npos || prev_at == std::string::npos || prev_at < data_at) return {};
  return record.substr(data_at + kData.size(), prev_at - data_at - kData.size());
}

class Importer {
 public:
  Importer(EventLog& log, const DefinitionSet& definitions, const Directory& directory,
           const RoutingTable& routing, const ImportOptions& options)
      : log_(log),
        definitions_(definitions),
        registry_(directory),
        directory_(
            directory,
            LayeredDirectory::Source{
                [this](std::string_view id) -> const Organization* {
                  auto it =
                      states_.find(std::string(kOrganizationsCollection) + "/" + std::string(id));
                  return it == states_.end() ? nullptr : registry_.OrganizationOf(it->second);
                },
                [this](std::string_view id) -> const Group* {
                  auto it = states_.find(std::string(kGroupsCollection) + "/" + std::string(id));
                  return it == states_.end() ? nullptr : registry_.GroupOf(it->second);
                },
                [this](std::string_view c) { return registry_.DecidedIds(c); }}),
        routing_(routing),
        options_(options) {}

  Result<ImportReport> Run(std::istream& in) {
    if (log_.GetHead().seq != 0) return Fail(ErrorCode::kBadRequest, "the store is not empty");
    std::string text;
    std::uint64_t line_number = 0;
    bool too_long = false;
    while (ReadLine(in, text, options_.max_line_bytes, too_long)) {
      ++line_number;
      if (text.empty()) continue;
      if (auto r = Take(text); !r) return std::unexpected(r.error());
    }
    if (too_long) {
      return Fail(ErrorCode::kValidationFailed,
                  "line " + std::to_string(line_number + 1) + " (seq " + std::to_string(next_seq_) +
                      ") is longer than " + std::to_string(options_.max_line_bytes) + " bytes");
    }
    if (in.bad()) return Fail(ErrorCode::kUnavailable, "the file could not be read");
    if (auto r = Settle(); !r) return std::unexpected(r.error());
    if (auto r = Flush(); !r) return std::unexpected(r.error());
    if (options_.expect_head && *options_.expect_head != prev_) {
      return Fail(ErrorCode::kValidationFailed, "the file ends on head " + ToHex(prev_) + " (seq " +
                                                    std::to_string(next_seq_ - 1) +
                                                    "), not on the expected " +
                                                    ToHex(*options_.expect_head));
    }
    return ImportReport{next_seq_ - 1, prev_};
  }

 private:
  std::unexpected<Error> Refuse(std::uint64_t seq, const std::string& why) const {
    return Fail(ErrorCode::kValidationFailed, "seq " + std::to_string(seq) + ": " + why);
  }

  // One line: its place in the chain now; the command it belongs to once that command is whole.
  Result<void> Take(const std::string& text) {
    const std::uint64_t seq = next_seq_;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("seq") || !j.contains("hash") || !j.contains("record") ||
        !j["record"].is_string() || !j["hash"].is_string() || !j["seq"].is_number_unsigned()) {
      return Refuse(seq, "not a line of an export");
    }
    if (j["seq"].get<std::uint64_t>() != seq) return Refuse(seq, "seq out of order or missing");
    Line line;
    line.record = j["record"].get<std::string>();
    auto hash = HashFromHex(j["hash"].get<std::string>());
    if (!hash || ChainHash(prev_, line.record) != *hash)
      return Refuse(seq, "the hash does not match the chain");
    line.hash = *hash;
    auto decoded = DecodeRecord(line.record);
    if (!decoded) return Refuse(seq, "the record cannot be read: " + decoded.error().message);
    if (decoded->seq != seq || decoded->prev_hash != prev_)
      return Refuse(seq, "the record does not chain");
    line.event = std::move(*decoded);
    prev_ = line.hash;
    ++next_seq_;
    // The events of one command are consecutive and share its command id.
    if (!command_.empty() && (command_.front().event.stream != line.event.stream ||
                              command_.front().event.command_id != line.event.command_id)) {
      if (auto r = Settle(); !r) return r;
    }
    command_.push_back(std::move(line));
    return {};
  }

  // The command the buffered events record, as it was given.
  Result<Command> CommandOf(const Event& first) const {
    Command cmd;
    const auto slash = first.stream.find('/');
    if (slash == std::string::npos) return Refuse(first.seq, "the stream is not collection/id");
    cmd.collection = first.stream.substr(0, slash);
    cmd.instance_id = first.stream.substr(slash + 1);
    cmd.actor = Principal{first.actor.org, first.actor.role, first.actor.token_id};
    cmd.name = first.command;
    const nlohmann::json& data = first.data;
    if (data.contains("payload")) {
      if (!data["payload"].is_object()) return Refuse(first.seq, "the payload is not an object");
      cmd.payload = data["payload"];
    }
    if (auto created = data.find("created"); created != data.end()) {
      if (!created->is_object() || !created->value("workflow", nlohmann::json()).is_string() ||
          !created->value("workflow_version", nlohmann::json()).is_number_unsigned()) {
        return Refuse(first.seq, "the creation names no workflow and version");
      }
      cmd.kind = Command::Kind::kCreate;
      cmd.workflow = (*created)["workflow"].get<std::string>();
      const auto version = (*created)["workflow_version"].get<std::uint64_t>();
      if (version == 0 || version > UINT32_MAX ||
          definitions_.Find(cmd.workflow, static_cast<std::uint32_t>(version)) == nullptr) {
        return Refuse(first.seq, "workflow " + cmd.workflow + " v" + std::to_string(version) +
                                     " does not exist");
      }
      cmd.workflow_version = static_cast<std::uint32_t>(version);
      return cmd;
    }
    if (first.actor.org == "system" && first.actor.role == "system" &&
        first.command == "deadline") {
      auto due = data.value("due", nlohmann::json());
      auto at = due.is_string() ? ParseRfc3339(due.get<std::string>()) : std::nullopt;
      if (!data.value("deadline", nlohmann::json()).is_string() || !at)
        return Refuse(first.seq, "a timer's event names no deadline and due time");
      cmd.kind = Command::Kind::kFireTimer;
      cmd.timer = data["deadline"].get<std::string>();
      cmd.timer_due = *at;
      return cmd;
    }
    cmd.kind = Command::Kind::kAct;
    return cmd;
  }

  // Decides the buffered command again and compares: the events must be exactly those the
  // engine decides, then they are applied and queued for the log.
  Result<void> Settle() {
    if (command_.empty()) return {};
    const Event& first = command_.front().event;
    InstanceState* current = nullptr;
    if (auto it = states_.find(first.stream); it != states_.end()) current = &it->second;
    const std::uint64_t have = current ? current->version : 0;
    for (std::size_t i = 0; i < command_.size(); ++i) {
      const Event& e = command_[i].event;
      if (e.version != have + 1 + i)
        return Refuse(e.seq, "version " + std::to_string(e.version) + " does not follow " +
                                 std::to_string(have + i) + " in " + e.stream);
      if (e.occurred_at != first.occurred_at || e.actor.org != first.actor.org ||
          e.actor.role != first.actor.role || e.command != first.command) {
        return Refuse(e.seq, "the events of one command differ in time, actor or command");
      }
    }
    auto cmd = CommandOf(first);
    if (!cmd) return std::unexpected(cmd.error());
    DecideContext ctx{first.occurred_at, definitions_, directory_, routing_};
    auto decided = Decide(current, *cmd, ctx);
    if (!decided) {
      return Refuse(first.seq, "the engine refuses " + first.command + " by " + first.actor.org +
                                   " (" + first.actor.role + "): " + decided.error().message);
    }
    if (decided->size() != command_.size()) {
      return Refuse(first.seq, first.command + " decides " + std::to_string(decided->size()) +
                                   " events here, the file has " + std::to_string(command_.size()));
    }
    for (std::size_t i = 0; i < command_.size(); ++i) {
      const Event& e = command_[i].event;
      if ((*decided)[i].type != e.type)
        return Refuse(e.seq, first.command + " decides " + (*decided)[i].type + ", not " + e.type);
      if ((*decided)[i].data != e.data)
        return Refuse(e.seq,
                      "the data of " + e.type + " is not what " + first.command + " decides here");
    }
    if (cmd->kind == Command::Kind::kCreate && IsRegistryStream(first.stream))
      registry_.NoteDecided(cmd->collection, cmd->instance_id);
    InstanceState& state = states_[first.stream];
    StreamAppend part{first.stream, have, {}};
    for (auto& line : command_) {
      Evolve(state, line.event.occurred_at, JsonText(line.event.data));
      NewEvent ne;
      ne.type = line.event.type;
      ne.schema = line.event.schema;
      ne.occurred_at = line.event.occurred_at;
      ne.actor = line.event.actor;
      ne.command = line.event.command;
      ne.command_id = line.event.command_id;
      ne.data = DataText(line.record);
      part.events.push_back(std::move(ne));
      pending_.push_back({line.event.seq, line.hash, std::move(line.record)});
    }
    batch_.appends.push_back(std::move(part));
    command_.clear();
    if (pending_.size() >= options_.batch_events) return Flush();
    return {};
  }

  // Appends the queued events; the log re-encodes each, and the result must be the imported
  // record byte for byte.
  Result<void> Flush() {
    if (pending_.empty()) return {};
    auto r = log_.Append(batch_);
    if (!r) {
      return Fail(r.error().code,
                  "seq " + std::to_string(pending_.front().seq) + ": " + r.error().message);
    }
    for (std::size_t k = 0; k < r->events.size() && k < pending_.size(); ++k) {
      if (r->events[k].record != pending_[k].record || r->events[k].hash != pending_[k].hash)
        return Refuse(pending_[k].seq, "the record does not re-encode to the same bytes");
    }
    batch_ = {};
    pending_.clear();
    return {};
  }

  struct Pending {
    std::uint64_t seq;
    Hash hash;
    std::string record;
  };

  EventLog& log_;
  const DefinitionSet& definitions_;
  // The registry as the file's reference data left it at each command (issue 15): commands are
  // decided on the organisations and groups the file registered before them.
  RegistryVersions registry_;
  LayeredDirectory directory_;
  const RoutingTable& routing_;
  const ImportOptions& options_;
  std::uint64_t next_seq_ = 1;
  Hash prev_ = kZeroHash;
  std::vector<Line> command_;  // the events of the command being read
  std::unordered_map<std::string, InstanceState> states_;
  AppendBatch batch_;
  std::vector<Pending> pending_;
};

}  // namespace

Result<ImportReport> ImportExport(std::istream& in, EventLog& log, const DefinitionSet& definitions,
                                  const Directory& directory, const RoutingTable& routing,
                                  const ImportOptions& options) {
  return Importer(log, definitions, directory, routing, options).Run(in);
}

}  // namespace expertflow::engine
