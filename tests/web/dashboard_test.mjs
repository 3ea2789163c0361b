// The dashboard in a real browser (headless Chromium driven by playwright-core): starts
// `expertflow serve --demo` on a free loopback port with a fresh data folder, logs in as the
// demo's IRPO analyst, and checks that what the page shows equals what the API answers, that a
// proposal's timeline opens with its hash chain intact, and that a new event reaches the page
// through the live feed. Screenshots go to SCREENSHOT_DIR. Everything stays on 127.0.0.1: any
// other request the page makes is refused and fails the test.
//
// Environment: EXPERTFLOW_BINARY, CHROMIUM (the browser executable), WEB_DIR (web/, where
// playwright-core is installed), SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

const require = createRequire(path.join(process.env.WEB_DIR, 'package.json'));
const {chromium} = require('playwright-core');

const BINARY = process.env.EXPERTFLOW_BINARY;
const SHOTS = process.env.SCREENSHOT_DIR;
const WORKFLOW = 'industry_proposal';

// The whole run is bounded: a hung browser or server must not hold CI.
const deadline = setTimeout(() => {
  console.error('dashboard test: out of time');
  if (server) server.kill('SIGKILL');
  process.exit(1);
}, 240_000);
deadline.unref();

let server, dataDir, base, tokens = {}, browser;

function startServer() {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'expertflow-dashboard-'));
  server = spawn(BINARY, ['serve', '--demo', '--data', dataDir, '--listen', '127.0.0.1:0',
    '--threads', '2', '--log-level', 'warn'], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  server.stderr.on('data', (d) => process.stderr.write(d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start:\n' + out)), 150_000);
    server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${out}`)));
    server.stdout.on('data', (d) => {
      out += d;
      const listening = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (!listening) return;
      for (const [, who, token] of out.matchAll(/^\s+(.+?) \(.*?\): (\S+)$/gm)) tokens[who] = token;
      clearTimeout(timer);
      resolve(Number(listening[1]));
    });
  });
}

async function api(pathAndQuery, token = tokens['IRPO analyst'], init = {}) {
  const r = await fetch(base + pathAndQuery, {...init, headers: {Authorization: 'Bearer ' + token, ...(init.headers || {})}});
  assert.ok(r.ok, `${pathAndQuery} answered ${r.status}`);
  return r.json();
}

// What the page shows for a window of dates: Moscow midnight of `from` to Moscow midnight after
// `to` (the page's date pickers include the "to" day).
function windowOf(from, to) {
  const next = new Date(to + 'T00:00:00Z');
  next.setUTCDate(next.getUTCDate() + 1);
  return {from: `${from}T00:00:00+03:00`, to: `${next.toISOString().slice(0, 10)}T00:00:00+03:00`};
}

// Numbers as the page prints them (Russian or English; a decimal comma in Russian).
const shown = (text) => Number(text.replace(/\s/g, '').replace(',', '.'));
const daysOf = (hours) => Math.round((hours / 24) * 10) / 10;

async function newPage(viewport, isMobile = false) {
  const context = await browser.newContext({viewport, isMobile, hasTouch: isMobile, locale: 'ru-RU'});
  const page = await context.newPage();
  page.problems = [];
  // Only the server under test may be reached; anything else is recorded and refused.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || (url.hostname === '127.0.0.1' && url.port === String(new URL(base).port))) return route.continue();
    page.problems.push('request to ' + url.href);
    return route.abort();
  });
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  return page;
}

async function logIn(page, token) {
  await page.goto(base + '/');
  await page.locator('#token').fill(token);
  await page.keyboard.press('Enter');
  await page.locator('#flow .node').first().waitFor();
}

// Waits until the page shows the same log position as the API answers for its window, then
// returns that answer: the page refreshes itself from the live feed, so it converges.
async function settledStats(page, extra = '') {
  const from = await page.inputValue('#from'), to = await page.inputValue('#to');
  const w = windowOf(from, to);
  const query = new URLSearchParams({workflow: WORKFLOW, from: w.from, to: w.to});
  for (let i = 0; i < 100; ++i) {
    const stats = await api('/api/v1/stats/stages?' + query + extra);
    const seq = await page.getAttribute('#flow', 'data-as-of-seq');
    const status = await page.textContent('#status');
    if (seq === String(stats.as_of_seq) && !/Загрузка|Loading/.test(status)) return stats;
    await page.waitForTimeout(200);
  }
  assert.fail('the page never caught up with the API');
}

async function expectStagesShown(page, stats) {
  for (const s of stats.stages) {
    const row = page.locator(`#stages-table tr[data-stage="${s.stage}"]`);
    const cell = async (m) => shown(await row.locator(`[data-metric="${m}"]`).textContent());
    assert.equal(await cell('wip'), s.wip, `${s.stage} wip in the table`);
    assert.equal(await cell('entered'), s.entered, `${s.stage} entered in the table`);
    assert.equal(await cell('exited'), s.exited, `${s.stage} exited in the table`);
    assert.equal(await cell('overdue'), s.overdue, `${s.stage} overdue in the table`);
    assert.equal(await cell('p50_days'), daysOf(s.time_in_stage_hours.p50), `${s.stage} p50 in the table`);
    assert.equal(await cell('p90_days'), daysOf(s.time_in_stage_hours.p90), `${s.stage} p90 in the table`);
    const node = page.locator(`#flow .node[data-stage="${s.stage}"]`);
    const metric = async (m) => shown(await node.locator(`[data-metric="${m}"]`).textContent());
    assert.equal(await metric('entered'), s.entered, `${s.stage} entered in the diagram`);
    if (!(await node.getAttribute('class')).includes('terminal')) {
      assert.equal(await metric('wip'), s.wip, `${s.stage} wip in the diagram`);
      assert.equal(await metric('exited'), s.exited, `${s.stage} exited in the diagram`);
      assert.equal(await metric('overdue'), s.overdue, `${s.stage} overdue in the diagram`);
    }
  }
}

before(async () => {
  const port = await startServer();
  base = `http://127.0.0.1:${port}`;
  assert.ok(tokens['IRPO analyst'], 'the demo printed an IRPO analyst token');
  fs.mkdirSync(SHOTS, {recursive: true});
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (dataDir) fs.rmSync(dataDir, {recursive: true, force: true});
});

test('refuses an unknown token, and one that may not see monitoring, at the login form', async () => {
  const page = await newPage({width: 1280, height: 800});
  await page.goto(base + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'ru');
  await page.locator('#token').fill('000000000000.' + '0'.repeat(64));
  await page.keyboard.press('Enter');
  await page.locator('#login-error').filter({hasText: /не принят/}).waitFor();
  assert.equal(await page.isVisible('#dashboard'), false);
  // a UMC lead's token is valid but may not see monitoring: the page says so and stays out
  await page.locator('#token').fill(tokens['UMC lead']);
  await page.keyboard.press('Enter');
  await page.locator('#login-error').filter({hasText: /нет доступа к мониторингу/}).waitFor();
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'no refused token is kept');
  await page.context().close();
});

