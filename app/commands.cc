#include "app/commands.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "api/router.h"
#include "api/server.h"
#include "api/tokens.h"
#include "api/work_pool.h"
#include "app/demo.h"
#include "app/log_key.h"
#include "engine/projections/rebuild.h"
#include "engine/runtime/checkpoints.h"
#include "engine/runtime/import.h"
#include "engine/runtime/sequencer.h"
#include "storage/rocksdb_event_log.h"
#include "web/embedded.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow::app {
namespace {

namespace fs = std::filesystem;
using storage::RocksDbEventLog;

enum class Access { kWrite, kReadOnly };

// Opens the store in `data`. A store held by a running server cannot be opened for writing; say
// so plainly instead of passing on RocksDB's lock error.
std::unique_ptr<RocksDbEventLog> OpenStore(const std::string& data, Access access,
                                           bool allow_broken_chain = false) {
  RocksDbEventLog::Options options;
  options.create_if_missing = access == Access::kWrite;
  options.read_only = access == Access::kReadOnly;
  options.allow_broken_chain = allow_broken_chain || access == Access::kReadOnly;
  if (access == Access::kReadOnly && !fs::exists(fs::path(data) / "CURRENT")) {
    std::cerr << "expertflow: no store in " << data << "\n";
    return nullptr;
  }
  auto log = RocksDbEventLog::Open(data, options);
  if (!log) {
    const std::string& m = log.error().message;
    if (m.find("lock") != std::string::npos || m.find("LOCK") != std::string::npos) {
      std::cerr << "expertflow: the store in " << data
                << " is held by a running server; stop it first, or use the HTTP API\n";
    } else {
      std::cerr << "expertflow: cannot open the store in " << data << ": " << log.error().ToString()
                << "\n";
    }
    return nullptr;
  }
  return std::move(*log);
}

engine::RoutingTable Routing() { return workflows::BuiltinRouting(); }

std::optional<std::pair<std::string, std::uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  unsigned port = 0;
  auto [p, ec] = std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port);
  if (ec != std::errc() || p != listen.data() + listen.size() || port > 65535) return std::nullopt;
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

// The first start (any start without an active admin token) writes an admin token to a file only
// the owner can read, and says where.
bool WriteAdminToken(api::TokenStore& tokens, const std::string& data, engine::Timestamp now) {
  auto has_admin = tokens.HasActiveAdmin();
  if (!has_admin) {
    spdlog::error("cannot read tokens: {}", has_admin.error().ToString());
    return false;
  }
  if (*has_admin) return true;
  auto issued = tokens.Issue("admin", "admin", "first admin", now);
  if (!issued) {
    spdlog::error("cannot issue the admin token: {}", issued.error().ToString());
    return false;
  }
  const fs::path path = fs::path(data) / "admin.token";
  // Created with mode 0600 from the start: the token is never readable by others, not even briefly.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    spdlog::error("cannot write {}", path.string());
    return false;
  }
  ::fchmod(fd, S_IRUSR | S_IWUSR);
  const std::string line = issued->token + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written) return false;
  spdlog::info("admin token written to {} (mode 0600)", path.string());
  return true;
}

}  // namespace

