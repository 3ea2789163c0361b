#include "engine/log/event_log.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace expertflow::engine {

Result<std::vector<StoredEvent>> EventLog::ReadAll(std::uint64_t from_seq, std::size_t max) const {
  std::vector<StoredEvent> out;
  if (max == 0) return out;
  Head head = GetHead();
  if (from_seq == 0) from_seq = 1;
  if (from_seq > head.seq) return out;
  std::uint64_t to = head.seq - from_seq + 1 > max ? from_seq + max - 1 : head.seq;
  auto r = ForEach(from_seq, to, [&](std::uint64_t seq, const Hash& hash, std::string_view rec) {
    out.push_back(StoredEvent{seq, hash, std::string(rec)});
    return true;
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

void EventLog::AppendAsync(AppendBatch batch, AppendCallback done) { done(Append(batch)); }

Result<AppendResult> PrepareAppend(
    const AppendBatch& batch, const Head& head,
    const std::function<Result<std::uint64_t>(std::string_view stream)>& current_version) {
  if (batch.after_seq && *batch.after_seq != head.seq) {
    return Fail(ErrorCode::kUnavailable, "the batch was decided after seq " +
                                             std::to_string(*batch.after_seq) +
                                             ", but the log stands at " + std::to_string(head.seq) +
                                             " (an earlier write failed)");
  }
  AppendResult result;
  std::unordered_map<std::string_view, std::uint64_t> batch_versions;
  std::uint64_t seq = head.seq;
  Hash prev = head.hash;
  for (const StreamAppend& part : batch.appends) {
    std::uint64_t version = 0;
    if (auto it = batch_versions.find(part.stream); it != batch_versions.end()) {
      version = it->second;
    } else {
      if (part.stream.empty()) return Fail(ErrorCode::kValidationFailed, "stream id is empty");
      auto stored = current_version(part.stream);
      if (!stored) return std::unexpected(stored.error());
      version = *stored;
    }
    if (part.expected_version && *part.expected_version != version) {
      return Fail(ErrorCode::kVersionConflict,
                  "stream " + part.stream + " is at version " + std::to_string(version) +
                      ", expected " + std::to_string(*part.expected_version),
                  {{"current_version", version}});
    }
    for (const NewEvent& event : part.events) {
      if (auto ok = ValidateNewEvent(part.stream, event); !ok) return std::unexpected(ok.error());
      ++seq;
      ++version;
      AppendedEvent out;
      out.seq = seq;
      out.stream = part.stream;
      out.version = version;
      out.record = EncodeRecord(seq, part.stream, version, event, prev);
      if (out.record.size() > kMaxRecordBytes) {
        return Fail(ErrorCode::kPayloadTooLarge, "record of " + event.type + " is larger than " +
                                                     std::to_string(kMaxRecordBytes) + " bytes");
      }
      out.hash = ChainHash(prev, out.record);
      prev = out.hash;
      result.events.push_back(std::move(out));
    }
    batch_versions[part.stream] = version;
  }
  result.head = Head{seq, prev};
  return result;
}

namespace {
constexpr std::size_t kChunkRecords = 4096;
constexpr std::size_t kChunksAhead = 4;  // bounds the memory the reader may run ahead with
}  // namespace

Result<void> ForEachPipelined(const EventLog& log, std::uint64_t from_seq, std::uint64_t to_seq,
                              const EventVisitor& visit) {
  return ForEachPipelined(log, from_seq, to_seq, std::span<const EventVisitor>(&visit, 1));
}

Result<void> ForEachPipelined(const EventLog& log, std::uint64_t from_seq, std::uint64_t to_seq,
                              std::span<const EventVisitor> visitors) {
  if (visitors.empty()) return {};
  // Short ranges are not worth a thread.
  if (to_seq < from_seq || to_seq - from_seq < 4096) {
    return log.ForEach(from_seq, to_seq,
                       [&](std::uint64_t seq, const Hash& hash, std::string_view record) {
                         for (const auto& visit : visitors) {
                           if (!visit(seq, hash, record)) return false;
                         }
                         return true;
                       });
  }
  struct Entry {
    std::uint64_t seq;
    Hash hash;
    std::size_t offset;
    std::size_t size;
  };
  struct Chunk {
    std::string bytes;
    std::vector<Entry> entries;
    std::size_t pending = 0;  // visitors that have not yet run over it
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Chunk>> pool;                // owns every chunk
  std::vector<std::deque<Chunk*>> ready(visitors.size());  // one queue a visitor
  std::vector<Chunk*> spare;  // chunks every visitor is done with, reused with their buffers
  bool done = false, stop = false;
  Result<void> read_result;

  // Visitor `i`'s loop: its chunks in order, until the reader is done or anyone stops.
  auto consume = [&](std::size_t i) {
    while (true) {
      Chunk* chunk = nullptr;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !ready[i].empty() || done || stop; });
        if (stop || ready[i].empty()) return;
        chunk = ready[i].front();
        ready[i].pop_front();
        cv.notify_all();
      }
      bool go_on = true;
      for (const Entry& e : chunk->entries) {
        if (!visitors[i](e.seq, e.hash, std::string_view(chunk->bytes).substr(e.offset, e.size))) {
          go_on = false;
          break;
        }
      }
      std::lock_guard lock(mu);
      if (--chunk->pending == 0) spare.push_back(chunk);
      if (!go_on) {
        stop = true;
        cv.notify_all();
        return;
      }
    }
  };

  std::thread reader([&] {
    auto next_chunk = [&] {  // under mu
      Chunk* chunk = nullptr;
      if (!spare.empty()) {
        chunk = spare.back();
        spare.pop_back();
      } else {
        pool.push_back(std::make_unique<Chunk>());
        chunk = pool.back().get();
      }
      chunk->bytes.clear();
      chunk->entries.clear();
      return chunk;
    };
    Chunk* chunk = nullptr;
    {
      std::lock_guard lock(mu);
      chunk = next_chunk();
    }
    auto hand_over = [&] {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] {
        return stop || std::all_of(ready.begin(), ready.end(),
                                   [](const auto& q) { return q.size() < kChunksAhead; });
      });
      if (stop) return false;
      chunk->pending = ready.size();
      for (auto& q : ready) q.push_back(chunk);
      cv.notify_all();
      chunk = next_chunk();
      return true;
    };
    auto r = log.ForEach(
        from_seq, to_seq, [&](std::uint64_t seq, const Hash& hash, std::string_view record) {
          chunk->entries.push_back({seq, hash, chunk->bytes.size(), record.size()});
          chunk->bytes.append(record);
          return chunk->entries.size() < kChunkRecords || hand_over();
        });
    if (!chunk->entries.empty()) hand_over();
    std::lock_guard lock(mu);
    read_result = std::move(r);
    done = true;
    cv.notify_all();
  });

  {
    std::vector<std::jthread> others;
    for (std::size_t i = 1; i < visitors.size(); ++i) others.emplace_back([&, i] { consume(i); });
    consume(0);
  }
  reader.join();
  return read_result;
}

