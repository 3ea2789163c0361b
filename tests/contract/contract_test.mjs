// The contract as a machine reads it. Starts `expertflow serve` (manual clock, a signed checkpoint
// after every event) on a free loopback port with a fresh data folder, puts Prism's validating
// proxy (errors mode) in front of it with the document the server itself publishes, and drives a
// scripted session through the proxy that calls every operation of the document and provokes
// its errors. Any answer whose status the operation does not declare, or whose headers or body
// do not validate, fails. Then a small TypeScript client, typed by openapi-typescript from the
// same document, is compiled with tsc and run against the proxy.
//
// Environment: EXPERTFLOW_BINARY, CONTRACT_DIR (tests/contract/, where the npm packages are
// installed), WORK_DIR (a folder for the generated types and the compiled client).
import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {after, before, test} from 'node:test';

const BINARY = process.env.EXPERTFLOW_BINARY;
const CONTRACT_DIR = process.env.CONTRACT_DIR;
const WORK_DIR = process.env.WORK_DIR;
const bin = (name) => path.join(CONTRACT_DIR, 'node_modules', '.bin', name);
const run = promisify(execFile);

const deadline = setTimeout(() => {
  console.error('contract test: out of time');
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, 110_000);
deadline.unref();

const children = [];
let dataDir, direct, proxied, doc;
const tokens = {};
const called = new Map();  // operationId -> statuses seen

function waitForLine(child, pattern, what) {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}):\n${out}`)));
    const seen = (d) => {
      out += d;
      const m = pattern.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve(m);
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
  });
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Which operation of the document a request is, by method and path template ({c} is any
// collection the document lists; {N} of a tile is the rest of the path).
function operationOf(method, target) {
  const pathname = new URL(target, 'http://x').pathname;
  const collections = doc.components.parameters.Collection.schema.enum;
  let best = null;
  for (const [template, item] of Object.entries(doc.paths)) {
    const op = item[method.toLowerCase()];
    if (!op) continue;
    const pattern = '^' + template.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name) => {
      if (name === 'c') return `(?:${collections.join('|')})`;
      if (name === 'N') return '.+';
      return '[^/]+';
    }) + '$';
    if (!new RegExp(pattern).test(pathname)) continue;
    // A literal beats a template: /api/v1/protocols over /api/v1/{c}.
    const literals = template.replace(/\{\w+\}/g, '').length;
    if (!best || literals > best.literals) best = {op, literals, template};
  }
  return best;
}

// One request through the proxy. `expect` is the status the server must answer; the answer must
// be the server's (not one Prism made up), carry no violation, and be declared by its operation.
async function call(method, target, {token, body, headers = {}, expect, raw = false, via = proxied} = {}) {
  const h = {...headers};
  if (token) h.Authorization = 'Bearer ' + token;
  if (body !== undefined) h['Content-Type'] = h['Content-Type'] || 'application/json';
  const r = await fetch(via + target, {
    method, headers: h, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await r.text();
  const what = `${method} ${target} answered ${r.status}: ${text.slice(0, 600)}`;
  assert.equal(r.headers.get('sl-violations'), null, `${what}\nviolations: ${r.headers.get('sl-violations')}`);
  const type = r.headers.get('content-type') || '';
  let json = null;
  if (/json/.test(type) && !/ndjson/.test(type) && text) json = JSON.parse(text);
  assert.ok(!(json && typeof json.type === 'string' && json.type.includes('stoplight')),
            `the proxy refused or flagged it: ${what}`);
  if (expect !== undefined) assert.equal(r.status, expect, what);
  const found = operationOf(method, target);
  assert.ok(found, `no operation of the document is ${method} ${target}`);
  assert.ok(String(r.status) in found.op.responses,
            `${found.op.operationId} does not declare ${r.status}: ${what}`);
  if (json && json.code !== undefined && r.status >= 400) assert.equal(json.status, r.status, what);
  if (!called.has(found.op.operationId)) called.set(found.op.operationId, new Set());
  called.get(found.op.operationId).add(r.status);
  return {status: r.status, headers: r.headers, body: raw ? text : json, text};
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'expertflow-contract-'));
  const server = spawn(BINARY, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0', '--threads', '2',
    '--clock', 'manual', '--clock-start', '2026-03-02T09:00:00Z', '--checkpoint-events', '1',
    '--log-level', 'warn'], {stdio: ['ignore', 'pipe', 'pipe']});
  children.push(server);
  const [, port] = await waitForLine(server, /listening on 127\.0\.0\.1:(\d+)/, 'the server');
  direct = `http://127.0.0.1:${port}`;
  tokens.admin = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  // The document as the server publishes it, without a token: what an integrator starts from.
  const published = await fetch(direct + '/api/v1/openapi.json');
  assert.equal(published.status, 200);
  doc = await published.json();
  fs.mkdirSync(WORK_DIR, {recursive: true});
  const docFile = path.join(WORK_DIR, 'openapi.json');
  fs.writeFileSync(docFile, JSON.stringify(doc));
  const proxyPort = await freePort();
  const prism = spawn(bin('prism'), ['proxy', docFile, direct, '--errors', '--host', '127.0.0.1',
    '--port', String(proxyPort)], {stdio: ['ignore', 'pipe', 'pipe']});
  children.push(prism);
  await waitForLine(prism, /Prism is listening/, 'the proxy');
  proxied = `http://127.0.0.1:${proxyPort}`;
});