int Serve(const ServeOptions& o) {
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  auto listen = ParseListen(o.listen);
  if (!listen) {
    std::cerr << "expertflow: --listen must be HOST:PORT, e.g. 127.0.0.1:8080\n";
    return 2;
  }
  engine::SequencerOptions sequencer_options;
  const auto retention = engine::ParseIsoDuration(o.idempotency_retention);
  if (!retention || *retention < std::chrono::minutes(1)) {
    std::cerr << "expertflow: --idempotency-retention must be an ISO 8601 duration of at least a "
                 "minute, e.g. PT24H or P7D\n";
    return 2;
  }
  sequencer_options.idempotency_retention = *retention;
  std::error_code ec;
  fs::create_directories(o.data, ec);
  // A store created before the umask of main() may be open to others: closing its folder closes
  // every file in it.
  fs::permissions(o.data, fs::perms::owner_all, fs::perm_options::replace, ec);
  auto log = OpenStore(o.data, Access::kWrite, o.allow_broken_chain);
  if (!log) return 1;

  // A broken chain means the record was altered: refuse to write on it unless told otherwise.
  spdlog::info("verifying the hash chain of {} events", log->GetHead().seq);
  auto verified = engine::Verify(*log);
  if (!verified) {
    spdlog::error("verification failed: {}", verified.error().ToString());
    return 1;
  }
  if (!verified->ok) {
    spdlog::error("the hash chain is broken at seq {}: {}", verified->first_bad_seq,
                  verified->reason);
    if (!o.allow_broken_chain) {
      spdlog::error(
          "refusing to serve; run `expertflow verify`, or start with --allow-broken-chain");
      return 1;
    }
  }

  auto log_key = LoadOrCreateLogKey(o.data, o.origin);
  if (!log_key) {
    spdlog::error("{}", log_key.error().message);
    return 1;
  }
  std::vector<engine::note::Verifier> witnesses;
  for (const std::string& w : o.witnesses) {
    auto v = engine::note::ParseVerifierKey(w);
    if (!v || v->alg != engine::note::kAlgCosignatureV1) {
      std::cerr << "expertflow: --witness must be a witness's verifier key (cosignature/v1)\n";
      return 2;
    }
    witnesses.push_back(*v);
  }
  const auto checkpoint_interval = engine::ParseIsoDuration(o.checkpoint_interval);
  if (!checkpoint_interval || *checkpoint_interval < std::chrono::seconds(1) ||
      o.checkpoint_events == 0) {
    std::cerr << "expertflow: --checkpoint-interval must be an ISO 8601 duration of a second or "
                 "more (PT10S) and --checkpoint-events at least 1\n";
    return 2;
  }

  auto definitions = workflows::BuiltinDefinitions();
  if (!definitions) {
    spdlog::error("{}", definitions.error().message);
    return 1;
  }
  const auto routing = Routing();
  const auto& directory = workflows::Builtin();
  engine::SystemClock system_clock;
  std::optional<engine::ManualClock> manual_clock;
  engine::Timestamp demo_end{};
  if (o.clock == "manual" || o.demo) {
    engine::Timestamp start = system_clock.Now();
    if (!o.clock_start.empty()) {
      auto t = engine::ParseRfc3339(o.clock_start);
      if (!t) {
        std::cerr << "expertflow: --clock-start must be an RFC 3339 time\n";
        return 2;
      }
      start = *t;
    }
    // The demo lives through the year that ends now, from the first protocol's day on.
    demo_end = o.clock_start.empty() ? start : start + std::chrono::days(364);
    if (o.demo && o.clock_start.empty()) start = DemoStart(demo_end);
    manual_clock.emplace(start);
  }
  engine::RandomIdGenerator ids;
  api::TokenStore tokens(*log, directory);
  if (!WriteAdminToken(tokens, o.data, system_clock.Now())) return 1;

  if (o.demo) {
    if (log->GetHead().seq > 0) {
      spdlog::warn("--demo ignored: the store is not empty");
    } else {
      engine::Sequencer demo_sequencer(*log, *definitions, directory, routing, *manual_clock, ids);
      if (auto r = demo_sequencer.Start(); !r) {
        spdlog::error("{}", r.error().ToString());
        return 1;
      }
      spdlog::info("demo: driving a year of traffic and seeds 002 and 003");
      DemoSummary summary = RunDemo(demo_sequencer, *manual_clock, demo_end);
      demo_sequencer.Stop();
      spdlog::info("demo: {} commands ({} refused), {} instances, {} events", summary.commands,
                   summary.refused, summary.instances, log->GetHead().seq);
      const auto& d = summary.discipline;
      auto n = [&d](const char* key) { return d.value(key, std::uint64_t{0}); };
      spdlog::info(
          "demo: {} protocols, {} assignments: {} done on time, {} late, {} open, {} overdue, "
          "{} awaiting review, {} of {} reporting periods missed",
          summary.protocols, summary.assignments, n("done_on_time"), n("done_late"), n("open"),
          n("overdue"), n("awaiting_review"), n("periods_missed"), n("periods_due"));
      const engine::Timestamp now = manual_clock->Now();
      std::cout << "Demo tokens (keep them; they are shown once):\n";
      for (auto [org, role, who] :
           {std::tuple{"umc-01", "umc_lead", "UMC lead"}, std::tuple{"audit", "auditor", "auditor"},
            std::tuple{"irpo", "irpo_staff", "IRPO analyst"}}) {
        auto t = tokens.Issue(org, role, std::string("demo ") + who, now);
        if (t) std::cout << "  " << who << " (" << org << ", " << role << "): " << t->token << "\n";
      }
      std::cout.flush();
    }
  }

  engine::Clock& clock = o.clock == "manual" ? static_cast<engine::Clock&>(*manual_clock)
                                             : static_cast<engine::Clock&>(system_clock);
  engine::Sequencer sequencer(*log, *definitions, directory, routing, clock, ids,
                              sequencer_options);
  if (auto r = sequencer.Start(); !r) {
    spdlog::error("cannot start: {}", r.error().ToString());
    return 1;
  }
  // The log's signed checkpoints: the latest must still be the tree's root at its size, or the
  // history it signed was changed under the server (which then signs nothing over it).
  engine::Checkpoints checkpoints(*log, *log_key, witnesses, clock);
  spdlog::info("log origin \"{}\", verifier key {}", checkpoints.Origin(),
               checkpoints.VerifierKey());
  if (auto latest = checkpoints.Latest(); !latest) {
    spdlog::error("{}", latest.error().ToString());
    return 1;
  } else if (*latest) {
    auto root = log->Tree()->Root((*latest)->size);
    if (!root || *root != (*latest)->root) {
      spdlog::error("the log does not match checkpoint {} it signed: its history was changed",
                    (*latest)->size);
      if (!o.allow_broken_chain) return 1;
    }
  }
  // Made off the write path: every checkpoint_events events, or every interval when the tree
  // grew less than that.
  std::mutex checkpoint_mu;
  std::condition_variable checkpoint_cv;
  bool checkpoint_stop = false;
  std::thread checkpointer([&] {
    auto last_time = std::chrono::steady_clock::time_point{};
    std::uint64_t last_size = 0;
    bool reported = false;
    std::unique_lock lock(checkpoint_mu);
    while (!checkpoint_cv.wait_for(lock, std::chrono::milliseconds(200),
                                   [&] { return checkpoint_stop; })) {
      const std::uint64_t size = log->Tree()->Size();
      const auto now = std::chrono::steady_clock::now();
      if (size == last_size ||
          (size - last_size < o.checkpoint_events && now - last_time < *checkpoint_interval))
        continue;
      lock.unlock();
      auto made = checkpoints.Make();
      lock.lock();
      if (!made) {
        if (!reported) spdlog::error("no checkpoint made: {}", made.error().ToString());
        reported = true;
        continue;
      }
      reported = false;
      last_size = size;
      last_time = now;
    }
  });
  struct JoinCheckpointer {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& stop;
    std::thread& thread;
    ~JoinCheckpointer() {
      {
        std::lock_guard lock(mu);
        stop = true;
      }
      cv.notify_all();
      thread.join();
    }
  } join_checkpointer{checkpoint_mu, checkpoint_cv, checkpoint_stop, checkpointer};

  api::Metrics metrics;
  api::RouterOptions router_options;
  router_options.checkpoints = &checkpoints;
  if (o.clock == "manual") router_options.manual_clock = &*manual_clock;
  router_options.static_files = web::EmbeddedFiles();
  // Verify, export and statistics read much of the log: two threads of their own, not the I/O
  // threads, and at most eight more waiting. (Twenty concurrent verifies of one long history
  // once started twenty threads and held 1.7 GB.)
  api::WorkPool heavy(2, 8);
  router_options.offload = [&heavy](std::function<void()> work) {
    return heavy.TrySubmit(std::move(work));
  };
  // Tokens are issued for the organisations of the registry as the log has it now (issue 15):
  // a college registered over the API gets its people's tokens, a retired one none.
  api::TokenStore live_tokens(*log, sequencer.directory());
  api::Router router(sequencer, *log, live_tokens, metrics, router_options);
  api::ServerOptions server_options;
  server_options.host = listen->first;
  server_options.port = listen->second;
  server_options.threads =
      o.threads > 0 ? o.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  api::Server server(router, metrics, server_options);
  auto port = server.Start();
  if (!port) {
    spdlog::error("{}", port.error().message);
    return 1;
  }
  // Printed whatever the log level: scripts and tests wait for this line to learn the port.
  std::cout << "expertflow listening on " << listen->first << ":" << *port << " ("
            << server_options.threads << " I/O threads, " << o.clock << " clock, store " << o.data
            << ")" << std::endl;
  server.Run(/*handle_signals=*/true);
  heavy.Shutdown();  // its work reads through the router and the log
  sequencer.Stop();
  spdlog::info("stopped; {} events in the log", log->GetHead().seq);
  return 0;
}

