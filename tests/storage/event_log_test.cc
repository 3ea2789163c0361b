// The EventLog contract, run against both implementations (the in-memory one and RocksDB).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>

#include "engine/log/memory_event_log.h"
#include "storage/rocksdb_event_log.h"
#include "tests/storage/temp_dir.h"

namespace expertflow::engine {
namespace {

using testing::TempDir;

struct MemoryFactory {
  std::unique_ptr<EventLog> Make() { return std::make_unique<MemoryEventLog>(); }
  void Tamper(EventLog& log, std::uint64_t seq, std::string rec) {
    static_cast<MemoryEventLog&>(log).TamperRecord(seq, std::move(rec));
  }
  void FailNext(EventLog& log) { static_cast<MemoryEventLog&>(log).FailNextAppends(1); }
};

struct RocksFactory {
  TempDir dir;
  std::unique_ptr<EventLog> Make() {
    auto log = storage::RocksDbEventLog::Open(dir.str(), {});
    EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
    return std::move(*log);
  }
  void Tamper(EventLog& log, std::uint64_t seq, std::string rec) {
    ASSERT_TRUE(static_cast<storage::RocksDbEventLog&>(log).TamperRecordForTesting(seq, rec));
  }
  void FailNext(EventLog& log) {
    static_cast<storage::RocksDbEventLog&>(log).FailNextAppendsForTesting(1);
  }
};

NewEvent Event(std::string type = "ProposalDrafted", std::string data = R"({"title":"x"})") {
  NewEvent e;
  e.type = std::move(type);
  e.occurred_at = *ParseRfc3339("2026-03-01T09:00:00Z");
  e.actor = {"umc-05", "umc_lead", "t1"};
  e.command = "create";
  e.command_id = "c1";
  e.data = std::move(data);
  return e;
}

AppendBatch One(std::string stream, std::optional<std::uint64_t> expected, int n = 1) {
  AppendBatch b;
  StreamAppend part{std::move(stream), expected, {}};
  for (int i = 0; i < n; ++i) part.events.push_back(Event());
  b.appends.push_back(std::move(part));
  return b;
}

template <typename F>
class EventLogContract : public ::testing::Test {
 protected:
  F factory_;
  std::unique_ptr<EventLog> log_ = factory_.Make();
};

using Implementations = ::testing::Types<MemoryFactory, RocksFactory>;
TYPED_TEST_SUITE(EventLogContract, Implementations);

TYPED_TEST(EventLogContract, NumbersEventsGaplessAcrossBatchesAndStreams) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 2)));
  ASSERT_TRUE(log.Append(One("p/b", 0, 1)));
  auto r = log.Append(One("p/a", 2, 3));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events.front().seq, 4u);
  EXPECT_EQ(r->events.front().version, 3u);
  EXPECT_EQ(r->events.back().seq, 6u);
  EXPECT_EQ(r->events.back().version, 5u);
  EXPECT_EQ(log.GetHead().seq, 6u);
  EXPECT_EQ(log.GetHead().hash, r->events.back().hash);
  EXPECT_EQ(*log.StreamVersion("p/a"), 5u);
  EXPECT_EQ(*log.StreamVersion("p/b"), 1u);
  EXPECT_EQ(*log.StreamVersion("p/c"), 0u);
}

TYPED_TEST(EventLogContract, StoresTheRecordAndChainsTheHashAsApiMdSays) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 3)));
  Hash prev = kZeroHash;
  auto all = log.ReadAll(1, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  for (const auto& e : *all) {
    // Recomputed here from the raw bytes, independent of the log's own code path.
    std::string joined(reinterpret_cast<const char*>(prev.data()), prev.size());
    joined += e.record;
    EXPECT_EQ(Sha256(joined), e.hash);
    EXPECT_EQ(DecodeRecord(e.record)->prev_hash, prev);
    EXPECT_EQ(DecodeRecord(e.record)->seq, e.seq);
    prev = e.hash;
  }
}

