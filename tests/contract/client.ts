// A small client typed by the contract alone: `contract.ts` is what openapi-typescript generates
// from api/openapi.json. Every request body and answer below has the generated type, so a schema
// that lost a member, a status or an event type fails to compile; running it against the
// server (through the validating proxy) checks that the types are what comes over the wire.
// Environment: BASE, and the tokens ASSOC (assoc-05), UMC (umc-05), IRPO (irpo).
import type {components, paths} from './contract.js';

declare const process: {env: Record<string, string | undefined>};

type Schemas = components['schemas'];
type Json<T> = T extends {content: {'application/json': infer B}} ? B : never;
type Problem = Schemas['Problem'];
type CreateBody = NonNullable<paths['/api/v1/{c}']['post']['requestBody']>['content']['application/json'];
type Created = Json<paths['/api/v1/{c}']['post']['responses'][201]>;
type CommandBody = NonNullable<paths['/api/v1/{c}/{id}/commands']['post']['requestBody']>['content']['application/json'];
type CommandResult = Json<paths['/api/v1/{c}/{id}/commands']['post']['responses'][200]>;
type Conflict = paths['/api/v1/{c}/{id}/commands']['post']['responses'][409]['content']['application/problem+json'];
type List = Json<paths['/api/v1/{c}']['get']['responses'][200]>;
type History = Json<paths['/api/v1/{c}/{id}/events']['get']['responses'][200]>;
type Inbox = Json<paths['/api/v1/inbox']['get']['responses'][200]>;
type GlobalEvents = Json<paths['/api/v1/events']['get']['responses'][200]>;
type StageStats = Json<paths['/api/v1/stats/stages']['get']['responses'][200]>;
type Me = Json<paths['/api/v1/me']['get']['responses'][200]>;
type Event = Schemas['Event'];

const base = process.env.BASE ?? '';
const assoc = process.env.ASSOC ?? '';
const umc = process.env.UMC ?? '';
const irpo = process.env.IRPO ?? '';

async function send<T>(method: string, path: string, token: string, body?: unknown): Promise<{status: number; body: T}> {
  const headers: Record<string, string> = {Authorization: `Bearer ${token}`};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  return {status: r.status, body: (await r.json()) as T};
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

// What a reader of the feed does with an event: the type names the data's layout.
function describe(e: Event): string {
  switch (e.type) {
    case 'ProposalDrafted':
      return `${e.data.created.id} drafted as "${e.data.payload.title}" (${e.data.payload.topic}) into ${e.data.to}`;
    case 'ProposalSubmittedToUmc':
      return `submitted to the UMC${e.data.payload.comment ? `: ${e.data.payload.comment}` : ''}`;
    case 'ExpertiseOverdue':
      return `expertise overdue since ${e.data.due} (${e.data.deadline})`;
    default:
      return e.type;
  }
}

const draft: CreateBody = {
  workflow: 'industry_proposal',
  payload: {title: 'Типизированный клиент', topic: 'teaching_materials', summary: 'Из контракта'},
};
const created = await send<Created>('POST', '/api/v1/proposals', assoc, draft);
check(created.status === 201 && created.body.state === 'drafting', `create: ${created.status}`);
const id: string = created.body.id;
const version: number = created.body.version;
const allowed: string[] = created.body.allowed_commands ?? [];
check(allowed.includes('submit_to_umc'), `allowed: ${allowed.join(', ')}`);

const submit: CommandBody = {command: 'submit_to_umc', expected_version: version, payload: {comment: 'Готово'}};
const moved = await send<CommandResult>('POST', `/api/v1/proposals/${id}/commands`, assoc, submit);
check(moved.status === 200 && moved.body.state === 'umc_review', `submit: ${moved.status}`);
const lines = moved.body.events.map(describe);
check(lines[0] === 'submitted to the UMC: Готово', lines.join('; '));

const stale = await send<Conflict>('POST', `/api/v1/proposals/${id}/commands`, assoc, submit);
check(stale.status === 409 && stale.body.code === 'version_conflict' && stale.body.current_version === 2,
      `stale: ${stale.status}`);
const unknown = await send<Problem>('POST', `/api/v1/proposals/${id}/commands`, umc, {command: 'teleport'} satisfies CommandBody);
check(unknown.status === 422 && unknown.body.errors?.[0]?.field === 'command', `unknown: ${unknown.status}`);

const history = await send<History>('GET', `/api/v1/proposals/${id}/events`, umc);
const first = history.body.events[0];
check(first !== undefined && describe(first).includes('drafted as "Типизированный клиент"'),
      first ? describe(first) : 'no events');
const next: number | null = history.body.next_after;
check(next === null, 'one page');

const list = await send<List>('GET', '/api/v1/proposals?limit=1', umc);
const cursor: string | null = list.body.next_cursor;
check(list.body.items.length === 1 && typeof cursor === 'string', 'a page and a cursor');

const inbox = await send<Inbox>('GET', '/api/v1/inbox', umc);
const waiting = inbox.body.items.find((i) => i.id === id);
const orgs = waiting?.awaiting.map((a) => a.org) ?? [];
check(orgs.includes('umc-05'), `awaiting: ${orgs.join(', ')}`);

const feed = await send<GlobalEvents>('GET', '/api/v1/events?after=0&limit=500', irpo);
const head: number = feed.body.head;
const types = new Set(feed.body.events.map((e) => e.type));
check(types.has('ProposalDrafted') && head >= feed.body.events.length, `feed of ${head}`);

const stats = await send<StageStats>('GET', '/api/v1/stats/stages?workflow=industry_proposal', irpo);
const umcStage = stats.body.stages.find((s) => s.stage === 'umc');
check(umcStage !== undefined && umcStage.entered >= 1 && umcStage.time_in_stage_hours.p90 >= 0, 'stage umc');

const me = await send<Me>('GET', '/api/v1/me', irpo);
const role: Schemas['Role'] = me.body.role;
check(role === 'irpo_staff', role);

console.log(`ok ${id} ${head}`);