int KeyShow(const std::string& data) {
  auto key = LoadLogKey(data);
  if (!key) {
    std::cerr << "expertflow: " << key.error().message << " (a first `serve` makes it)\n";
    return 1;
  }
  std::cout << engine::note::VerifierKey(*key) << "\n";
  return 0;
}

int TokenIssue(const std::string& data, const std::string& org, const std::string& role,
               const std::string& name) {
  auto log = OpenStore(data, Access::kWrite);
  if (!log) return 1;
  // The compiled-in registry: an organisation registered over the API gets its tokens over the
  // API (POST /api/v1/tokens), which reads the registry as the log has it. Reading it here would
  // mean starting the writer, which fires due deadlines: a token command must not append events.
  api::TokenStore tokens(*log, workflows::Builtin());
  auto issued = tokens.Issue(org, role, name, engine::SystemClock().Now());
  if (!issued) {
    std::cerr << "expertflow: " << issued.error().message << "\n";
    return 1;
  }
  std::cout << issued->token << "\n";
  return 0;
}

int TokenList(const std::string& data) {
  auto log = OpenStore(data, Access::kReadOnly);
  if (!log) return 1;
  api::TokenStore tokens(*log, workflows::Builtin());
  auto list = tokens.List();
  if (!list) {
    std::cerr << "expertflow: " << list.error().ToString() << "\n";
    return 1;
  }
  for (const auto& t : *list) {
    std::cout << t.id << "\t" << t.org << "\t" << t.role << "\t" << t.created_at << "\t"
              << (t.revoked ? "revoked" : "active") << "\t" << t.name << "\n";
  }
  return 0;
}