test('shows the numbers of /api/v1/stats/stages, opens a timeline and follows the live feed', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  assert.equal(await page.textContent('h1'), 'Мониторинг экспертизы предложений');

  // given the page and the API on the same log position, then the figures are the API's
  let stats = await settledStats(page);
  assert.ok(stats.stages.some((s) => s.wip > 0), 'the demo left work in progress to show');
  await expectStagesShown(page, stats);
  // the diagram's working stages run in the definition's order, the outcomes after them
  const nodes = await page.locator('#flow .node').evaluateAll((els) => els.map((e) => e.dataset.stage));
  assert.deepEqual(nodes.slice(0, 6), ['association', 'umc', 'expertise', 'approbation', 'ministry', 'dissemination']);
  assert.deepEqual(nodes.slice(6).sort(), ['rejected', 'scaled', 'withdrawn']);
  assert.deepEqual(await page.locator('#stages-table tbody tr').evaluateAll((els) => els.map((e) => e.dataset.stage)), stats.stages.map((s) => s.stage));

  // the pile-up table by UMC holds the API's grouped WIP, largest first
  const grouped = await settledStats(page, '&group_by=umc');
  const working = grouped.stages.filter((s) => s.groups && s.groups.length);
  const totals = new Map();
  for (const s of working) {
    const terminal = await page.locator(`#flow .node[data-stage="${s.stage}"]`).getAttribute('class');
    if (terminal.includes('terminal')) continue;
    for (const g of s.groups) totals.set(g.group, (totals.get(g.group) || 0) + g.wip);
  }
  const rows = page.locator('#pile-table tbody tr');
  const shownTotals = [];
  for (let i = 0; i < await rows.count(); ++i) {
    const key = await rows.nth(i).getAttribute('data-group');
    const wip = shown(await rows.nth(i).locator('[data-metric="wip"]').textContent());
    assert.equal(wip, totals.get(key), `WIP of ${key}`);
    shownTotals.push(wip);
  }
  assert.ok(shownTotals.length > 0, 'some UMC has work in progress');
  assert.deepEqual(shownTotals, [...shownTotals].sort((a, b) => b - a), 'largest pile first');

  // the discipline table follows /stats/discipline, overdue first. The demo's protocols are seeds
  // 002 and 003 as written, dated 2023 and 2024: the last year's window holds none, and says so;
  // widened to their dates, the table holds the API's rows.
  const defaultFrom = await page.inputValue('#from');
  let w = windowOf(defaultFrom, await page.inputValue('#to'));
  assert.equal((await api('/api/v1/stats/discipline?' + new URLSearchParams(w))).items.length, 0);
  assert.match(await page.textContent('#discipline-table tbody'), /За период поручений нет|No assignments in the window/);
  await page.fill('#from', '2023-06-01');
  await page.click('#filters button[type="submit"]');
  await settledStats(page);
  w = windowOf(await page.inputValue('#from'), await page.inputValue('#to'));
  const discipline = await api('/api/v1/stats/discipline?' + new URLSearchParams(w));
  assert.ok(discipline.items.length > 0, 'the seeds\' assignees are in the widened window');
  const drows = page.locator('#discipline-table tbody tr');
  await page.locator('#discipline-table tbody tr[data-assignee]').first().waitFor();
  assert.equal(await drows.count(), discipline.items.length);
  for (let i = 0; i < discipline.items.length; ++i) {
    const item = discipline.items[i];
    assert.equal(await drows.nth(i).getAttribute('data-assignee'), item.assignee);
    assert.equal(shown(await drows.nth(i).locator('[data-metric="overdue_open"]').textContent()), item.overdue_open);
    assert.equal(shown(await drows.nth(i).locator('[data-metric="assigned"]').textContent()), item.assigned);
  }
  assert.ok(await page.evaluate(() => typeof Chart === 'function' && document.querySelectorAll('canvas').length === 3));
  await page.screenshot({path: path.join(SHOTS, 'dashboard-1280x800.png')});
  await page.screenshot({path: path.join(SHOTS, 'dashboard-1280-full.png'), fullPage: true});

  // when a stage is chosen with the keyboard, its proposals are listed
  const busy = stats.stages.find((s) => s.stage === 'expertise' && s.wip > 0) || stats.stages.find((s) => s.wip > 0);
  await page.focus(`#flow .node[data-stage="${busy.stage}"]`);
  await page.keyboard.press('Enter');
  const first = page.locator('#instances-table tbody tr').first();
  await first.waitFor();
  const id = await first.getAttribute('data-id');

  // and a click on one opens its timeline: every event of its history, and the chain holds
  await first.locator('button').click();
  await page.locator('#chain-status[data-ok]').waitFor();
  assert.equal(await page.getAttribute('#chain-status', 'data-ok'), 'true');
  assert.match(await page.textContent('#chain-status'), /Цепочка хэшей цела/);
  const history = await api(`/api/v1/proposals/${id}/events`);
  const items = page.locator('#timeline li');
  assert.equal(await items.count(), history.events.length);
  for (let i = 0; i < history.events.length; ++i) {
    const e = history.events[i];
    assert.equal(await items.nth(i).getAttribute('data-seq'), String(e.seq));
    assert.equal(await items.nth(i).locator('time').getAttribute('datetime'), e.occurred_at);
  }
  assert.match(await items.first().textContent(), /Предложение подготовлено/);
  await page.locator('#timeline-card').scrollIntoViewIfNeeded();
  await page.screenshot({path: path.join(SHOTS, 'timeline-1280x800.png')});

  // when someone drafts a proposal, the page shows it from the live feed without a reload
  const entered = stats.stages.find((s) => s.stage === 'association').entered;
  const r = await fetch(base + '/api/v1/proposals', {
    method: 'POST',
    headers: {'Authorization': 'Bearer ' + tokens['UMC lead'], 'Content-Type': 'application/json'},
    body: JSON.stringify({workflow: WORKFLOW, payload: {title: 'Проверка живой ленты', topic: 'infrastructure', summary: 'test'}}),
  });
  assert.equal(r.status, 201);
  await page.locator('#live').filter({hasText: /получено событий — [1-9]/}).waitFor();
  for (let i = 0; i < 50; ++i) {
    stats = await settledStats(page);
    if (stats.stages.find((s) => s.stage === 'association').entered === entered + 1) break;
    await page.waitForTimeout(200);
  }
  assert.equal(stats.stages.find((s) => s.stage === 'association').entered, entered + 1);
  await expectStagesShown(page, stats);

  // in English, the same figures under English labels
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'Proposal expertise monitoring');
  assert.match(await page.textContent('#chain-status'), /Hash chain intact/);
  await expectStagesShown(page, await settledStats(page));
  await page.click('#lang');

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('fits a phone screen', async () => {
  const page = await newPage({width: 390, height: 844}, true);
  await logIn(page, tokens['IRPO analyst']);
  await expectStagesShown(page, await settledStats(page));
  // The page itself never scrolls sideways (a phone would shrink it to fit); only the diagram and
  // wide tables do, in their own boxes.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide on a 390px phone`);
  await page.screenshot({path: path.join(SHOTS, 'dashboard-phone.png')});
  await page.screenshot({path: path.join(SHOTS, 'dashboard-phone-full.png'), fullPage: true});
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
