#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/metrics.h"
#include "api/request.h"
#include "api/router.h"
#include "api/tokens.h"
#include "engine/log/event_log.h"
#include "engine/model/instance.h"
#include "engine/projections/attachment_refs.h"
#include "engine/projections/stage_stats.h"
#include "engine/runtime/checkpoints.h"
#include "engine/runtime/sequencer.h"

// The handlers of the route table (api/routes.cc), one file per resource. Each is called once the
// router has authenticated the caller, parsed the body and matched the route; each answers
// through `respond`, at once or from the sequencer's thread.
namespace expertflow::api::handlers {

// What the handlers share, owned by the router and alive as long as it is.
struct Context {
  engine::Sequencer& seq;
  engine::EventLog& log;
  TokenStore& tokens;
  Metrics& metrics;
  RouterOptions& options;
  engine::IdGenerator& ids;
  // Follows the log from its saved checkpoint; catches up and saves when asked for statistics.
  engine::StageStatistics& stages;
  // Which files the events reference, and from which instances; caught up when asked.
  engine::AttachmentRefs& attachment_refs;
};

// One matched request. `segments` are the path's after /api/v1/ (the whole path's for the
// service routes): segments[0] is the collection of an instance route, segments[1] its id.
struct Call {
  const HttpRequest& request;
  const Target& target;
  const std::vector<std::string>& segments;
  const engine::Principal& principal;  // empty on the service routes, which need no token
  const nlohmann::json& body;          // an object; empty unless POST
};

using Handler = void (*)(Context& ctx, const Call& call, Respond respond);

// Runs `work` with `respond` away from the I/O threads (RouterOptions::offload), or answers 503
// with Retry-After at once when too much such work is under way.
void Offload(Context& ctx, Respond respond, std::function<void(Respond)> work);

// service.cc: probes and metrics, outside /api/v1 and without a token.
void Healthz(Context& ctx, const Call& call, Respond respond);
void Readyz(Context& ctx, const Call& call, Respond respond);
void MetricsText(Context& ctx, const Call& call, Respond respond);

// reference.cc: who am I, the API document, workflows, organisations and regions.
void Me(Context& ctx, const Call& call, Respond respond);
void OpenApi(Context& ctx, const Call& call, Respond respond);
void ListWorkflows(Context& ctx, const Call& call, Respond respond);
void GetWorkflow(Context& ctx, const Call& call, Respond respond);
void ListOrganizations(Context& ctx, const Call& call, Respond respond);
void GetOrganization(Context& ctx, const Call& call, Respond respond);
void ListRegions(Context& ctx, const Call& call, Respond respond);
void ListGroups(Context& ctx, const Call& call, Respond respond);
void GetGroup(Context& ctx, const Call& call, Respond respond);

// proofs.cc: the Merkle tree over the log, checkpoints, proofs, tiles and cosignatures.
void LogCheckpoint(Context& ctx, const Call& call, Respond respond);
void LogKey(Context& ctx, const Call& call, Respond respond);
void LogCheckpoints(Context& ctx, const Call& call, Respond respond);
void LogInclusionProof(Context& ctx, const Call& call, Respond respond);
void LogConsistencyProof(Context& ctx, const Call& call, Respond respond);
void LogTile(Context& ctx, const Call& call, Respond respond);
void PostCosignatures(Context& ctx, const Call& call, Respond respond);

// admin.cc: tokens and the manual clock.
void IssueToken(Context& ctx, const Call& call, Respond respond);
void ListTokens(Context& ctx, const Call& call, Respond respond);
void RevokeToken(Context& ctx, const Call& call, Respond respond);
void MoveClock(Context& ctx, const Call& call, Respond respond);

// webhooks.cc: webhook subscriptions and their delivery attempts.
void RegisterWebhook(Context& ctx, const Call& call, Respond respond);
void ListWebhooks(Context& ctx, const Call& call, Respond respond);
void GetWebhook(Context& ctx, const Call& call, Respond respond);
void DeleteWebhook(Context& ctx, const Call& call, Respond respond);
void WebhookDeliveries(Context& ctx, const Call& call, Respond respond);

// instances.cc: reading instances.
void ListInstances(Context& ctx, const Call& call, Respond respond);
void GetInstance(Context& ctx, const Call& call, Respond respond);
void Inbox(Context& ctx, const Call& call, Respond respond);
// attachments.cc: POST /api/v1/attachments with the body read (the server streams it instead),
// GET /api/v1/attachments/{sha256}.
void UploadAttachment(Context& ctx, const Call& call, Respond respond);
void GetAttachment(Context& ctx, const Call& call, Respond respond);
// admin.cc: POST /api/v1/admin/backup.
void MakeBackup(Context& ctx, const Call& call, Respond respond);
// An instance as the API shows it to `p` (with its assignments' states for a protocol).
nlohmann::json View(const Context& ctx, const engine::InstanceState& s, const engine::Principal& p);

// commands.cc: writes through the sequencer.
void CreateInstance(Context& ctx, const Call& call, Respond respond);
void Act(Context& ctx, const Call& call, Respond respond);
void CreateProtocol(Context& ctx, const Call& call, Respond respond);

// history.cc: the log, whole or one instance's, its export and its verification.
void GlobalEvents(Context& ctx, const Call& call, Respond respond);
void EventStream(Context& ctx, const Call& call, Respond respond);
void InstanceEvents(Context& ctx, const Call& call, Respond respond);
void InstanceVerify(Context& ctx, const Call& call, Respond respond);
void AuditExport(Context& ctx, const Call& call, Respond respond);
void AuditVerify(Context& ctx, const Call& call, Respond respond);
// Router::OpenEventStream and Router::NextEventMessages.
engine::Result<EventStreamStart> OpenEventStream(Context& ctx, const HttpRequest& req);
std::pair<std::string, std::uint64_t> NextEventMessages(Context& ctx, const engine::Principal& p,
                                                        std::uint64_t after, std::size_t max);

// stats.cc: monitoring.
void StatsStages(Context& ctx, const Call& call, Respond respond);
void StatsDiscipline(Context& ctx, const Call& call, Respond respond);

}  // namespace expertflow::api::handlers