int TokenRevoke(const std::string& data, const std::string& id) {
  auto log = OpenStore(data, Access::kWrite);
  if (!log) return 1;
  api::TokenStore tokens(*log, workflows::Builtin());
  if (auto r = tokens.Revoke(id); !r) {
    std::cerr << "expertflow: " << r.error().message << "\n";
    return 1;
  }
  std::cout << "revoked " << id << "\n";
  return 0;
}

int Verify(const std::string& data) {
  auto log = OpenStore(data, Access::kReadOnly);
  if (!log) return 1;
  auto v = engine::Verify(*log);
  if (!v) {
    std::cerr << "expertflow: " << v.error().ToString() << "\n";
    return 1;
  }
  if (!v->ok) {
    std::cout << "BROKEN at seq " << v->first_bad_seq << ": " << v->reason << " (" << v->checked
              << " events verified before it)\n";
    return 3;
  }
  std::cout << "ok: " << v->checked << " events, head seq " << v->head.seq << ", head hash "
            << engine::ToHex(v->head.hash) << "\n";
  // The Merkle tree and the signed checkpoints, recomputed from the records (docs/audit.md).
  std::optional<engine::note::Verifier> key;
  if (auto k = LoadLogKey(data)) key = engine::note::VerifierOf(*k);
  auto proofs = engine::VerifyProofs(*log, key);
  if (!proofs) {
    std::cerr << "expertflow: " << proofs.error().ToString() << "\n";
    return 1;
  }
  if (!proofs->ok) {
    std::cout << "BROKEN tree: " << proofs->reason << "\n";
    return 3;
  }
  std::cout << "ok: the Merkle tree of " << proofs->tree_size << " events and "
            << proofs->checkpoints << " signed checkpoints"
            << (key ? " (signatures checked with the key in " + std::string(kLogKeyFile) + ")"
                    : " (no signing key in the data folder: signatures not checked)")
            << "\n";
  return 0;
}

