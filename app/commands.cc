#include "app/commands.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "api/router.h"
#include "api/server.h"
#include "api/tokens.h"
#include "api/webhooks.h"
#include "api/work_pool.h"
#include "app/demo.h"
#include "app/log_key.h"
#include "app/proof_client.h"
#include "app/webhook_key.h"
#include "engine/projections/attachment_refs.h"
#include "engine/projections/rebuild.h"
#include "engine/runtime/checkpoints.h"
#include "engine/runtime/import.h"
#include "engine/runtime/sequencer.h"
#include "storage/file_attachments.h"
#include "storage/rocksdb_event_log.h"
#include "web/embedded.h"
#include "workflows/definitions.h"
#include "workflows/registry.h"
#include "workflows/routing.h"

namespace expertflow::app {
namespace {

namespace fs = std::filesystem;
using storage::RocksDbEventLog;

// The attachments' folder in the data folder (storage/file_attachments.h).
constexpr const char* kAttachmentsDir = "attachments";

enum class Access { kWrite, kReadOnly };

// Opens the store in `data`. A store held by a running server cannot be opened for writing; say
// so plainly instead of passing on RocksDB's lock error.
std::unique_ptr<RocksDbEventLog> OpenStore(const std::string& data, Access access,
                                           bool allow_broken_chain = false,
                                           std::string_view held_hint = "") {
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
                << " is held by a running server; stop it first, or use the HTTP API" << held_hint
                << "\n";
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

namespace {

// Where POST /api/v1/admin/backup writes: --backup-dir, else a folder beside the data folder
// named after it ("data" -> "data-backups"), so that a backup is not inside what it copies.
fs::path BackupDir(const ServeOptions& o) {
  if (!o.backup_dir.empty()) return fs::path(o.backup_dir);
  fs::path data = fs::absolute(o.data).lexically_normal();
  if (data.filename().empty()) data = data.parent_path();
  return data.parent_path() / (data.filename().string() + "-backups");
}

// An online backup (issue 20): a RocksDB checkpoint of the open store, which is what a crash at
// that moment would leave (every event acknowledged before it, the views and the tree as they
// were), plus the signing key. Named "<UTC time>-<head seq>[-label]"; its head is read back
// from the copy, so the answer says exactly what it holds. One at a time.
engine::Result<nlohmann::json> OnlineBackup(RocksDbEventLog& log, const std::string& data,
                                            const fs::path& dir, const std::string& label,
                                            engine::Timestamp now) {
  static std::mutex one_at_a_time;
  std::lock_guard lock(one_at_a_time);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return engine::Fail(engine::ErrorCode::kUnavailable,
                        "cannot create the backup folder: " + ec.message());
  }
  std::string stamp = engine::FormatRfc3339(now);
  std::erase_if(stamp, [](char c) { return c == '-' || c == ':'; });
  if (auto dot = stamp.find('.'); dot != std::string::npos)
    stamp.erase(dot, stamp.size() - dot - 1);
  std::string name = stamp + "-" + std::to_string(log.GetHead().seq);
  if (!label.empty()) name += "-" + label;
  const fs::path to = dir / name;
  if (fs::exists(to, ec)) {
    return engine::Fail(engine::ErrorCode::kVersionConflict,
                        "a backup named " + name + " is there already; try again in a second");
  }
  if (auto made = log.Checkpoint(to.string()); !made) return std::unexpected(made.error());
  const auto fail = [&](engine::Error e) -> engine::Result<nlohmann::json> {
    fs::remove_all(to, ec);
    return std::unexpected(std::move(e));
  };
  // The keys go with the store: the log's signing key, and the webhooks' (their secrets).
  for (const char* key : {kLogKeyFile, kWebhookKeyFile}) {
    if (!fs::exists(fs::path(data) / key, ec)) continue;
    fs::copy_file(fs::path(data) / key, to / key, ec);
    if (ec) {
      return fail(engine::Error{engine::ErrorCode::kUnavailable,
                                std::string("cannot copy ") + key + ": " + ec.message()});
    }
  }
  // The attachments the events reference go with them (after the checkpoint: every file an
  // event in the copy references was stored before that event was written).
  if (auto copied =
          storage::CopyAttachments(fs::path(data) / kAttachmentsDir, to / kAttachmentsDir);
      !copied) {
    return fail(copied.error());
  }
  RocksDbEventLog::Options read;
  read.create_if_missing = false;
  read.read_only = true;
  read.allow_broken_chain = true;
  read.keep_tree = false;
  auto copy = RocksDbEventLog::Open(to.string(), read);
  if (!copy) return fail(copy.error());
  const engine::Head head = (*copy)->GetHead();
  spdlog::info("backup of {} events written to {}", head.seq, to.string());
  return nlohmann::json{{"name", name},
                        {"path", to.string()},
                        {"head_seq", head.seq},
                        {"head_hash", engine::ToHex(head.hash)},
                        {"created_at", engine::FormatRfc3339(now)}};
}

}  // namespace

// Whether HOST:PORT can be listened on now: tried before anything is created, so that a server
// that cannot listen leaves no data folder, key or token behind. (Port 0 always can.)
std::optional<std::string> CannotListen(const std::string& host, std::uint16_t port) {
  if (port == 0) return std::nullopt;
  boost::asio::io_context io;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return "--listen: " + host + " is not an IP address";
  boost::asio::ip::tcp::acceptor acceptor(io);
  const boost::asio::ip::tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) return "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
  return std::nullopt;
}

int Serve(const ServeOptions& o) {
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  auto listen = ParseListen(o.listen);
  if (!listen) {
    std::cerr << "expertflow: --listen must be HOST:PORT, e.g. 127.0.0.1:8080\n";
    return 2;
  }
  if (o.threads < 0) {
    std::cerr << "expertflow: --threads must be 0 (one per core) or more\n";
    return 2;
  }
  if (auto busy = CannotListen(listen->first, listen->second)) {
    std::cerr << "expertflow: " << *busy << "; nothing was created\n";
    return 1;
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

  const auto webhook_timeout = engine::ParseIsoDuration(o.webhook_timeout);
  const auto webhook_backoff = engine::ParseIsoDuration(o.webhook_backoff);
  const auto webhook_backoff_max = engine::ParseIsoDuration(o.webhook_backoff_max);
  if (!webhook_timeout || *webhook_timeout < std::chrono::seconds(1) || !webhook_backoff ||
      *webhook_backoff < std::chrono::seconds(1) || !webhook_backoff_max ||
      *webhook_backoff_max < *webhook_backoff) {
    std::cerr << "expertflow: --webhook-timeout and --webhook-backoff must be ISO 8601 durations "
                 "of a second or more (PT10S), --webhook-backoff-max no shorter than the backoff\n";
    return 2;
  }
  const auto attachment_grace = engine::ParseIsoDuration(o.attachment_grace);
  if (!attachment_grace || *attachment_grace < std::chrono::minutes(1)) {
    std::cerr << "expertflow: --attachment-grace must be an ISO 8601 duration of a minute or "
                 "more (PT24H)\n";
    return 2;
  }
  auto webhook_key = LoadOrCreateWebhookKey(o.data);
  if (!webhook_key) {
    spdlog::error("{}", webhook_key.error().message);
    return 1;
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

  // What the demo's sequencer wrote, counted in the server's /metrics as well.
  engine::SequencerStats demo_stats;
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
      demo_stats = demo_sequencer.Stats();
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
  sequencer.CarryStats(demo_stats);
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
  // Attachments (docs/attachments.md): files beside the store, named by their SHA-256; what a
  // crash left half-written is cleared here.
  auto attachments = storage::FileAttachments::Open(fs::path(o.data) / kAttachmentsDir, true);
  if (!attachments) {
    spdlog::error("{}", attachments.error().ToString());
    return 1;
  }
  // Files no event references are removed once older than the grace period: looked for a
  // minute after the start and every hour, on the checkpointer's thread (off the write path).
  engine::AttachmentRefs sweep_refs;
  auto next_sweep = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  const auto sweep = [&] {
    if (auto r = sweep_refs.CatchUp(*log); !r) {
      spdlog::error("attachments not swept: {}", r.error().ToString());
      return;
    }
    auto removed =
        engine::SweepAttachments(sweep_refs, **attachments, clock.Now(), *attachment_grace);
    if (!removed)
      spdlog::error("attachments not swept: {}", removed.error().ToString());
    else if (*removed > 0)
      spdlog::info("{} attachments no event references removed", *removed);
  };
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
      if (now >= next_sweep) {
        next_sweep = now + std::chrono::hours(1);
        lock.unlock();
        sweep();
        lock.lock();
      }
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
    // Stopping: a last checkpoint of everything written, so that a restart or a backup begins
    // with the whole log signed. The tree takes the last events a moment after they are
    // answered.
    lock.unlock();
    log->AwaitTree();
    if (auto made = checkpoints.Make(); !made)
      spdlog::error("no last checkpoint made: {}", made.error().ToString());
    else if (*made)
      spdlog::info("checkpoint of {} events signed on stopping", (*made)->size);
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

  // Webhooks follow the log on threads of their own: a slow or dead receiver holds up nothing
  // but its own subscription.
  api::WebhookOptions webhook_options;
  webhook_options.server_key = *webhook_key;
  webhook_options.answer_timeout = *webhook_timeout;
  webhook_options.connect_timeout =
      std::min<std::chrono::milliseconds>(*webhook_timeout, std::chrono::seconds(5));
  webhook_options.backoff_base = *webhook_backoff;
  webhook_options.backoff_cap = *webhook_backoff_max;
  api::Webhooks webhooks(*log, sequencer, webhook_options);
  if (auto r = webhooks.Start(); !r) {
    spdlog::error("webhooks cannot start: {}", r.error().ToString());
    return 1;
  }

  api::Metrics metrics;
  api::RouterOptions router_options;
  router_options.checkpoints = &checkpoints;
  router_options.webhooks = &webhooks;
  if (o.clock == "manual") router_options.manual_clock = &*manual_clock;
  router_options.static_files = web::EmbeddedFiles();
  const fs::path backup_dir = BackupDir(o);
  router_options.attachments = attachments->get();
  router_options.max_attachment_bytes = o.attachment_limit_mib << 20;
  router_options.backup = [&log, &o, &clock, backup_dir](const std::string& label) {
    return OnlineBackup(*log, o.data, backup_dir, label, clock.Now());
  };
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
  webhooks.Stop();   // what is not delivered stays in the outboxes for the next start
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
  // Every file an event references, re-hashed (docs/attachments.md).
  auto files = storage::FileAttachments::Open(fs::path(data) / kAttachmentsDir, false);
  engine::AttachmentRefs refs;
  if (auto r = refs.CatchUp(*log); !files || !r) {
    std::cerr << "expertflow: " << (files ? r.error() : files.error()).ToString() << "\n";
    return 1;
  }
  const engine::AttachmentCheck check = engine::CheckAttachments(refs, **files);
  for (const auto& p : check.problems) {
    std::cout << "BROKEN attachment " << p.sha256 << " (referenced since seq " << p.first_seq
              << "): " << (p.what == "missing" ? "its file is missing" : "its file was altered")
              << "\n";
  }
  if (!check.ok()) return 3;
  std::cout << "ok: " << check.checked << " attachments the events reference, each re-hashed\n";
  return 0;
}

namespace {

// The hashes of this server's files the events after `after` reference (docs/attachments.md).
engine::Result<std::set<std::string>> ReferencedFiles(const engine::EventLog& log,
                                                      std::uint64_t after) {
  std::set<std::string> out;
  engine::RecordReader reader;
  engine::Result<void> failure;
  auto r = log.ForEach(after + 1, log.GetHead().seq,
                       [&](std::uint64_t, const engine::Hash&, std::string_view record) {
                         auto e = reader.Read(record);
                         if (!e) {
                           failure = std::unexpected(e.error());
                           return false;
                         }
                         for (auto& h : engine::AttachmentRefs::HashesIn(e->data))
                           out.insert(std::move(h));
                         return true;
                       });
  if (!r) return std::unexpected(r.error());
  if (!failure) return std::unexpected(failure.error());
  return out;
}

}  // namespace

int Export(const std::string& data, std::uint64_t after, const std::string& checkpoints_file,
           const std::string& attachments_dir) {
  auto log = OpenStore(data, Access::kReadOnly);
  if (!log) return 1;
  if (!attachments_dir.empty()) {
    // The files the exported events reference, in the store's own layout: what an import
    // takes beside the events, and what an auditor re-hashes against them.
    auto wanted = ReferencedFiles(*log, after);
    if (!wanted) {
      std::cerr << "expertflow: " << wanted.error().ToString() << "\n";
      return 1;
    }
    auto files = storage::FileAttachments::Open(fs::path(data) / kAttachmentsDir, false);
    if (!files) {
      std::cerr << "expertflow: " << files.error().ToString() << "\n";
      return 1;
    }
    std::size_t missing = 0;
    for (const std::string& sha : *wanted) {
      if ((*files)->Find(sha)) continue;
      std::cerr << "expertflow: the file of attachment " << sha << " is not in the store\n";
      ++missing;
    }
    auto copied = storage::CopyAttachments(fs::path(data) / kAttachmentsDir,
                                           fs::path(attachments_dir), &*wanted);
    if (!copied) {
      std::cerr << "expertflow: " << copied.error().ToString() << "\n";
      return 1;
    }
    std::cerr << *copied << " attachments written to " << attachments_dir << "\n";
    if (missing > 0) {
      std::cerr << "expertflow: " << missing << " referenced files missing; run verify\n";
      return 1;
    }
  }
  if (!checkpoints_file.empty()) {
    // Every kept checkpoint with its cosignatures, one NDJSON line {"size", "note"} each: what an
    // import adopts beside the events (docs/audit.md).
    std::ofstream out(checkpoints_file, std::ios::binary | std::ios::trunc);
    std::uint64_t from = 0;
    std::size_t written = 0;
    auto key = LoadLogKey(data);
    if (!key) {
      std::cerr << "expertflow: " << key.error().message << "\n";
      return 1;
    }
    engine::SystemClock clock;
    engine::Checkpoints checkpoints(*log, *key, {}, clock);
    while (out) {
      auto page = checkpoints.Range(from, 0, 1000);
      if (!page) {
        std::cerr << "expertflow: " << page.error().ToString() << "\n";
        return 1;
      }
      for (const auto& c : *page)
        out << nlohmann::json{{"size", c.size}, {"note", c.note}}.dump() << "\n";
      written += page->size();
      if (page->size() < 1000) break;
      from = page->back().size + 1;
    }
    out.flush();
    if (!out) {
      std::cerr << "expertflow: cannot write " << checkpoints_file << "\n";
      return 1;
    }
    std::cerr << written << " checkpoints written to " << checkpoints_file << "\n";
  }
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

int Import(const std::string& data, const std::string& file, const std::string& expect_head,
           const std::string& checkpoints_file, const std::string& log_key_file,
           const std::string& attachments_dir) {
  // Checkpoints come with the log's own key: the imported store is the same log, signs on
  // under its origin, and each checkpoint is verified against that key and the rebuilt tree.
  std::vector<std::string> notes;
  std::optional<engine::note::SigningKey> log_key;
  if (!checkpoints_file.empty() || !log_key_file.empty()) {
    if (checkpoints_file.empty() || log_key_file.empty()) {
      std::cerr << "expertflow: --checkpoints and --log-key go together\n";
      return 2;
    }
    std::ifstream cin(checkpoints_file, std::ios::binary);
    std::ifstream kin(log_key_file, std::ios::binary);
    if (!cin || !kin) {
      std::cerr << "expertflow: cannot read " << (!cin ? checkpoints_file : log_key_file) << "\n";
      return 1;
    }
    for (std::string line; std::getline(cin, line);) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("note") || !j["note"].is_string()) {
        std::cerr << "expertflow: " << checkpoints_file << ": a line is not {\"size\", \"note\"}\n";
        return 3;
      }
      notes.push_back(j["note"].get<std::string>());
    }
    std::string key_text((std::istreambuf_iterator<char>(kin)), std::istreambuf_iterator<char>());
    while (!key_text.empty() && (key_text.back() == '\n' || key_text.back() == '\r'))
      key_text.pop_back();
    auto parsed = engine::note::ParsePrivateKey(key_text);
    if (!parsed || parsed->alg != engine::note::kAlgEd25519) {
      std::cerr << "expertflow: " << log_key_file << " is not a log's signing key\n";
      return 2;
    }
    log_key = *parsed;
  }
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
  if (report && log_key) {
    // The tree is rebuilt from the imported events; each checkpoint must name its root.
    engine::SystemClock clock;
    engine::Checkpoints checkpoints(*log, *log_key, {}, clock);
    if (auto adopted = checkpoints.Adopt(notes, clock.Now()); !adopted) {
      report = std::unexpected(adopted.error());
    } else {
      std::ofstream key_out(staging / kLogKeyFile, std::ios::binary | std::ios::trunc);
      key_out << engine::note::EncodePrivateKey(*log_key) << "\n";
      key_out.flush();
      if (!key_out) report = engine::Fail(engine::ErrorCode::kUnavailable, "cannot write the key");
    }
  }
  // The files the imported events reference, from an export's attachments folder: each must be
  // there and hash to its name, or nothing is imported.
  std::size_t files_imported = 0, files_referenced = 0;
  if (report) {
    engine::AttachmentRefs refs;
    if (auto r = refs.CatchUp(*log); !r) report = std::unexpected(r.error());
    files_referenced = refs.All().size();
    if (report && !attachments_dir.empty()) {
      auto from = storage::FileAttachments::Open(fs::path(attachments_dir), false);
      if (!from) report = std::unexpected(from.error());
      std::set<std::string> wanted;
      for (const auto& [sha, ref] : refs.All()) {
        if (!report) break;
        auto h = (*from)->Rehash(sha);
        if (!h) {
          report =
              engine::Fail(engine::ErrorCode::kValidationFailed,
                           "the file of attachment " + sha + " (referenced at seq " +
                               std::to_string(ref.first_seq) + ") is not in " + attachments_dir);
        } else if (engine::ToHex(*h) != sha) {
          report = engine::Fail(engine::ErrorCode::kValidationFailed,
                                "the file of attachment " + sha + " in " + attachments_dir +
                                    " does not hash to its name: it was altered");
        }
        wanted.insert(sha);
      }
      if (report) {
        auto copied =
            storage::CopyAttachments(fs::path(attachments_dir), staging / kAttachmentsDir, &wanted);
        if (!copied)
          report = std::unexpected(copied.error());
        else
          files_imported = *copied;
      }
    }
  }
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
            << "\n";
  if (log_key)
    std::cout << notes.size() << " signed checkpoints verified against the rebuilt tree and kept\n";
  if (!attachments_dir.empty()) {
    std::cout << files_imported << " attachments imported, each re-hashed\n";
  } else if (files_referenced > 0) {
    std::cout << files_referenced
              << " attachments are referenced but their files were not "
                 "imported (import --attachments DIR, from export --attachments DIR)\n";
  }
  std::cout << "views are rebuilt from the log at the next start\n";
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
  auto log = OpenStore(data, Access::kWrite, false, " (backup --url URL asks it for one)");
  if (!log) return 1;
  if (auto r = log->Checkpoint(to); !r) {
    std::cerr << "expertflow: " << r.error().ToString() << "\n";
    return 1;
  }
  // The copy holds the tree and the signed checkpoints (their families); the signing key goes
  // with them, so that a restored store signs on as the same log.
  std::error_code ec;
  if (fs::exists(fs::path(data) / kLogKeyFile, ec)) {
    fs::copy_file(fs::path(data) / kLogKeyFile, fs::path(to) / kLogKeyFile, ec);
    if (ec) {
      std::cerr << "expertflow: cannot copy the signing key: " << ec.message() << "\n";
      return 1;
    }
  }
  // Subscriptions are in the copy; their secrets are derived from the webhook key.
  if (fs::exists(fs::path(data) / kWebhookKeyFile, ec)) {
    fs::copy_file(fs::path(data) / kWebhookKeyFile, fs::path(to) / kWebhookKeyFile, ec);
    if (ec) {
      std::cerr << "expertflow: cannot copy the webhook key: " << ec.message() << "\n";
      return 1;
    }
  }
  auto copied =
      storage::CopyAttachments(fs::path(data) / kAttachmentsDir, fs::path(to) / kAttachmentsDir);
  if (!copied) {
    std::cerr << "expertflow: cannot copy the attachments: " << copied.error().ToString() << "\n";
    return 1;
  }
  std::cout << "backup of " << log->GetHead().seq << " events and " << *copied
            << " attachments written to " << to << "\n";
  return 0;
}

int BackupOnline(const std::string& url, const std::string& token_file, const std::string& label) {
  auto base = proof::ParseUrl(url);
  if (!base) {
    std::cerr << "expertflow backup: --url must be http://HOST[:PORT][/PREFIX]\n";
    return 2;
  }
  auto token = proof::ReadToken(token_file);
  if (!token) {
    std::cerr << "expertflow backup: " << token.error().message << "\n";
    return 2;
  }
  proof::Client client(*base, *token);
  const nlohmann::json body =
      label.empty() ? nlohmann::json::object() : nlohmann::json{{"label", label}};
  auto answer = client.Post("/api/v1/admin/backup", body.dump());
  if (!answer) {
    std::cerr << "expertflow backup: " << answer.error().message << "\n";
    return 1;
  }
  auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
  if (answer->status != 201 || !parsed.is_object()) {
    std::cerr << "expertflow backup: the server answered " << answer->status << ": "
              << (parsed.is_object() ? parsed.value("detail", answer->body) : answer->body) << "\n";
    return 1;
  }
  std::cout << "backup of " << parsed.value("head_seq", std::uint64_t{0}) << " events (head "
            << parsed.value("head_hash", "") << ") written by the server to "
            << parsed.value("path", "") << "\n";
  return 0;
}

}  // namespace expertflow::app