after(async () => {
  // Each child is waited for before its folder goes: the server writes its memtables out as it
  // stops, and a folder removed under it fails to go (ENOTEMPTY).
  await Promise.all(children.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  })));
  if (dataDir) fs.rmSync(dataDir, {recursive: true, force: true});
  if (dataDir) fs.rmSync(dataDir + '-backups', {recursive: true, force: true});
});

const draft = (title = 'Единый подход') => ({
  workflow: 'industry_proposal',
  payload: {title, topic: 'standard_programme', summary: 'Кратко'},
});

test('a scripted session through the validating proxy answers only what the contract declares', async () => {
  const admin = tokens.admin;
  // Service routes and the dashboard need no token.
  await call('GET', '/api/v1/openapi.json', {expect: 200});
  await call('GET', '/healthz', {expect: 200});
  await call('GET', '/readyz', {expect: 200});
  await call('GET', '/metrics', {expect: 200});
  const page = await call('GET', '/', {expect: 200});
  await call('GET', '/', {expect: 304, headers: {'If-None-Match': page.headers.get('etag')}});
  await call('GET', '/dashboard.js', {expect: 200});
  await call('GET', '/no-such-file.js', {expect: 404});

  // Tokens: issued by the admin, listed, revoked.
  for (const [who, org, role] of [
    ['assoc', 'assoc-05', 'association_member'], ['umc', 'umc-05', 'umc_lead'],
    ['other_umc', 'umc-12', 'umc_lead'], ['irpo', 'irpo', 'irpo_staff'], ['auditor', 'audit', 'auditor'],
    ['ministry', 'ministry', 'ministry_official'], ['spare', 'umc-05', 'umc_lead']]) {
    const r = await call('POST', '/api/v1/tokens', {token: admin, body: {org, role, name: who}, expect: 201});
    tokens[who] = r.body.token;
    tokens[who + '_id'] = r.body.id;
  }
  await call('POST', '/api/v1/tokens', {token: admin, body: {org: 'umc-05', role: 'umc_lead', scope: 'all'}, expect: 422});
  await call('GET', '/api/v1/tokens', {token: admin, expect: 200});
  await call('GET', '/api/v1/tokens', {token: tokens.umc, expect: 403});
  await call('DELETE', `/api/v1/tokens/${tokens.spare_id}`, {token: admin, expect: 204});
  await call('DELETE', '/api/v1/tokens/000000000000', {token: admin, expect: 404});
  await call('GET', '/api/v1/me', {token: tokens.spare, expect: 401});
  // No token at all: the proxy checks the security scheme itself, so this one goes straight.
  await call('GET', '/api/v1/me', {expect: 401, via: direct});
  const me = await call('GET', '/api/v1/me', {token: tokens.umc, expect: 200});
  assert.equal(me.body.org, 'umc-05');

  // Reference data.
  await call('GET', '/api/v1/workflows', {token: tokens.umc, expect: 200});
  await call('GET', '/api/v1/workflows/industry_proposal', {token: tokens.umc, expect: 200});
  await call('GET', '/api/v1/workflows/no_such_workflow', {token: tokens.umc, expect: 404});
  await call('GET', '/api/v1/organizations?type=umc', {token: tokens.umc, expect: 200});
  await call('GET', '/api/v1/organizations/umc-05', {token: tokens.umc, expect: 200});
  await call('GET', '/api/v1/organizations/nobody', {token: tokens.umc, expect: 404});
  const groups = await call('GET', '/api/v1/groups', {token: tokens.umc, expect: 200});
  if (groups.body.items.length) await call('GET', `/api/v1/groups/${groups.body.items[0].id}`, {token: tokens.umc, expect: 200});
  await call('GET', '/api/v1/groups/no-such-group', {token: tokens.umc, expect: 404});
  await call('GET', '/api/v1/regions', {token: tokens.umc, expect: 200});

  // Instances: created, listed a page at a time, read, commanded.
  const ids = [];
  for (const title of ['Первое', 'Второе', 'Третье']) {
    const r = await call('POST', '/api/v1/proposals', {token: tokens.assoc, body: draft(title), expect: 201});
    assert.equal(r.headers.get('location'), `/api/v1/proposals/${r.body.id}`);
    assert.equal(r.headers.get('etag'), '"1"');
    ids.push(r.body.id);
  }
  const [a, b] = ids;
  await call('POST', '/api/v1/proposals', {token: tokens.assoc, body: {workflow: 'industry_proposal', payload: {title: 'x'}}, expect: 422});
  await call('POST', '/api/v1/proposals', {token: tokens.auditor, body: draft(), expect: 403});
  // Neither a missing token nor a body that is not JSON gets past the proxy: asked straight.
  await call('POST', '/api/v1/proposals', {body: draft(), expect: 401, via: direct});
  await call('POST', '/api/v1/proposals', {token: tokens.assoc, body: '{"workflow": ', expect: 400, via: direct});
  const keyed = {token: tokens.assoc, headers: {'Idempotency-Key': 'contract-1'}};
  const first = await call('POST', '/api/v1/proposals', {...keyed, body: draft('Ключ'), expect: 201});
  const again = await call('POST', '/api/v1/proposals', {...keyed, body: draft('Ключ'), expect: 201});
  assert.equal(again.body.id, first.body.id);
  await call('POST', '/api/v1/proposals', {...keyed, body: draft('Другое'), expect: 422});

  const page1 = await call('GET', '/api/v1/proposals?limit=2', {token: tokens.umc, expect: 200});
  assert.equal(page1.body.items.length, 2);
  assert.equal(typeof page1.body.next_cursor, 'string');
  const page2 = await call('GET', `/api/v1/proposals?limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`, {token: tokens.umc, expect: 200});
  assert.equal(page2.body.next_cursor, null);
  await call('GET', '/api/v1/proposals?cursor=not-a-cursor', {token: tokens.umc, expect: 400});
  await call('GET', `/api/v1/proposals?state=drafting&org=umc-05&awaiting=assoc-05`, {token: tokens.umc, expect: 200});

  const view = await call('GET', `/api/v1/proposals/${a}`, {token: tokens.umc, expect: 200});
  assert.equal(view.headers.get('etag'), '"1"');
  await call('GET', `/api/v1/proposals/${a}`, {token: tokens.umc, headers: {'If-None-Match': '"1"'}, expect: 304});
  assert.match(page1.headers.get('link'), /^<\/api\/v1\/proposals\?cursor=.*&limit=2>; rel="next"$/);
  await call('GET', `/api/v1/proposals/${a}`, {token: tokens.other_umc, expect: 404});
  await call('GET', `/api/v1/proposals/${a}?at_version=1`, {token: tokens.auditor, expect: 200});
  await call('GET', `/api/v1/proposals/${a}?at_version=9`, {token: tokens.auditor, expect: 404});
  await call('GET', `/api/v1/proposals/${a}?at_version=1&as_of=2026-03-02T09:00:00Z`, {token: tokens.auditor, expect: 400});

  const commands = `/api/v1/proposals/${a}/commands`;
  const moved = await call('POST', commands, {token: tokens.assoc, body: {command: 'submit_to_umc', expected_version: 1, payload: {comment: 'Готово'}}, expect: 200});
  assert.equal(moved.body.events[0].type, 'ProposalSubmittedToUmc');
  await call('POST', commands, {token: tokens.assoc, body: {command: 'submit_to_umc', expected_version: 1}, expect: 409});
  const invalid = await call('POST', commands, {token: tokens.assoc, body: {command: 'submit_to_umc'}, expect: 409});
  assert.equal(invalid.body.code, 'invalid_transition');
  const unknown = await call('POST', commands, {token: tokens.umc, body: {command: 'teleport'}, expect: 422});
  assert.equal(unknown.body.errors[0].field, 'command');
  await call('POST', commands, {token: tokens.umc, body: {command: 'return_to_association', payload: {}}, expect: 422});
  await call('POST', commands, {token: tokens.assoc, body: {command: 'send_to_expertise', payload: {experts: {fumo: ['fumo-09.00.00']}}}, expect: 403});
  await call('POST', commands, {token: tokens.umc, body: {command: 'return_to_association'}, headers: {'If-Match': 'nonsense'}, expect: 400});
  await call('POST', `/api/v1/proposals/${a}/commands`, {token: tokens.other_umc, body: {command: 'withdraw'}, expect: 404});
  await call('POST', `/api/v1/proposals/${b}/commands`, {token: tokens.assoc, body: {command: 'withdraw', payload: {comment: 'Не нужно'}}, headers: {'If-Match': '"1"'}, expect: 200});

  // History, the instance's chain, the inbox.
  const history = await call('GET', `/api/v1/proposals/${a}/events`, {token: tokens.umc, expect: 200});
  assert.deepEqual(history.body.events.map((e) => e.type), ['ProposalDrafted', 'ProposalSubmittedToUmc']);
  await call('GET', `/api/v1/proposals/${a}/events?after=1&limit=1&proofs=true`, {token: tokens.auditor, expect: 200});
  await call('GET', `/api/v1/proposals/${a}/events`, {token: tokens.other_umc, expect: 404});
  await call('GET', `/api/v1/proposals/${a}/verify`, {token: tokens.umc, expect: 200});
  await call('GET', `/api/v1/proposals/${a}/verify`, {token: tokens.other_umc, expect: 404});
  const inbox = await call('GET', '/api/v1/inbox', {token: tokens.umc, expect: 200});
  assert.ok(inbox.body.items.some((i) => i.id === a));
  const inbox1 = await call('GET', '/api/v1/inbox?limit=1', {token: tokens.assoc, expect: 200});
  if (inbox1.body.next_cursor !== null) {
    await call('GET', `/api/v1/inbox?limit=1&cursor=${encodeURIComponent(inbox1.body.next_cursor)}`, {token: tokens.assoc, expect: 200});
  }
  await call('GET', '/api/v1/inbox?cursor=nonsense', {token: tokens.assoc, expect: 400});

  // Protocols and their assignments.
  const protocol = await call('POST', '/api/v1/protocols', {token: tokens.ministry, expect: 201, body: {
    number: 'Д05-1/05пр', date: '2026-01-10', title: 'Всем регионам', items: [{title: 'Пункт', decisions: [
      {text: 'Отчитаться', assignees: ['roiv-31', 'roiv-69'], deadline: {due: '2026-04-01'}}]}]}});
  assert.equal(protocol.body.assignments.length, 2);
  const nobody = {number: 'x', date: '2026-01-10', title: 'x', items: [{title: 'x', decisions: [
    {text: 'x', assignees: ['no-such-body'], deadline: {due: '2026-04-01'}}]}]};
  await call('POST', '/api/v1/protocols', {token: tokens.ministry, body: nobody, expect: 422});
  await call('POST', '/api/v1/protocols', {token: tokens.umc, body: nobody, expect: 403});
  await call('GET', '/api/v1/protocols', {token: tokens.ministry, expect: 200});
  await call('GET', `/api/v1/protocols/${protocol.body.id}`, {token: tokens.ministry, expect: 200});
  await call('GET', `/api/v1/assignments/${protocol.body.assignments[0]}`, {token: tokens.ministry, expect: 200});

  // The test clock fires the assignments' deadlines: timer events.
  await call('POST', '/api/v1/admin/clock', {token: admin, body: {advance: 'P40D'}, expect: 200});
  await call('POST', '/api/v1/admin/clock', {token: admin, body: {advance: 'soon'}, expect: 422});
  await call('POST', '/api/v1/admin/clock', {token: tokens.irpo, body: {advance: 'P1D'}, expect: 403});
  // An online backup, in the server's backup folder.
  const backup = await call('POST', '/api/v1/admin/backup', {token: admin, body: {label: 'contract'}, expect: 201});
  assert.ok(backup.body.name.endsWith('-contract'));
  // A label outside the pattern: the proxy refuses it itself, so the server is asked straight.
  await call('POST', '/api/v1/admin/backup', {token: admin, body: {label: '../x'}, expect: 422, via: direct});
  await call('POST', '/api/v1/admin/backup', {token: tokens.irpo, body: {}, expect: 403});

  // The whole log, its export and verification, for those who see everything.
  const log = await call('GET', '/api/v1/events?after=0&limit=500', {token: tokens.irpo, expect: 200});
  assert.equal(log.body.events.length, log.body.head);
  // Everyone has the feed, filtered to what they may see.
  const mine = await call('GET', '/api/v1/events?after=0&limit=500', {token: tokens.assoc, expect: 200});
  assert.ok(mine.body.events.length > 0 && mine.body.events.length < log.body.events.length);
  assert.equal(mine.body.next_after, log.body.head);
  await call('GET', '/api/v1/events/stream', {token: tokens.irpo, headers: {'Last-Event-ID': 'nonsense'}, expect: 400});
  const exported = await call('GET', '/api/v1/audit/export?after=0&limit=3', {token: tokens.auditor, expect: 200, raw: true});
  assert.equal(exported.body.trim().split('\n').length, 3);
  assert.equal(exported.headers.get('x-head-seq'), String(log.body.head));
  await call('GET', '/api/v1/audit/export', {token: tokens.umc, expect: 403});
  const verified = await call('GET', '/api/v1/audit/verify', {token: tokens.auditor, expect: 200});
  assert.equal(verified.body.ok, true);
  await call('GET', '/api/v1/audit/verify', {token: tokens.umc, expect: 403});

  // Signed checkpoints and proofs.
  const checkpoint = await call('GET', '/api/v1/log/checkpoint', {token: tokens.auditor, expect: 200, raw: true});
  const size = Number(checkpoint.body.split('\n')[1]);
  assert.ok(size >= 2, checkpoint.body);
  await call('GET', '/api/v1/log/checkpoints?limit=2', {token: tokens.auditor, expect: 200});
  await call('GET', '/api/v1/log/key', {token: tokens.auditor, expect: 200});
  await call('GET', `/api/v1/log/proof/inclusion?seq=1&tree_size=${size}`, {token: tokens.auditor, expect: 200});
  await call('GET', `/api/v1/log/proof/inclusion?seq=${size + 100}`, {token: tokens.auditor, expect: 400});
  await call('GET', `/api/v1/log/proof/consistency?from_size=1&to_size=${size}`, {token: tokens.auditor, expect: 200});
  await call('GET', '/api/v1/log/checkpoint', {token: tokens.umc, expect: 403});
  // A partial tile's path has a slash in {N}, which a proxy matching templates cannot route.
  await call('GET', '/api/v1/log/tile/0/000.p/1', {token: tokens.auditor, expect: 200, raw: true, via: direct});
  await call('GET', '/api/v1/log/tile/0/999', {token: tokens.auditor, expect: 404});
  await call('POST', '/api/v1/log/cosignatures', {token: tokens.auditor, body: {cosignature: 'x'}, expect: 403});
  await call('POST', '/api/v1/log/cosignatures', {token: admin, body: {cosignature: 'not a note'}, expect: 422});

  // Monitoring, as JSON and as CSV.
  await call('GET', '/api/v1/stats/stages?workflow=industry_proposal&group_by=umc', {token: tokens.irpo, expect: 200});
  const csv = await call('GET', '/api/v1/stats/stages?workflow=industry_proposal&format=csv', {token: tokens.irpo, expect: 200, raw: true});
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  await call('GET', '/api/v1/stats/stages?workflow=industry_proposal&from=yesterday', {token: tokens.irpo, expect: 400});
  await call('GET', '/api/v1/stats/stages?workflow=industry_proposal', {token: tokens.umc, expect: 403});
  await call('GET', '/api/v1/stats/discipline?group_by=assignee&assignments=true', {token: tokens.ministry, expect: 200});
  await call('GET', '/api/v1/stats/discipline?format=csv', {token: tokens.ministry, expect: 200, raw: true});
  await call('GET', '/api/v1/stats/discipline', {token: tokens.assoc, expect: 403});

  // Webhooks: a UMC lead registers its own organisation's; its secret is in that answer only.
  const hook = await call('POST', '/api/v1/webhooks', {token: tokens.umc, expect: 201,
    body: {url: 'http://127.0.0.1:9/hook', kinds: ['state_changed', 'awaiting_you'], deadline_days: 5}});
  assert.equal(hook.body.secret.length, 64);
  await call('POST', '/api/v1/webhooks', {token: tokens.umc, body: {url: 'ftp://example.org/', kinds: ['overdue']}, expect: 422});
  await call('POST', '/api/v1/webhooks', {token: tokens.assoc, body: {url: 'http://127.0.0.1:9/', kinds: ['overdue']}, expect: 403});
  const hooks = await call('GET', '/api/v1/webhooks', {token: tokens.umc, expect: 200});
  assert.deepEqual(hooks.body.items.map((h) => h.id), [hook.body.id]);
  assert.equal(hooks.body.items[0].secret, undefined);
  await call('GET', `/api/v1/webhooks/${hook.body.id}`, {token: tokens.umc, expect: 200});
  await call('GET', `/api/v1/webhooks/${hook.body.id}/deliveries?limit=10`, {token: tokens.umc, expect: 200});
  await call('GET', `/api/v1/webhooks/${hook.body.id}`, {token: tokens.other_umc, expect: 404});
  await call('DELETE', `/api/v1/webhooks/${hook.body.id}`, {token: tokens.umc, expect: 204});
  await call('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`, {token: tokens.umc, expect: 404});

  // Attachments: the body is the file; served once an event references it, as a download.
  const file = 'Отчёт региона за неделю\n'.repeat(200);
  const stored = await call('POST', '/api/v1/attachments?name=report.txt', {token: tokens.umc, body: file,
    headers: {'Content-Type': 'text/plain; charset=utf-8'}, expect: 201});
  assert.equal(stored.body.type, 'text/plain');
  await call('POST', '/api/v1/attachments?name=again.txt', {token: tokens.umc, body: file,
    headers: {'Content-Type': 'text/plain'}, expect: 200});
  await call('POST', '/api/v1/attachments?name=a%2Fb', {token: tokens.umc, body: 'x',
    headers: {'Content-Type': 'text/plain'}, expect: 422});
  await call('GET', stored.body.uri, {token: tokens.umc, expect: 404});
  const referencing = draft('С приложением');
  referencing.payload.attachments = [{name: 'report.txt', uri: stored.body.uri, sha256: stored.body.sha256}];
  await call('POST', '/api/v1/proposals', {token: tokens.assoc, body: referencing, expect: 201});
  const downloaded = await call('GET', stored.body.uri, {token: tokens.umc, expect: 200, raw: true});
  assert.equal(downloaded.body, file);
  assert.match(downloaded.headers.get('content-disposition'), /^attachment; filename="report.txt"/);
  await call('GET', stored.body.uri, {token: tokens.other_umc, expect: 404});

  // Every operation of the document was called.
  const all = [];
  for (const item of Object.values(doc.paths))
    for (const [m, op] of Object.entries(item)) if (m !== 'parameters') all.push(op.operationId);
  const missing = all.filter((id) => !called.has(id) && id !== 'streamEvents');
  assert.deepEqual(missing, [], 'operations the session did not call');
});

test('what the proxy cannot carry answers as declared, straight from the server', async () => {
  // A method a path does not take: 405 with Allow (Prism answers an undeclared method itself).
  for (const [method, target, allow] of [['PUT', '/api/v1/proposals', 'GET, POST'],
    ['DELETE', '/api/v1/me', 'GET'], ['POST', '/api/v1/openapi.json', 'GET']]) {
    const r = await fetch(direct + target, {method, headers: {Authorization: 'Bearer ' + tokens.umc, 'Content-Type': 'application/json'}, body: method === 'DELETE' ? undefined : '{}'});
    assert.equal(r.status, 405, `${method} ${target}`);
    assert.equal(r.headers.get('allow'), allow);
    assert.equal((await r.json()).code, 'method_not_allowed');
    const op = operationOf('GET', target).op;
    assert.ok('405' in op.responses || target === '/api/v1/openapi.json', `${target} declares 405`);
  }
  // A body that is not JSON by its media type, and one over 1 MiB.
  const unsupported = await fetch(direct + '/api/v1/proposals', {method: 'POST', body: 'title=x',
    headers: {Authorization: 'Bearer ' + tokens.assoc, 'Content-Type': 'application/x-www-form-urlencoded'}});
  assert.equal(unsupported.status, 415);
  assert.ok('415' in doc.paths['/api/v1/{c}'].post.responses);
  const large = await fetch(direct + '/api/v1/proposals', {method: 'POST', body: JSON.stringify({payload: {summary: 'x'.repeat(1 << 20)}}),
    headers: {Authorization: 'Bearer ' + tokens.assoc, 'Content-Type': 'application/json'}});
  assert.equal(large.status, 413);
  assert.ok('413' in doc.paths['/api/v1/{c}'].post.responses);
  // The live feed: it never ends, so no proxy that validates a whole body can carry it. Its
  // headers and first events: each `event:` names the data's type, a type the contract types.
  const controller = new AbortController();
  const stream = await fetch(direct + '/api/v1/events/stream?after=0', {headers: {Authorization: 'Bearer ' + tokens.irpo}, signal: controller.signal});
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(stream.headers.get('x-accel-buffering'), 'no');
  const reader = stream.body.getReader();
  let text = '';
  while (!/\n\n[\s\S]*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  const mapping = doc.components.schemas.Event.discriminator.mapping;
  const messages = text.split('\n\n').filter((m) => m.includes('data: '));
  assert.ok(messages.length >= 1, text);
  for (const m of messages) {
    const type = /^event: (.+)$/m.exec(m)[1];
    const data = JSON.parse(/^data: (.+)$/m.exec(m)[1]);
    assert.equal(data.type, type);
    assert.ok(type in mapping, `${type} has no schema in the contract`);
  }
});

test('every event type the workflow definitions emit has its schema', () => {
  const emitted = new Set();
  const walk = (x) => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        if (k === 'event' && typeof v === 'string') emitted.add(v);
        else walk(v);
      }
    }
  };
  const dir = path.join(CONTRACT_DIR, '..', '..', 'workflows');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json')))
    walk(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  const mapping = doc.components.schemas.Event.discriminator.mapping;
  assert.ok(emitted.size >= 80);
  assert.deepEqual([...emitted].filter((t) => !(t in mapping)).sort(), []);
  assert.deepEqual(Object.keys(mapping).filter((t) => !emitted.has(t)).sort(), []);
});

