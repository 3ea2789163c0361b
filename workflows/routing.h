#pragma once

#include "engine/model/directory.h"

namespace expertflow::workflows {

// The named routing functions the definitions refer to ("routing": "<name>"). Each derives an
// instance's participants from its creator and creation payload, with the reference data:
//   industry_proposal   — association and UMC of the creator's industry, the FTPO of the UMC's
//                         federal district (seed 001 §6.5), irpo and the ministry;
//   fgos_proposal       — the RUMO that creates it and the FUMO of its УГПС (seed 000 §4.2a);
//   fgos_proposal_v2    — its author: a RUMO (with the FUMO of its УГПС, which receives it) or a
//                         FUMO of its own УГПС (seed 000 §4.2а, §4.2в: the list is a FUMO's only);
//   fgos_expertise      — a check: the RUMOs invited to an FGOS expertise are active, of the
//                         proposal's УГПС when registered for one, and at least one for a draft
//                         standard or programme (seed 000 §4.2а, §5.4);
//   agreement           — the FUMO and RUMO the payload names; the creator is one of them;
//   protocol_assignment — the assignee and the issuer of the payload, and the ministry;
//   protocol            — the issuing organisation (ministry or irpo).
engine::RoutingTable BuiltinRouting();

}  // namespace expertflow::workflows