int Export(const std::string& data, std::uint64_t after) {
  auto log = OpenStore(data, Access::kReadOnly);
  if (!log) return 1;
  std::string line;
  auto r = log->ForEach(after + 1, log->GetHead().seq,
                        [&](std::uint64_t seq, const engine::Hash& hash, std::string_view record) {
                          line.clear();
                          line += "{\"seq\":" + std::to_string(seq) + ",\"hash\":\"";
                          engine::AppendHex(hash, line);
                          line += "\",\"record\":";
                          engine::AppendJsonString(record, line);
                          line += "}\n";
                          std::cout << line;
                          return static_cast<bool>(std::cout);
                        });
  std::cout.flush();
  if (!r) {
    std::cerr << "expertflow: " << r.error().ToString() << "\n";
    return 1;
  }
  return std::cout ? 0 : 1;
}

int Import(const std::string& data, const std::string& file, const std::string& expect_head) {
  engine::ImportOptions options;
  if (!expect_head.empty()) {
    options.expect_head = engine::HashFromHex(expect_head);
    if (!options.expect_head) {
      std::cerr << "expertflow: --expect-head must be 64 hex digits (a head hash)\n";
      return 2;
    }
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "expertflow: cannot read " << file << "\n";
    return 1;
  }
  std::error_code ec;
  if (fs::exists(data, ec) && !fs::is_empty(data, ec)) {
    std::cerr << "expertflow: " << data << " is not empty; import goes into an empty store only\n";
    return 1;
  }
  auto definitions = workflows::BuiltinDefinitions();
  if (!definitions) {
    std::cerr << "expertflow: " << definitions.error().message << "\n";
    return 1;
  }
  // The store is built beside its place and moved there only when the whole file imported: a
  // refused file, or a crash half-way, leaves no store that verifies what it only half holds.
  const fs::path staging = fs::path(data).lexically_normal().string() + ".importing";
  fs::remove_all(staging, ec);
  auto log = OpenStore(staging.string(), Access::kWrite);
  if (!log) return 1;
  const auto routing = Routing();
  auto report =
      engine::ImportExport(in, *log, *definitions, workflows::Builtin(), routing, options);
  log.reset();
  if (!report) {
    fs::remove_all(staging, ec);
    std::cerr << "expertflow: " << file << ": " << report.error().message
              << "; nothing was imported\n";
    return 3;
  }
  fs::remove(data, ec);  // an empty folder, if there was one
  fs::rename(staging, data, ec);
  if (ec) {
    std::cerr << "expertflow: cannot move the imported store to " << data << ": " << ec.message()
              << " (it is complete in " << staging.string() << ")\n";
    return 1;
  }
  std::cout << "imported " << report->events << " events; head hash " << engine::ToHex(report->head)
            << "\nviews are rebuilt from the log at the next start\n";
  return 0;
}

int Rebuild(const std::string& data, const std::string& projection) {
  auto log = OpenStore(data, Access::kWrite);
  if (!log) return 1;
  auto definitions = workflows::BuiltinDefinitions();
  if (!definitions) {
    std::cerr << "expertflow: " << definitions.error().message << "\n";
    return 1;
  }
  // The server loads what is written here at its next start and catches up from its checkpoint.
  engine::StageStatistics stages(*definitions, workflows::Builtin());
  auto fail = [](const engine::Error& e) {
    std::cerr << "expertflow: " << e.ToString() << "\n";
    return 1;
  };
  if (projection == "stage_statistics") {
    if (auto r = stages.CatchUp(*log); !r) return fail(r.error());
    if (auto r = stages.SaveReplacing(*log); !r) return fail(r.error());
  } else {
    auto report = engine::RebuildInstanceViews(*log, projection == "all" ? &stages : nullptr);
    if (!report) return fail(report.error());
    std::cout << "instance_views: replayed " << report->events << " events into "
              << report->instances << " instances; " << report->views_changed
              << " views differed from the rebuilt ones, " << report->views_removed
              << " had no instance\n";
  }
  if (projection != "instance_views") {
    std::cout << "stage_statistics: replayed " << stages.checkpoint()
              << " events; saved in place of the stored state\n";
  }
  return 0;
}

int Backup(const std::string& data, const std::string& to) {
  auto log = OpenStore(data, Access::kWrite);
  if (!log) return 1;
  if (auto r = log->Checkpoint(to); !r) {
    std::cerr << "expertflow: " << r.error().ToString() << "\n";
    return 1;
  }
  std::cout << "backup of " << log->GetHead().seq << " events written to " << to << "\n";
  return 0;
}

}  // namespace expertflow::app