// The read a streamed export takes a range at a time sees what ForEach sees: every event of the
// range once, in order, with its hash, and nothing outside it; a visitor can stop it.
TYPED_TEST(EventLogContract, ReadsTheSameEventsPastTheCacheAsForEach) {
  auto& log = *this->log_;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log.Append(One("p/" + std::to_string(i), 0, 3)));
  using Seen = std::vector<std::tuple<std::uint64_t, Hash, std::string>>;
  auto read = [&](bool uncached, std::uint64_t from, std::uint64_t to, std::size_t stop_after) {
    Seen seen;
    auto visit = [&](std::uint64_t seq, const Hash& hash, std::string_view record) {
      seen.emplace_back(seq, hash, std::string(record));
      return seen.size() < stop_after;
    };
    auto ok = uncached ? log.ForEachUncached(from, to, visit) : log.ForEach(from, to, visit);
    EXPECT_TRUE(ok);
    return seen;
  };
  for (auto [from, to] : {std::pair<std::uint64_t, std::uint64_t>{1, 15}, {4, 9}, {0, 100},
                          {15, 15}, {9, 4}}) {
    EXPECT_EQ(read(true, from, to, 1000), read(false, from, to, 1000)) << from << ".." << to;
  }
  EXPECT_EQ(read(true, 4, 12, 1000).size(), 9u);
  EXPECT_EQ(read(true, 4, 12, 3).size(), 3u);
}

TYPED_TEST(EventLogContract, RefusesAStaleExpectedVersionAndWritesNothing) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 2)));
  const Head head = log.GetHead();
  AppendBatch batch = One("p/b", 0);
  StreamAppend stale{"p/a", 1, {Event()}};
  batch.appends.push_back(stale);
  batch.writes.push_back({Space::kViews, "i/p/b", "view"});
  auto r = log.Append(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kVersionConflict);
  EXPECT_EQ(r.error().details["current_version"], 2);
  EXPECT_EQ(log.GetHead(), head);
  EXPECT_EQ(*log.StreamVersion("p/b"), 0u) << "the whole batch is refused";
  EXPECT_FALSE(log.Get(Space::kViews, "i/p/b")->has_value());
}

TYPED_TEST(EventLogContract, WritesEventsAndKeyValuesOfOneBatchTogether) {
  auto& log = *this->log_;
  AppendBatch b = One("p/a", 0, 2);
  b.appends.push_back({"p/b", 0, {Event()}});
  b.appends.push_back({"p/a", 2, {Event()}});  // the same stream twice in one batch
  for (Space s :
       {Space::kViews, Space::kAnalytics, Space::kIdempotency, Space::kTokens, Space::kTimers}) {
    b.writes.push_back({s, "k1", "v1"});
    b.writes.push_back({s, "k2", "v2"});
  }
  ASSERT_TRUE(log.Append(b));
  EXPECT_EQ(*log.StreamVersion("p/a"), 3u);
  AppendBatch del;
  del.writes.push_back({Space::kTokens, "k1", std::nullopt});
  ASSERT_TRUE(log.Append(del));
  EXPECT_FALSE(log.Get(Space::kTokens, "k1")->has_value());
  EXPECT_EQ(**log.Get(Space::kTimers, "k2"), "v2");
  auto scan = log.Scan(Space::kViews, "k", "k2", 10);
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_EQ((*scan)[0].first, "k1");
  EXPECT_EQ(log.Scan(Space::kViews, "", "", 1)->size(), 1u);
}

TYPED_TEST(EventLogContract, ReadsAStreamFromAVersion) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 5)));
  ASSERT_TRUE(log.Append(One("p/ab", 0, 2)));  // a stream whose id extends the other's
  auto r = log.ReadStream("p/a", 3, 2);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(DecodeRecord((*r)[0].record)->version, 3u);
  EXPECT_EQ(DecodeRecord((*r)[1].record)->version, 4u);
  EXPECT_EQ(log.ReadStream("p/a", 1, 100)->size(), 5u);
  EXPECT_EQ(log.ReadStream("p/ab", 1, 100)->size(), 2u);
  EXPECT_TRUE(log.ReadStream("p/none", 1, 100)->empty());
}

TYPED_TEST(EventLogContract, IteratesForwardInRangesAndStopsWhenAsked) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 10)));
  std::vector<std::uint64_t> seen;
  ASSERT_TRUE(log.ForEach(3, 7, [&](std::uint64_t seq, const Hash&, std::string_view) {
    seen.push_back(seq);
    return seq < 5;
  }));
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{3, 4, 5}));
  auto page = log.ReadAll(9, 5);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[1].seq, 10u);
  EXPECT_TRUE(log.ReadAll(11, 5)->empty());
}