test('a client typed from the contract compiles and runs against the proxy', async () => {
  const out = path.join(WORK_DIR, 'client');
  fs.rmSync(out, {recursive: true, force: true});
  fs.mkdirSync(out, {recursive: true});
  await run(bin('openapi-typescript'), [path.join(WORK_DIR, 'openapi.json'), '--output', path.join(out, 'contract.ts')]);
  fs.copyFileSync(path.join(CONTRACT_DIR, 'client.ts'), path.join(out, 'client.ts'));
  fs.writeFileSync(path.join(out, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true,
      noUncheckedIndexedAccess: true, types: [], lib: ['es2022', 'dom'], outDir: 'js', skipLibCheck: false},
    files: ['client.ts']}));
  fs.writeFileSync(path.join(out, 'package.json'), '{"type": "module"}');
  try {
    await run(bin('tsc'), ['--noEmit', '-p', out]);
    await run(bin('tsc'), ['-p', out]);
  } catch (e) {
    assert.fail('tsc: ' + e.stdout + e.stderr);
  }
  const {stdout} = await run(process.execPath, [path.join(out, 'js', 'client.js')], {env: {
    ...process.env, BASE: proxied, ASSOC: tokens.assoc, UMC: tokens.umc, IRPO: tokens.irpo}});
  assert.match(stdout, /^ok /m);
});