namespace {

// Reads the number after `{"seq":` at the start of a record, the form EncodeRecord writes.
std::optional<std::uint64_t> RecordSeq(std::string_view record) {
  constexpr std::string_view kPrefix = "{\"seq\":";
  if (!record.starts_with(kPrefix)) return std::nullopt;
  std::uint64_t seq = 0;
  const char* begin = record.data() + kPrefix.size();
  auto [ptr, ec] = std::from_chars(begin, record.data() + record.size(), seq);
  if (ec != std::errc() || ptr == begin || *ptr != ',') return std::nullopt;
  return seq;
}

// The hex after `"prev_hash":"` at the end of a record.
std::optional<std::string_view> RecordPrevHash(std::string_view record) {
  constexpr std::string_view kKey = ",\"prev_hash\":\"";
  constexpr std::size_t kTail = kKey.size() + 64 + 2;  // key, hex, closing quote and brace
  if (record.size() < kTail || !record.ends_with("\"}")) return std::nullopt;
  std::string_view tail = record.substr(record.size() - kTail);
  if (!tail.starts_with(kKey)) return std::nullopt;
  return tail.substr(kKey.size(), 64);
}

}  // namespace

Result<VerifyResult> Verify(const EventLog& log, std::uint64_t from_seq, std::uint64_t to_seq) {
  VerifyResult result;
  const Head head = log.GetHead();
  if (from_seq == 0) from_seq = 1;
  if (to_seq == 0 || to_seq > head.seq) to_seq = head.seq;
  if (from_seq > to_seq) {
    result.head = head;
    return result;
  }

  Hash prev = kZeroHash;
  if (from_seq > 1) {
    bool found = false;
    auto r = log.ForEach(from_seq - 1, from_seq - 1,
                         [&](std::uint64_t, const Hash& hash, std::string_view) {
                           prev = hash;
                           found = true;
                           return true;
                         });
    if (!r) return std::unexpected(r.error());
    if (!found) {
      result.ok = false;
      result.first_bad_seq = from_seq - 1;
      result.reason = "event is missing";
      return result;
    }
  }

  std::uint64_t expected = from_seq;
  std::string prev_hex;
  prev_hex.reserve(64);
  auto bad = [&](std::uint64_t seq, std::string reason) {
    result.ok = false;
    result.first_bad_seq = seq;
    result.reason = std::move(reason);
    return false;
  };
  auto r = ForEachPipelined(
      log, from_seq, to_seq, [&](std::uint64_t seq, const Hash& stored, std::string_view record) {
        if (seq != expected) return bad(expected, "event is missing");
        auto record_seq = RecordSeq(record);
        if (!record_seq || *record_seq != seq) {
          return bad(seq, "record does not carry its own seq");
        }
        auto record_prev = RecordPrevHash(record);
        prev_hex.clear();
        AppendHex(prev, prev_hex);
        if (!record_prev || *record_prev != prev_hex) {
          return bad(seq, "prev_hash does not match the hash of the event before");
        }
        Hash computed = ChainHash(prev, record);
        if (computed != stored) return bad(seq, "stored hash does not match the record");
        prev = computed;
        result.head = Head{seq, computed};
        ++result.checked;
        ++expected;
        return true;
      });
  if (!r) return std::unexpected(r.error());
  if (result.ok && expected != to_seq + 1) {
    bad(expected, "event is missing");
  }
  if (result.ok && to_seq == head.seq && result.head != head) {
    bad(head.seq, "head does not match the last event");
  }
  return result;
}

}  // namespace expertflow::engine