// The pipelined read hands every record, in order, to each of several visitors, each on its
// own thread, over a range long enough for chunks (and a short one, read inline); a visitor that
// stops stops the read for all of them.
TYPED_TEST(EventLogContract, PipelinedReadGivesEveryVisitorEveryRecordInOrder) {
  auto& log = *this->log_;
  // Ten chunks of the reader, which runs at most four chunks ahead of the slowest visitor: one
  // that stops in the second chunk leaves the others well short of the end.
  constexpr std::uint64_t kEvents = 40'000;
  for (std::uint64_t n = 0; n < kEvents; n += 1000) {
    ASSERT_TRUE(log.Append(One("p/" + std::to_string(n), 0, 1000)));
  }
  for (std::uint64_t to : {std::uint64_t{50}, kEvents}) {
    std::vector<std::vector<std::uint64_t>> seen(3);
    std::vector<std::string> records(3);
    std::vector<EventVisitor> visitors;
    for (auto i = 0u; i < seen.size(); ++i) {
      visitors.push_back([&, i](std::uint64_t seq, const Hash&, std::string_view record) {
        seen[i].push_back(seq);
        if (seq == to / 2) records[i] = record;
        return true;
      });
    }
    ASSERT_TRUE(ForEachPipelined(log, 1, to, visitors));
    std::vector<std::uint64_t> all(to);
    std::iota(all.begin(), all.end(), 1);
    for (auto i = 0u; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i], all) << "visitor " << i << " of " << to;
      EXPECT_EQ(records[i], (*log.ReadAll(to / 2, 1))[0].record);
    }
  }
  std::vector<std::uint64_t> first, second;
  std::vector<EventVisitor> visitors = {[&](std::uint64_t seq, const Hash&, std::string_view) {
                                          first.push_back(seq);
                                          return seq < 7000;
                                        },
                                        [&](std::uint64_t seq, const Hash&, std::string_view) {
                                          second.push_back(seq);
                                          return true;
                                        }};
  ASSERT_TRUE(ForEachPipelined(log, 1, kEvents, visitors));
  EXPECT_EQ(first.back(), 7000u);
  EXPECT_LT(second.size(), kEvents) << "the second visitor must have been stopped too";
}

TYPED_TEST(EventLogContract, VerifyNamesTheFirstTamperedSeq) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 6)));
  auto ok = Verify(log);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->checked, 6u);
  auto rec = log.ReadAll(4, 1)->front().record;
  rec.replace(rec.find("\"x\""), 3, "\"y\"");
  this->factory_.Tamper(log, 4, rec);
  auto bad = Verify(log);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->first_bad_seq, 4u);
  EXPECT_THAT(bad->reason, ::testing::HasSubstr("hash"));
  auto range = Verify(log, 1, 3);
  EXPECT_TRUE(range->ok) << "the events before it still verify";
}

TYPED_TEST(EventLogContract, RefusesBadInputAndWritesNothing) {
  auto& log = *this->log_;
  AppendBatch not_json = One("p/a", 0);
  not_json.appends[0].events[0].data = "{\"broken\":";
  EXPECT_EQ(log.Append(not_json).error().code, ErrorCode::kMalformedJson);
  AppendBatch empty_stream = One("", 0);
  EXPECT_EQ(log.Append(empty_stream).error().code, ErrorCode::kValidationFailed);
  AppendBatch huge = One("p/a", 0);
  huge.appends[0].events[0].data = "{\"x\":\"" + std::string(kMaxRecordBytes, 'a') + "\"}";
  EXPECT_EQ(log.Append(huge).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(log.GetHead().seq, 0u);
  EXPECT_EQ(*log.StreamVersion("p/a"), 0u);
}

TYPED_TEST(EventLogContract, AStorageFaultIsReturnedAndTheHeadDoesNotMove) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 2)));
  const Head head = log.GetHead();
  this->factory_.FailNext(log);
  auto r = log.Append(One("p/a", 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(log.GetHead(), head);
  EXPECT_EQ(*log.StreamVersion("p/a"), 2u);
  ASSERT_TRUE(log.Append(One("p/a", 2)));
  EXPECT_EQ(log.GetHead().seq, 3u);
}

// --- RocksDB only: what survives a close and a reopen --------------------------------------

// Collects what AppendAsync answers, in the order the answers come.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<AppendResult>> got;
  AppendCallback Next() {
    return [this](Result<AppendResult> r) {
      std::lock_guard lock(mu);
      got.push_back(std::move(r));
      cv.notify_all();
    };
  }
  void WaitFor(std::size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return got.size() >= n; });
  }
};

TYPED_TEST(EventLogContract, AsyncAppendsChainInCallOrderWithoutWaiting) {
  auto& log = *this->log_;
  Answers answers;
  // The second batch continues the stream the first one has not yet made durable.
  log.AppendAsync(One("p/a", 0, 2), answers.Next());
  log.AppendAsync(One("p/a", 2, 1), answers.Next());
  log.AppendAsync(One("p/b", 0, 1), answers.Next());
  answers.WaitFor(3);
  std::uint64_t seq = 0;
  for (auto& r : answers.got) {
    ASSERT_TRUE(r) << r.error().ToString();
    for (const auto& e : r->events) EXPECT_EQ(e.seq, ++seq);
  }
  EXPECT_EQ(answers.got[1]->events[0].version, 3u);
  EXPECT_EQ(log.GetHead(), answers.got[2]->head);
  EXPECT_EQ(*log.StreamVersion("p/a"), 3u);
  auto verified = Verify(log);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok);
}

