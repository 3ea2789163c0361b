// Import replays every event through the decisions the live path makes: a chain-valid export of
// a history the engine could never have written is refused whole, with the seq, and no stored
// state, however it got there, crashes a command.
#include "engine/runtime/import.h"

#include <sstream>

#include "tests/workflows/harness.h"

namespace expertflow::testing {
namespace {

using std::chrono::days;

const Principal kAssoc = P("assoc-01", "association_member");
const Principal kUmc = P("umc-01", "umc_lead");
const Principal kFumo = P("fumo-14.00.00", "fumo_expert");
const Principal kIrpo = P("irpo", "irpo_staff");

// One export line a record.
struct Line {
  std::uint64_t seq;
  engine::Hash hash;
  std::string record;
};

std::vector<Line> Export(const engine::EventLog& log) {
  std::vector<Line> out;
  EXPECT_TRUE(log.ForEach(1, log.GetHead().seq,
                          [&](std::uint64_t seq, const engine::Hash& h, std::string_view r) {
                            out.push_back({seq, h, std::string(r)});
                            return true;
                          }));
  return out;
}

std::string Text(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += "{\"seq\":" + std::to_string(l.seq) + ",\"hash\":\"" + engine::ToHex(l.hash) +
           "\",\"record\":";
    engine::AppendJsonString(l.record, out);
    out += "}\n";
  }
  return out;
}

// What an operator with the file (or the disk) can do: change one event, then recompute every
// hash after it, so the chain verifies again.
std::vector<Line> Rewrite(std::vector<Line> lines, std::uint64_t seq,
                          const std::function<void(engine::Event&)>& change) {
  engine::Hash prev = seq > 1 ? lines[seq - 2].hash : engine::kZeroHash;
  for (std::size_t i = seq - 1; i < lines.size(); ++i) {
    auto e = engine::DecodeRecord(lines[i].record);
    EXPECT_TRUE(e);
    if (i == seq - 1) change(*e);
    engine::NewEvent ne{e->type,    e->schema,     e->occurred_at,          e->actor,
                        e->command, e->command_id, engine::JsonText(e->data)};
    lines[i].record = engine::EncodeRecord(lines[i].seq, e->stream, e->version, ne, prev);
    lines[i].hash = engine::ChainHash(prev, lines[i].record);
    prev = lines[i].hash;
  }
  return lines;
}

std::uint64_t SeqOf(const std::vector<Line>& lines, std::string_view type, int nth = 0) {
  for (const auto& l : lines) {
    if (engine::DecodeRecord(l.record)->type == type && nth-- == 0) return l.seq;
  }
  ADD_FAILURE() << "no " << type;
  return 0;
}

class Import : public ::testing::Test {
 protected:
  void SetUp() override {
    // A proposal through expertise (a command of two events closes the round), one left in
    // expertise until its deadline fires, and an agreement signed by both.
    auto a = world_.Create("proposals", "industry_proposal", kAssoc,
                           {{"title", "t"}, {"topic", "standard_programme"}, {"summary", "s"}}, 1);
    ASSERT_ACCEPTED(a);
    const std::string id = a->instance.id;
    ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_to_umc", kAssoc));
    ASSERT_ACCEPTED(world_.Act("proposals", id, "send_to_expertise", kUmc,
                               {{"experts", {{"fumo", {"fumo-14.00.00"}}}}}));
    ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", kFumo, {{"verdict", "approve"}}));
    ASSERT_ACCEPTED(world_.Act("proposals", id, "submit_conclusion", kIrpo, {{"verdict", "approve"}}));
    auto b = world_.Create("proposals", "industry_proposal", kAssoc,
                           {{"title", "t2"}, {"topic", "standard_programme"}, {"summary", "s"}}, 1);
    ASSERT_ACCEPTED(b);
    ASSERT_ACCEPTED(world_.Act("proposals", b->instance.id, "submit_to_umc", kAssoc));
    ASSERT_ACCEPTED(world_.Act("proposals", b->instance.id, "send_to_expertise", kUmc,
                               {{"experts", {{"fumo", {"fumo-14.00.00"}}}}}));
    EXPECT_EQ(world_.Advance(days(31)), 1u);
    lines_ = Export(world_.log());
  }

  Result<engine::ImportReport> Load(const std::string& text, engine::ImportOptions options = {}) {
    std::istringstream in(text);
    return engine::ImportExport(in, into_, world_.definitions(), workflows::Builtin(), routing_,
                                options);
  }

