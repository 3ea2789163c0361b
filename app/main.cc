// expertflow: one binary for the server and the operator's tools.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>

#include "app/commands.h"

namespace {

// CLI11 answers --help where it meets it, before it notices that a word before it names no
// subcommand: "expertflow audit --help" printed the general help and exited 0, as if `audit`
// existed. The words before the first option are walked here, down the subcommands they name;
// one that names none is refused with the commands there are, exit 2 (a usage error).
int RefuseUnknownSubcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "expertflow";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return 0;
    auto subs = at->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return 0;  // a command's own arguments from here
    auto it =
        std::find_if(subs.begin(), subs.end(), [&](CLI::App* s) { return s->check_name(word); });
    if (it == subs.end()) {
      std::string names;
      for (CLI::App* s : subs) names += (names.empty() ? "" : ", ") + s->get_name();
      std::fprintf(stderr, "%s: no command \"%s\" (there are: %s); see %s --help\n", path.c_str(),
                   word.c_str(), names.c_str(), path.c_str());
      return 2;
    }
    at = *it;
    path += " " + word;
  }
  return 0;
}

}  // namespace

#ifdef EXPERTFLOW_JEMALLOC
// jemalloc's options, read at its first allocation (MALLOC_CONF in the environment still
// overrides them). Two arenas instead of four a core: each arena keeps the pages its threads
// freed for a while (10 s) before returning them, and the server's threads (the I/O threads, the
// sequencer, the log's writer and completer, RocksDB's) each took one of their own, so that the
// peak RSS of `serve` under load held ~10 MB more (issue 19, benchmarks/README.md).
extern "C" {
// NOLINTNEXTLINE: the name and type jemalloc looks for.
const char* malloc_conf = "narenas:2";
}
#endif