TYPED_TEST(EventLogContract, RefusesABatchDecidedAfterAnotherSeqAndWritesNothing) {
  auto& log = *this->log_;
  ASSERT_TRUE(log.Append(One("p/a", 0, 2)));
  AppendBatch stale = One("p/b", 0);
  stale.after_seq = 1;
  auto r = log.Append(stale);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(log.GetHead().seq, 2u);
  EXPECT_EQ(*log.StreamVersion("p/b"), 0u);
  AppendBatch current = One("p/b", 0);
  current.after_seq = 2;
  EXPECT_TRUE(log.Append(current));
}

TEST(RocksDbEventLog, AFailedWriteFailsTheBatchesChainedOnItAndTheHeadGoesBack) {
  TempDir dir;
  auto log = storage::RocksDbEventLog::Open(dir.str(), {});
  ASSERT_TRUE(log);
  ASSERT_TRUE((*log)->Append(One("p/a", 0, 1)));
  const Head before = (*log)->GetHead();
  (*log)->FailNextAppendsForTesting(1);
  Answers answers;
  // Both are prepared at once, the second on top of the first; the first write fails, so the
  // second, whether it shared that write or was queued behind it, must fail too.
  (*log)->AppendAsync(One("p/a", 1, 1), answers.Next());
  (*log)->AppendAsync(One("p/a", 2, 1), answers.Next());
  answers.WaitFor(2);
  EXPECT_FALSE(answers.got[0]);
  EXPECT_FALSE(answers.got[1]);
  EXPECT_EQ((*log)->GetHead(), before);
  EXPECT_EQ(*(*log)->StreamVersion("p/a"), 1u);
  // The log goes on from the last durable event, and the stream from its durable version.
  auto r = (*log)->Append(One("p/a", 1, 1));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->events[0].seq, before.seq + 1);
  EXPECT_EQ(r->events[0].version, 2u);
  log->reset();
  auto reopened = storage::RocksDbEventLog::Open(dir.str(), {});
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->GetHead().seq, 2u);
  auto verified = Verify(**reopened);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok);
}

TEST(RocksDbEventLog, KeepsEverythingAcrossCloseAndReopen) {
  TempDir dir;
  Head head;
  {
    auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), {}));
    AppendBatch b = One("p/a", 0, 3);
    b.writes.push_back({Space::kViews, "i/p/a", "view"});
    b.writes.push_back({Space::kTimers, "t1", ""});
    ASSERT_TRUE(log->Append(b));
    head = log->GetHead();
  }
  auto reopened = storage::RocksDbEventLog::Open(dir.str(), {});
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  auto& log = **reopened;
  EXPECT_EQ(log.GetHead(), head);
  EXPECT_EQ(*log.StreamVersion("p/a"), 3u);
  EXPECT_EQ(**log.Get(Space::kViews, "i/p/a"), "view");
  EXPECT_TRUE(Verify(log)->ok);
  auto r = log.Append(One("p/a", 3));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events[0].seq, 4u);
  EXPECT_EQ(DecodeRecord(r->events[0].record)->prev_hash, head.hash);
}