  // Asserts that the file is refused at `seq` and says so.
  void ExpectRefusedAt(const std::vector<Line>& lines, std::uint64_t seq) {
    auto r = Load(Text(lines));
    ASSERT_FALSE(r) << "imported a history the engine could not have written";
    EXPECT_NE(r.error().message.find("seq " + std::to_string(seq) + ":"), std::string::npos)
        << r.error().message;
  }

  World world_;
  engine::RoutingTable routing_ = workflows::BuiltinRouting();
  engine::MemoryEventLog into_;
  std::vector<Line> lines_;
};

TEST_F(Import, ShouldLoadAnExportTheEngineWroteByteForByte) {
  auto r = Load(Text(lines_));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->events, lines_.size());
  EXPECT_EQ(into_.GetHead(), world_.log().GetHead());
  auto again = Export(into_);
  ASSERT_EQ(again.size(), lines_.size());
  for (std::size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].record, lines_[i].record);
}

TEST_F(Import, ShouldRefuseAJumpToAnotherStateByAnAuditor) {
  const std::uint64_t seq = SeqOf(lines_, "ProposalSubmittedToUmc");
  ExpectRefusedAt(Rewrite(lines_, seq,
                          [](engine::Event& e) {
                            e.actor = {"audit", "auditor", "x"};
                            e.data["to"] = "scaled";
                          }),
                  seq);
}

TEST_F(Import, ShouldRefuseAnAgreementEventOnAProposal) {
  const std::uint64_t seq = SeqOf(lines_, "ProposalSubmittedToUmc");
  ExpectRefusedAt(Rewrite(lines_, seq,
                          [](engine::Event& e) {
                            e.type = "AgreementSigned";
                            e.command = "sign";
                            e.data = {{"payload", json::object()}};
                          }),
                  seq);
}

TEST_F(Import, ShouldRefuseAnInjectedParticipant) {
  ExpectRefusedAt(Rewrite(lines_, 1,
                          [](engine::Event& e) {
                            e.data["created"]["participants"]["reader"] = "umc-09";
                          }),
                  1);
}

TEST_F(Import, ShouldRefuseAStateTheDefinitionLacks) {
  const std::uint64_t seq = SeqOf(lines_, "ProposalSubmittedToUmc");
  ExpectRefusedAt(Rewrite(lines_, seq, [](engine::Event& e) { e.data["to"] = "limbo"; }), seq);
}

TEST_F(Import, ShouldRefuseAWorkflowVersionThatDoesNotExist) {
  ExpectRefusedAt(
      Rewrite(lines_, 1, [](engine::Event& e) { e.data["created"]["workflow_version"] = 99; }), 1);
}

TEST_F(Import, ShouldRefuseAForgedConclusionAndATimerThatWasNotDue) {
  const std::uint64_t conclusion = SeqOf(lines_, "ConclusionSubmitted");
  ExpectRefusedAt(Rewrite(lines_, conclusion,
                          [](engine::Event& e) { e.data["vote"]["verdict"] = "reject"; }),
                  conclusion);
  const std::uint64_t fired = SeqOf(lines_, "ExpertiseOverdue");
  ExpectRefusedAt(Rewrite(lines_, fired,
                          [](engine::Event& e) {
                            e.occurred_at -= days(20);  // before the deadline was due
                          }),
                  fired);
}

TEST_F(Import, ShouldRefuseALineOverTheBoundWithoutReadingIt) {
  engine::ImportOptions options;
  options.max_line_bytes = 64;
  auto r = Load(Text(lines_), options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("longer than 64 bytes"), std::string::npos) << r.error().message;
  EXPECT_FALSE(Load(std::string(1 << 20, 'x'))) << "one long line without a newline";
}

TEST_F(Import, ShouldRefuseAFileThatEndsOnAnotherHeadThanTheAuditorKept) {
  engine::ImportOptions options;
  options.expect_head = lines_[lines_.size() - 2].hash;  // the file has one event more
  auto r = Load(Text(lines_), options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not on the expected"), std::string::npos);
  engine::MemoryEventLog other;
  options.expect_head = lines_.back().hash;
  std::istringstream in(Text(lines_));
  EXPECT_TRUE(engine::ImportExport(in, other, world_.definitions(), workflows::Builtin(), routing_,
                                   options));
}

}  // namespace
}  // namespace expertflow::testing