int main(int argc, char** argv) {
  using namespace expertflow::app;
  // The store holds every event and every token's hash: what this process creates (the data
  // folder, RocksDB's files and write-ahead log, backups, imports) is its owner's alone.
  ::umask(077);
  // Logs go to stderr; stdout carries what a command prints for scripts (the listening line, a
  // token, an export).
  spdlog::default_logger()->sinks() = {std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  CLI::App app{"expertflow — event-sourced workflow engine for proposals and their expertise"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("expertflow ") + EXPERTFLOW_VERSION);
  std::vector<std::string> help_topic;
  auto* help = app.add_subcommand("help", "Show the help of the program or of a subcommand");
  help->add_option("subcommand", help_topic, "e.g. import, or token issue");

  ServeOptions serve;
  auto* s = app.add_subcommand("serve", "Start the HTTP server on the embedded store");
  s->add_option("--data", serve.data, "Data folder (created if missing)")->capture_default_str();
  s->add_option("--listen", serve.listen, "HOST:PORT to listen on")->capture_default_str();
  s->add_option("--threads", serve.threads, "I/O threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--clock", serve.clock,
                "system, or manual (tests; enables POST /api/v1/admin/clock)")
      ->check(CLI::IsMember({"system", "manual"}))
      ->capture_default_str();
  s->add_option("--clock-start", serve.clock_start,
                "Manual clock: the time it starts at (RFC 3339)");
  s->add_flag("--demo", serve.demo, "On an empty store: drive a year of plausible traffic first");
  s->add_option("--log-level", serve.log_level,
                "trace, debug, info (one access line a request), warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  s->add_option("--idempotency-retention", serve.idempotency_retention,
                "How long an Idempotency-Key answers a repeat before its record is purged "
                "(ISO 8601: PT24H, P7D)")
      ->capture_default_str();
  s->add_option("--origin", serve.origin,
                "The log's name in its checkpoints, set on the first start (default: "
                "expertflow/<random>)");
  s->add_option("--witness", serve.witnesses,
                "A witness's verifier key whose cosignatures are kept (repeatable)");
  s->add_option("--checkpoint-events", serve.checkpoint_events,
                "Sign a checkpoint after this many events")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  s->add_option("--checkpoint-interval", serve.checkpoint_interval,
                "...or after this long when fewer came (ISO 8601)")
      ->capture_default_str();
  s->add_option("--backup-dir", serve.backup_dir,
                "Where online backups (POST /api/v1/admin/backup) go; default: the data folder's "
                "name with -backups, beside it");
  s->add_option("--webhook-timeout", serve.webhook_timeout,
                "How long a webhook receiver has to connect and to answer (ISO 8601)")
      ->capture_default_str();
  s->add_option(
       "--webhook-backoff", serve.webhook_backoff,
       "The wait before a failed webhook delivery is retried; doubled each time (ISO 8601)")
      ->capture_default_str();
  s->add_option("--webhook-backoff-max", serve.webhook_backoff_max,
                "The longest wait between retries of a webhook delivery (ISO 8601)")
      ->capture_default_str();
  s->add_option("--attachment-limit", serve.attachment_limit_mib,
                "The largest attachment taken by POST /api/v1/attachments, in MiB (413 above)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
  s->add_option("--attachment-grace", serve.attachment_grace,
                "How long an uploaded file that no event references is kept (ISO 8601)")
      ->capture_default_str();
  s->add_flag("--allow-broken-chain", serve.allow_broken_chain,
              "Serve even when the hash chain does not verify (reads only are safe then)");

  std::string data = "data";
  auto* token = app.add_subcommand("token", "Issue, list and revoke bearer tokens");
  token->require_subcommand(1);
  std::string org, role, name, id;
  auto* issue = token->add_subcommand("issue", "Issue a token; prints it alone on stdout");
  issue->add_option("--data", data, "Data folder")->capture_default_str();
  issue->add_option("--org", org, "Organisation id, e.g. umc-05")->required();
  issue->add_option("--role", role, "Role, e.g. umc_lead")->required();
  issue->add_option("--name", name, "Who or what the token is for");
  auto* list = token->add_subcommand("list", "List tokens (ids and principals, never the tokens)");
  list->add_option("--data", data, "Data folder")->capture_default_str();
  auto* revoke = token->add_subcommand("revoke", "Revoke a token at once");
  revoke->add_option("--data", data, "Data folder")->capture_default_str();
  revoke->add_option("id", id, "Token id")->required();

  auto* verify = app.add_subcommand("verify", "Recompute the hash chain; exit 0 when it holds");
  verify->add_option("--data", data, "Data folder")->capture_default_str();

  auto* key = app.add_subcommand("key", "The log's signing key");
  key->require_subcommand(1);
  auto* key_show =
      key->add_subcommand("show", "Print the log's verifier key (for auditors and witnesses)");
  key_show->add_option("--data", data, "Data folder")->capture_default_str();

  std::uint64_t after = 0;
  auto* exp =
      app.add_subcommand("export", "Write the log as NDJSON ({seq, hash, record}) to stdout");
  exp->add_option("--data", data, "Data folder")->capture_default_str();
  exp->add_option("--after", after, "Only events after this seq");
  std::string checkpoints_file;
  exp->add_option("--checkpoints", checkpoints_file,
                  "Also write every signed checkpoint, with its cosignatures, to this file");
  std::string attachments_dir;
  exp->add_option("--attachments", attachments_dir,
                  "Also copy the files the exported events reference into this folder");

  std::string file;
  auto* imp = app.add_subcommand("import", "Load an NDJSON export into an empty store");
  imp->add_option("--data", data, "Data folder (must be empty)")->capture_default_str();
  imp->add_option("file", file, "The export file")->required();
  std::string expect_head;
  std::string log_key_file;
  imp->add_option("--checkpoints", checkpoints_file,
                  "Signed checkpoints exported with the log: each is verified and kept");
  imp->add_option("--log-key", log_key_file,
                  "The log's signing key file (log.key of its data folder), with --checkpoints");
  imp->add_option("--attachments", attachments_dir,
                  "The files the events reference, from export --attachments: each re-hashed");
  imp->add_option("--expect-head", expect_head,
                  "Refuse a file whose last hash is not this one (the head an auditor kept)");

  std::string to;
  auto* backup =
      app.add_subcommand("backup", "Write a consistent copy of the store (a checkpoint)");
  backup->add_option("--data", data, "Data folder")->capture_default_str();
  backup->add_option("--to", to, "Folder to create for the copy (the store is not in use)");
  std::string backup_url, backup_token_file, backup_label;
  backup->add_option("--url", backup_url,
                     "Ask the running server at this base URL for an online backup instead; it "
                     "writes it into its backup folder (serve --backup-dir)");
  backup->add_option("--token-file", backup_token_file,
                     "With --url: file whose first line is an admin's bearer token (else the "
                     "EXPERTFLOW_TOKEN environment variable)");
  backup->add_option("--label", backup_label, "With --url: a label for the backup's name");

  std::string projection = "all";
  auto* rebuild =
      app.add_subcommand("rebuild", "Rebuild projections from the log and swap them in");
  rebuild->add_option("--data", data, "Data folder")->capture_default_str();
  rebuild->add_option("--projection", projection, "instance_views, stage_statistics, or all")
      ->check(CLI::IsMember({"all", "instance_views", "stage_statistics"}))
      ->capture_default_str();

  const std::string http_only =
      "Base URL of the server, http://HOST[:PORT][/PREFIX] (plain http only: no TLS; use it on a "
      "trusted network or through a tunnel)";
  const std::string token_help =
      "File whose first line is the bearer token (else the EXPERTFLOW_TOKEN environment "
      "variable; a token is never taken on the command line)";

  WitnessOptions witness;
  auto* wit = app.add_subcommand("witness",
                                 "Witness a server's log: verify each new checkpoint extends the "
                                 "last one, keep it, cosign it");
  wit->add_option("--url", witness.url, http_only);
  wit->add_option("--log-key", witness.log_key, "The log's verifier key (NAME+ID+KEY)");
  wit->add_option("--key", witness.key_file, "The witness's private key file (witness keygen)");
  wit->add_option("--state", witness.state,
                  "Folder of the last checkpoint cosigned per log (created if missing)");
  wit->add_option("--token-file", witness.token_file, token_help);
  wit->add_option("--interval", witness.interval, "Seconds between rounds")->capture_default_str();
  wit->add_flag("--once", witness.once, "One round; exit 0 when it cosigned");
  wit->require_subcommand(0, 1);
  std::string key_name, key_out;
  auto* keygen = wit->add_subcommand(
      "keygen",
      "Create a witness key (file mode 0600, never overwritten); prints its verifier key");
  keygen->add_option("--name", key_name, "The witness's name, e.g. witness.example.org");
  keygen->add_option("--out", key_out, "The private key file to create");

  AuditOptions audit;
  auto* aud = app.add_subcommand(
      "audit",
      "Verify a server's log from outside: signed checkpoint, witnesses, consistency with the last "
      "one accepted, inclusion proofs, replay; exit 0 when all holds, 1 when not, 2 on misuse");
  aud->add_option("--url", audit.url, http_only);
  aud->add_option("--key", audit.log_key, "The log's verifier key (NAME+ID+KEY)");
  aud->add_option("--state", audit.state,
                  "Folder of the last checkpoint accepted per log (created if missing)");
  aud->add_option("--token-file", audit.token_file, token_help);
  aud->add_option("--witness", audit.witnesses, "A witness's verifier key (repeatable)");
  aud->add_option("--min-witnesses", audit.min_witnesses,
                  "Cosignatures required from the --witness keys")
      ->capture_default_str();
  aud->add_option("--seq", audit.seqs, "Prove this event's inclusion (repeatable)");
  aud->add_option("--instance", audit.instances,
                  "Prove every event of COLLECTION/ID included (repeatable)");
  aud->add_flag("--replay", audit.replay,
                "Recompute the hash chain and the Merkle root from the whole export");

  if (int refused = RefuseUnknownSubcommand(app, argc, argv)) return refused;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // --help and --version answer 0 here
    if (code == 0) return 0;
    // A usage error: exit 2 (1 means that something failed or did not verify), with the usage of
    // the subcommand it was made in.
    CLI::App* at = &app;
    for (bool deeper = true; deeper;) {
      deeper = false;
      for (CLI::App* sub : at->get_subcommands([](CLI::App* a) { return a->parsed(); })) {
        at = sub;
        deeper = true;
        break;
      }
    }
    if (at != &app) std::cerr << at->help();
    return 2;
  }
  if (help->parsed()) {
    CLI::App* at = &app;
    for (const std::string& word : help_topic) {
      auto subs = at->get_subcommands([&](CLI::App* a) { return a->check_name(word); });
      if (subs.empty()) {
        std::cerr << "expertflow help: no command \"" << word << "\"\n";
        return 2;
      }
      at = subs.front();
    }
    // CLI11's help() of the program delegates to the subcommand parsed, `help` itself: the
    // program's own help comes from its formatter.
    std::cout << (at == &app ? app.get_formatter()->make_help(&app, app.get_name(),
                                                              CLI::AppFormatMode::Normal)
                             : at->help());
    return 0;
  }

  if (s->parsed()) return Serve(serve);
  if (issue->parsed()) return TokenIssue(data, org, role, name);
  if (list->parsed()) return TokenList(data);
  if (revoke->parsed()) return TokenRevoke(data, id);
  if (verify->parsed()) return Verify(data);
  if (key_show->parsed()) return KeyShow(data);
  if (exp->parsed()) return Export(data, after, checkpoints_file, attachments_dir);
  if (imp->parsed())
    return Import(data, file, expect_head, checkpoints_file, log_key_file, attachments_dir);
  if (backup->parsed()) {
    // Offline (--to, the store free) or online (--url, through the running server): one of them.
    if (backup_url.empty() == to.empty()) {
      std::cerr << "expertflow backup: give --to (a stopped server's store) or --url (a running "
                   "server)\n"
                << backup->help();
      return 2;
    }
    if (!backup_url.empty()) return BackupOnline(backup_url, backup_token_file, backup_label);
    return Backup(data, to);
  }
  if (rebuild->parsed()) return Rebuild(data, projection);
  if (keygen->parsed()) return WitnessKeygen(key_name, key_out);
  if (wit->parsed()) return Witness(witness);
  if (aud->parsed()) return Audit(audit);
  return 2;
}