// The stream index lives in memory until it is written to the store as one file, and an open
// indexes again what the store does not hold yet: whether an entry is in memory, in the file or
// in both, a stream reads whole and in order, from any version, before and after reopening, with
// the threshold crossed many times and with none of it written.
TEST(RocksDbEventLog, ReadsStreamsWholeWhereverTheirIndexEntriesAre) {
  TempDir dir;
  constexpr int kStreams = 7;
  std::map<std::string, std::vector<std::uint64_t>> seqs;  // stream -> seq of each version
  auto check = [&](const EventLog& log) {
    for (const auto& [stream, expected] : seqs) {
      EXPECT_EQ(*log.StreamVersion(stream), expected.size()) << stream;
      auto all = log.ReadStream(stream, 1, 1000);
      ASSERT_TRUE(all);
      std::vector<std::uint64_t> got;
      for (const auto& e : *all) got.push_back(e.seq);
      EXPECT_EQ(got, expected) << stream;
      auto part = log.ReadStream(stream, 5, 3);
      ASSERT_TRUE(part);
      ASSERT_EQ(part->size(), 3u) << stream;
      EXPECT_EQ((*part)[0].seq, expected[4]) << stream;
      EXPECT_EQ(DecodeRecord((*part)[2].record)->version, 7u) << stream;
    }
    // Streams with no events, one a prefix of stored ones: version 0 wherever the others are.
    EXPECT_EQ(*log.StreamVersion("p/s"), 0u);
    EXPECT_EQ(*log.StreamVersion("p/s10"), 0u);
  };
  auto append = [&](EventLog& log, int batches) {
    for (int b = 0; b < batches; ++b) {
      AppendBatch batch;
      for (int i = 0; i < kStreams; ++i) {
        const std::string stream = "p/s" + std::to_string((b + i) % kStreams);
        batch.appends.push_back({stream, std::nullopt, {Event(), Event()}});
      }
      auto r = log.Append(batch);
      ASSERT_TRUE(r) << r.error().ToString();
      for (const auto& e : r->events) seqs[e.stream].push_back(e.seq);
    }
  };
  storage::RocksDbEventLog::Options small;
  small.index_flush_events = 50;  // a file every few batches
  {
    auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), small));
    append(*log, 40);
    check(*log);
  }
  {
    auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), small));
    check(*log);
    append(*log, 3);
    check(*log);
  }
  // Never reaching the threshold: everything since the last file is indexed from the log.
  storage::RocksDbEventLog::Options never;
  never.index_flush_events = 1'000'000;
  {
    auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), never));
    append(*log, 5);
    check(*log);
  }
  storage::RocksDbEventLog::Options read_only;
  read_only.read_only = true;
  check(**storage::RocksDbEventLog::Open(dir.str(), read_only));
  auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), {}));
  check(*log);
  EXPECT_TRUE(Verify(*log)->ok);
}

TEST(RocksDbEventLog, ReadOnlyOpenSeesTheStoreAndRefusesWrites) {
  TempDir dir;
  auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), {}));
  ASSERT_TRUE(log->Append(One("p/a", 0, 2)));
  storage::RocksDbEventLog::Options ro;
  ro.read_only = true;
  auto reader = storage::RocksDbEventLog::Open(dir.str(), ro);
  ASSERT_TRUE(reader) << reader.error().ToString();
  EXPECT_EQ((*reader)->GetHead().seq, 2u);
  EXPECT_TRUE(Verify(**reader)->ok);
  EXPECT_EQ((*reader)->Append(One("p/b", 0)).error().code, ErrorCode::kUnavailable);
}

TEST(RocksDbEventLog, RefusesToOpenWhenTheHeadDoesNotMatchTheLastEvent) {
  TempDir dir;
  {
    auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), {}));
    ASSERT_TRUE(log->Append(One("p/a", 0, 3)));
    ASSERT_TRUE(log->DeleteEventForTesting(3));  // the last event vanishes behind its back
  }
  auto refused = storage::RocksDbEventLog::Open(dir.str(), {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kCorruption);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("does not match the last event"));
  // An auditor may still open it to look, but nothing is written on it.
  storage::RocksDbEventLog::Options look;
  look.allow_broken_chain = true;
  auto opened = storage::RocksDbEventLog::Open(dir.str(), look);
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)->GetHead().seq, 2u);
  EXPECT_EQ((*opened)->Append(One("p/a", 2)).error().code, ErrorCode::kCorruption);
}

TEST(RocksDbEventLog, VerifyFindsARecordAlteredOnDisk) {
  TempDir dir;
  {
    auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), {}));
    ASSERT_TRUE(log->Append(One("p/a", 0, 5)));
    std::string rec = log->ReadAll(2, 1)->front().record;
    rec.replace(rec.find("\"x\""), 3, "\"z\"");
    ASSERT_TRUE(log->TamperRecordForTesting(2, rec));
  }
  auto log = storage::RocksDbEventLog::Open(dir.str(), {});
  ASSERT_TRUE(log) << "the head still matches the last event";
  auto v = Verify(**log);
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_bad_seq, 2u);
}

TEST(RocksDbEventLog, CheckpointIsACompleteCopy) {
  TempDir dir, backup;
  std::filesystem::remove_all(backup.path());
  auto log = std::move(*storage::RocksDbEventLog::Open(dir.str(), {}));
  ASSERT_TRUE(log->Append(One("p/a", 0, 4)));
  ASSERT_TRUE(log->Checkpoint(backup.str()));
  auto copy = storage::RocksDbEventLog::Open(backup.str(), {});
  ASSERT_TRUE(copy);
  EXPECT_EQ((*copy)->GetHead(), log->GetHead());
  EXPECT_TRUE(Verify(**copy)->ok);
}

}  // namespace
}  // namespace expertflow::engine
