#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace expertflow::app {

// The subcommands of the `expertflow` binary. Each returns the process exit code and reports
// problems on stderr in plain words.

struct ServeOptions {
  std::string data = "data";
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // 0: one per core
  std::string clock = "system";
  std::string clock_start;  // manual clock: where time starts (RFC 3339); default: now
  bool demo = false;
  bool allow_broken_chain = false;
  std::string idempotency_retention = "PT24H";  // ISO 8601, fixed units
  std::string log_level = "info";               // trace, debug, info, warn, error
  // Signed checkpoints (docs/audit.md): the log's origin on the first start, the witnesses whose
  // cosignatures are kept (verifier keys), and how often a checkpoint is made.
  std::string origin;
  std::vector<std::string> witnesses;
  std::uint64_t checkpoint_events = 1000;
  std::string checkpoint_interval = "PT10S";
  // Where POST /api/v1/admin/backup writes; empty: "<data>-backups" beside the data folder.
  std::string backup_dir;
  // Webhook delivery (docs/webhooks.md): how long to wait for a receiver's answer, and the
  // first and the longest wait between retries (ISO 8601).
  std::string webhook_timeout = "PT10S";
  std::string webhook_backoff = "PT1S";
  std::string webhook_backoff_max = "PT5M";
  // Attachments (docs/attachments.md): the largest file taken, in MiB, and how long a file no
  // event references is kept before it is removed (ISO 8601).
  std::uint64_t attachment_limit_mib = 64;
  std::string attachment_grace = "PT24H";
};
int Serve(const ServeOptions& options);

int TokenIssue(const std::string& data, const std::string& org, const std::string& role,
               const std::string& name);
int TokenList(const std::string& data);
int TokenRevoke(const std::string& data, const std::string& id);

int Verify(const std::string& data);
// Prints the log's verifier key (the note format), which auditors and witnesses are given.
int KeyShow(const std::string& data);
// With `checkpoints_file`, also writes every signed checkpoint there ({"size", "note"} lines).
// With `attachments_dir`, also copies the files the exported events reference there.
int Export(const std::string& data, std::uint64_t after, const std::string& checkpoints_file,
           const std::string& attachments_dir = "");
// Loads an export into a new store (see engine/import.h); with `expect_head`, only a file that
// ends on that head hash.
// With `checkpoints_file` and `log_key_file` (the log's signing key), also adopts the exported
// checkpoints, each verified against that key and the tree rebuilt from the imported events.
// With `attachments_dir` (an export's), also takes the files the events reference: each must be
// there and hash to its name, or nothing is imported.
int Import(const std::string& data, const std::string& file, const std::string& expect_head,
           const std::string& checkpoints_file, const std::string& log_key_file,
           const std::string& attachments_dir = "");
int Backup(const std::string& data, const std::string& to);
// `expertflow backup --url`: asks a running server for an online backup (POST
// /api/v1/admin/backup with an admin's token) and prints where it is and what it holds.
int BackupOnline(const std::string& url, const std::string& token_file, const std::string& label);
int Rebuild(const std::string& data, const std::string& projection);

// `expertflow witness` (app/witness.cc): watches a log's checkpoints, verifies that each extends
// the last one it cosigned, keeps it, then cosigns it and posts the cosignature.
struct WitnessOptions {
  std::string url;
  std::string log_key;     // the log's verifier key
  std::string key_file;    // the witness's private key
  std::string state;       // folder: one file per origin
  std::string token_file;  // else EXPERTFLOW_TOKEN
  double interval = 10;    // seconds between rounds
  bool once = false;
};
int Witness(const WitnessOptions& options);
// Writes a new witness key to `out` (mode 0600, never over an existing file); prints its
// verifier key.
int WitnessKeygen(const std::string& name, const std::string& out);

// `expertflow audit` (app/audit.cc): verifies the latest checkpoint and what was asked of it
// against the last one this auditor accepted.
struct AuditOptions {
  std::string url;
  std::string log_key;
  std::string state;
  std::string token_file;
  std::vector<std::string> witnesses;
  int min_witnesses = 0;
  std::vector<std::uint64_t> seqs;
  std::vector<std::string> instances;  // COLLECTION/ID
  bool replay = false;
};
int Audit(const AuditOptions& options);

}  // namespace expertflow::app
