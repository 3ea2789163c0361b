#pragma once

#include "engine/model/directory.h"

namespace expertflow::workflows {

// The named routing functions the definitions refer to ("routing": "<name>"). Each derives an
// instance's participants from its creator and creation payload, with the reference data:
//   industry_proposal   — association and UMC of the creator's industry, the FTPO of the UMC's
//                         federal district (seed 001 §6.5), irpo and the ministry;
//   industry_proposal_v2 — the same, its author (the association or the UMC that drafts it, seed
//                         001 §5.2) and the key employer of the industry (business-key-NN, §5.3,
//                         §1.3.3, the annex); positions named twice are refused;
//   industry_position   — an association's position and its UMC (§5.1);
//   industry_events_plan — the UMC, the association and the FTPO of the district (§6.4);
//   industry_expertise, industry_extension, industry_return, industry_course — checks of
//                         version 2: every УГПС's FUMO and no other, a business body; the expert
//                         is one still awaited; no "return" of the UMC's own draft; courses
//                         planned once, results for planned ones, all done before scaling;
//   fgos_proposal       — the RUMO that creates it and the FUMO of its УГПС (seed 000 §4.2a);
//   fgos_proposal_v2    — its author: a RUMO (with the FUMO of its УГПС, which receives it) or a
//                         FUMO of its own УГПС (seed 000 §4.2а, §4.2в: the list is a FUMO's only);
//   fgos_expertise      — a check: the RUMOs invited to an FGOS expertise are active, of the
//                         proposal's УГПС when registered for one, and at least one for a draft
//                         standard or programme (seed 000 §4.2а, §5.4);
//   agreement           — the FUMO and RUMO the payload names; the creator is one of them;
//   agreement_v2 and its checks agreement_meeting, agreement_amendment, agreement_termination
//                         (seed 000 annex 2, workflows/README.md);
//   registry_organization, registry_group, registry_group_member — reference data (issue 15);
//   protocol_assignment — the assignee and the issuer of the payload, and the ministry;
//   protocol            — the issuing organisation (ministry or irpo).
engine::RoutingTable BuiltinRouting();

}  // namespace expertflow::workflows
