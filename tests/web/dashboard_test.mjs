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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {confine, launchBrowser, startServer as serve, stopServer} from './harness.mjs';

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

async function startServer() {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'expertflow-dashboard-'));
  const started = await serve(['--demo', '--data', dataDir, '--threads', '2', '--log-level', 'warn'], 150_000);
  server = started.server;
  for (const [, who, token] of started.out.matchAll(/^\s+(.+?) \(.*?\): (\S+)$/gm)) tokens[who] = token;
  return started.port;
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
  // Only the server under test may be reached; anything else is recorded and refused.
  await confine(context, page, base);
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push('console: ' + m.text()); });
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
    if (s.terminal) {
      // an outcome: what entered it finished; nothing there is in work or overdue
      assert.equal(s.wip, 0, `${s.stage} is an outcome: the API counts no WIP there`);
      assert.equal(await row.locator('[data-metric="wip"]').textContent(), '—', `${s.stage} shows no WIP`);
      assert.equal(await row.locator('[data-metric="overdue"]').textContent(), '—', `${s.stage} shows no overdue`);
      assert.equal(await cell('entered'), s.entered, `${s.stage} finished in the table`);
      const node = page.locator(`#flow .node[data-stage="${s.stage}"]`);
      assert.match(await node.getAttribute('class'), /terminal/);
      assert.equal(await node.locator('[data-metric="wip"]').count(), 0, `${s.stage}'s node shows no WIP`);
      assert.doesNotMatch(await node.getAttribute('aria-label'), /в работе|WIP/);
      assert.equal(shown(await node.locator('[data-metric="entered"]').textContent()), s.entered);
      continue;
    }
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
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await stopServer(server);
  if (dataDir) fs.rmSync(dataDir, {recursive: true, force: true});
});

test('refuses an unknown token at the login form; a UMC lead gets the workspace and no monitoring', async () => {
  const page = await newPage({width: 1280, height: 800});
  await page.goto(base + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'ru');
  await page.locator('#token').fill('000000000000.' + '0'.repeat(64));
  await page.keyboard.press('Enter');
  await page.locator('#login-error').filter({hasText: /не принят/}).waitFor();
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'no refused token is kept');
  // a UMC lead's token is valid but may not see monitoring: the workspace, without its tab
  await page.locator('#token').fill(tokens['UMC lead']);
  await page.keyboard.press('Enter');
  await page.locator('#inbox-status').filter({hasText: /Ждут действия|ничего не ждёт/}).waitFor();
  assert.equal(await page.isVisible('#workspace'), true);
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.isVisible('#tab-monitor'), false);
  await page.context().close();
});

test('shows the numbers of /api/v1/stats/stages, opens a timeline and follows the live feed', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  assert.equal(await page.textContent('h1'), 'Экспертиза предложений и поручения');

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
  assert.equal(await page.textContent('h1'), 'Proposal expertise and protocol assignments');
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

const CYRILLIC = /[\u0400-\u04ff]/;

// Every place a stage's name is shown, and whether all of it is seen: the diagram's nodes (inside
// their node and inside the unscrolled card), the table's rows, the bars of time in stage (every
// tick drawn, in the room of its axis), and the charts' legends (every item inside its chart).
async function stageLabelProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
    const scroller = document.querySelector('.flow-scroll');
    if (scroller.scrollWidth > scroller.clientWidth) problems.push(`the diagram scrolls: ${scroller.scrollWidth} > ${scroller.clientWidth}`);
    const visible = scroller.getBoundingClientRect();
    for (const node of document.querySelectorAll('#flow .node')) {
      const name = node.querySelector('.name');
      const box = name.getBoundingClientRect();
      if (!name.textContent.trim()) problems.push(`${node.dataset.stage}: no name`);
      if (!inside(box, node.getBoundingClientRect())) problems.push(`${node.dataset.stage}: name outside its node`);
      if (!inside(box, visible) || box.right > window.innerWidth) problems.push(`${node.dataset.stage}: name outside the window`);
      if (name.scrollWidth > name.clientWidth + 1) problems.push(`${node.dataset.stage}: name cut`);
    }
    for (const th of document.querySelectorAll('#stages-table tbody th, #pile-table thead th')) {
      const box = th.getBoundingClientRect();
      const area = th.closest('.table-scroll').getBoundingClientRect();
      if (!inside(box, {left: area.left, right: area.right, top: -1e9, bottom: 1e9})) problems.push(`table label "${th.textContent}" scrolled out of sight`);
    }
    const time = Chart.getChart('time-chart');
    const axis = time.scales.y;
    if (axis.ticks.length !== time.data.labels.length) problems.push(`time chart: ${axis.ticks.length} of ${time.data.labels.length} stage labels drawn`);
    const ctx = time.ctx;
    ctx.font = Chart.helpers.toFont(axis.options.ticks.font).string;
    for (const label of time.data.labels) {
      const width = ctx.measureText(label).width;
      if (width > axis.width) problems.push(`time chart: "${label}" is ${width}px in an axis of ${axis.width}px`);
    }
    for (const id of ['throughput-chart', 'pile-chart']) {
      const c = Chart.getChart(id);
      const items = c.legend.legendItems.map((i) => i.text);
      const expected = c.data.datasets.map((d) => d.label);
      if (JSON.stringify(items) !== JSON.stringify(expected)) problems.push(`${id}: legend ${items} is not ${expected}`);
      for (const [i, box] of c.legend.legendHitBoxes.entries()) {
        if (box.left < 0 || box.left + box.width > c.width || box.top < 0 || box.top + box.height > c.height) problems.push(`${id}: legend item ${items[i]} outside the chart`);
      }
    }
    return problems;
  });
}

// Text on the page in Russian: what is visible, the accessible names, the options, the title,
// and what the charts draw. People's own words (a proposal's title) are marked lang="ru" and are
// left out; they are returned apart so the test can see what they are.
async function russianLeft(page) {
  return page.evaluate((re) => {
    const cyrillic = new RegExp(re);
    const left = [], ownWords = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!cyrillic.test(n.textContent) || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
      if (el.closest('[lang="ru"]')) ownWords.push(el.closest('[lang="ru"]').id || el.closest('[lang="ru"]').tagName);
      else left.push(n.textContent.trim());
    }
    for (const el of document.querySelectorAll('[aria-label], [title], option')) {
      if (el.closest('[lang="ru"]')) continue;
      for (const text of [el.getAttribute('aria-label'), el.getAttribute('title'), el.tagName === 'OPTION' ? el.textContent : '']) {
        if (text && cyrillic.test(text)) left.push(text);
      }
    }
    if (cyrillic.test(document.title)) left.push(document.title);
    for (const c of Object.values(Chart.instances)) {
      for (const text of [...c.data.labels, ...c.data.datasets.map((d) => d.label)]) {
        if (cyrillic.test(String(text))) left.push(String(text));
      }
    }
    return {left, ownWords};
  }, CYRILLIC.source);
}

async function chooseWorkflow(page, workflow, groupBy) {
  await page.selectOption('#workflow', workflow);
  if (groupBy) await page.selectOption('#group-by', groupBy);
  await page.click('#filters button[type="submit"]');
  for (let i = 0; i < 100; ++i) {
    const ready = await page.evaluate((w) => {
      const status = document.querySelector('#status').textContent;
      return !/Загрузка|Loading/.test(status) && document.querySelector('#flow').dataset.workflow === w;
    }, workflow);
    if (ready) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`${workflow} never loaded`);
}

async function settledFor(page, workflow, groupBy) {
  const from = await page.inputValue('#from'), to = await page.inputValue('#to');
  const w = windowOf(from, to);
  const query = new URLSearchParams({workflow, from: w.from, to: w.to, ...(groupBy ? {group_by: groupBy} : {})});
  for (let i = 0; i < 100; ++i) {
    const stats = await api('/api/v1/stats/stages?' + query);
    const seq = await page.getAttribute('#flow', 'data-as-of-seq');
    const status = await page.textContent('#status');
    if (seq === String(stats.as_of_seq) && !/Загрузка|Loading/.test(status)) return stats;
    await page.waitForTimeout(200);
  }
  assert.fail('the page never caught up with the API');
}

test('counts no outcome as work in progress and says overdue is as of now', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  const stats = await settledStats(page);
  const outcomes = stats.stages.filter((s) => s.terminal);
  assert.deepEqual(outcomes.map((s) => s.stage).sort(), ['rejected', 'scaled', 'withdrawn']);
  assert.ok(outcomes.some((s) => s.entered > 0), 'the demo finished some proposals in the window');
  await expectStagesShown(page, stats);
  // the diagram's and the table's WIP are the working stages' alone
  const wipShown = await page.locator('#flow [data-metric="wip"]').evaluateAll((els) => els.map((e) => e.closest('.node').dataset.stage));
  assert.deepEqual(wipShown, stats.stages.filter((s) => !s.terminal).map((s) => s.stage));
  // overdue is what is overdue now, and the page says so where it counts it
  assert.ok(stats.overdue_as_of, 'the API says when overdue was counted');
  assert.equal(await page.textContent('#stages-table thead [data-i18n="col.overdue"]'), 'Просрочено сейчас');
  assert.match(await page.textContent('#stages-caption'), /просрочено — на \d\d\.\d\d\.\d{4}/);
  assert.match(await page.textContent('.legend'), /просрочено сейчас/);
  assert.match(await page.getAttribute('#flow .node[data-stage="expertise"]', 'aria-label'), /просрочено сейчас/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('shows every stage label at 1280 px, in Russian and in English', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  await settledStats(page);
  assert.deepEqual(await stageLabelProblems(page), []);
  const names = await page.locator('#flow .node .name').allTextContents();
  assert.deepEqual(names.slice(0, 6), ['Ассоциация', 'УМЦ', 'Экспертиза', 'Апробация', 'Министерство', 'Тиражирование']);
  const time = await page.evaluate(() => Chart.getChart('time-chart').data.labels);
  assert.deepEqual(time, names.slice(0, 6), 'time in stage for every working stage');
  await page.locator('.charts').screenshot({path: path.join(SHOTS, 'charts-1280.png')});
  await page.locator('#pile-title').locator('..').screenshot({path: path.join(SHOTS, 'pile-1280.png')});
  await page.click('#lang');
  await settledStats(page);
  assert.deepEqual(await stageLabelProblems(page), []);
  assert.equal(await page.textContent('#flow .node[data-stage="dissemination"] .name'), 'Dissemination');
  await page.locator('#flow-title').locator('..').screenshot({path: path.join(SHOTS, 'flow-en-1280.png')});
  await page.locator('.charts').screenshot({path: path.join(SHOTS, 'charts-en-1280.png')});
  await page.click('#lang');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('counts throughput as the proposals finished, per week named by its date', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  const stats = await settledStats(page);
  const finished = stats.stages.filter((s) => s.terminal).reduce((n, s) => n + s.entered, 0);
  assert.ok(finished > 0, 'the demo finished some proposals');
  assert.equal(stats.finished.total, finished, 'the API\'s finished are the outcomes\' entries');
  const chart = await page.evaluate(() => {
    const c = Chart.getChart('throughput-chart');
    return {labels: c.data.labels, sets: c.data.datasets.map((d) => ({label: d.label, data: d.data}))};
  });
  // the bars add up to the finished, stacked by outcome
  assert.deepEqual(chart.sets.map((d) => d.label).sort(), ['Отклонено', 'Отозвано', 'Тиражировано']);
  assert.equal(chart.sets.flatMap((d) => d.data).reduce((a, b) => a + b, 0), finished);
  // each week is a date (its Monday), and the window's every week is there
  for (const label of chart.labels) assert.match(label, /^\d\d\.\d\d\.\d\d$/);
  const monday = (label) => {
    const [d, m, y] = label.split('.').map(Number);
    return new Date(Date.UTC(2000 + y, m - 1, d)).getUTCDay() === 1;
  };
  assert.ok(chart.labels.every(monday), 'weeks start on Mondays');
  assert.ok(chart.labels.length >= 52 && chart.labels.length <= 54, `${chart.labels.length} weeks in a year`);
  for (const w of stats.finished.per_week) {
    const [y, m, d] = w.week_start.split('-');
    const i = chart.labels.indexOf(`${d}.${m}.${y.slice(2)}`);
    assert.ok(i >= 0, `week ${w.week_start} is on the chart`);
    assert.equal(chart.sets.reduce((n, s) => n + s.data[i], 0), w.finished, `finished in the week of ${w.week_start}`);
  }
  assert.match(await page.textContent('#throughput-title'), /Завершено предложений по неделям/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('switching workflow clears the old timeline, retitles the panels, and groups assignments by region', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  await page.fill('#from', '2023-06-01');
  await page.click('#filters button[type="submit"]');
  const stats = await settledStats(page);
  // given a proposal's timeline open
  const busy = stats.stages.find((s) => !s.terminal && s.wip > 0);
  await page.click(`#flow .node[data-stage="${busy.stage}"]`);
  await page.locator('#instances-table tbody tr button').first().click();
  await page.locator('#chain-status[data-ok="true"]').waitFor();
  assert.ok(await page.locator('#timeline li').count() > 0);
  const before = {};
  for (const id of ['flow-title', 'throughput-title', 'pile-title', 'col-instance']) before[id] = await page.textContent('#' + id);
  assert.match(before['flow-title'], /Отраслевое|отрасл/i);

  // when the analyst turns to protocol assignments
  await chooseWorkflow(page, 'protocol_assignment');

  // then the proposal's timeline is gone, and every panel names assignments
  assert.equal(await page.isVisible('#timeline-card'), false);
  assert.equal(await page.locator('#timeline li').count(), 0);
  assert.equal(await page.textContent('#timeline-title'), '');
  assert.equal(await page.isVisible('#instances'), false);
  const after = {};
  for (const id of Object.keys(before)) {
    after[id] = await page.textContent('#' + id);
    assert.notEqual(after[id], before[id], `${id} is retitled`);
    assert.doesNotMatch(after[id], /предложен/i, `${id} no longer speaks of proposals`);
  }
  assert.match(after['flow-title'], /Поручение по протоколу/);
  assert.match(after['throughput-title'], /поручений/);
  assert.match(after['pile-title'], /поручения/);
  assert.equal(after['col-instance'], 'Поручение');
  assert.deepEqual(await page.locator('#flow .node').evaluateAll((els) => els.map((e) => e.dataset.stage)), ['in_progress', 'review', 'done', 'cancelled']);

  // assignments are grouped by region or federal district, never by UMC or industry
  assert.deepEqual(await page.locator('#group-by option').evaluateAll((els) => els.map((e) => e.value)), ['region', 'federal_district']);
  assert.equal(await page.inputValue('#group-by'), 'region');
  let grouped = await settledFor(page, 'protocol_assignment', 'region');
  const regions = await api('/api/v1/regions');
  const regionName = new Map(regions.items.map((r) => [r.code, r.name]));
  const wipBy = (g) => {
    const m = new Map();
    for (const s of g.stages.filter((x) => !x.terminal)) for (const x of s.groups) m.set(x.group, (m.get(x.group) || 0) + x.wip);
    return m;
  };
  let expected = wipBy(grouped);
  assert.ok([...expected.keys()].filter((k) => k !== 'none').length > 1, 'assignments spread over regions');
  const pileRows = async () => page.locator('#pile-table tbody tr').evaluateAll((els) => els.map((e) => ({
    key: e.dataset.group, name: e.querySelector('th').textContent, wip: e.querySelector('[data-metric="wip"]').textContent})));
  let rows = await pileRows();
  assert.ok(rows.length > 1);
  for (const r of rows) {
    assert.equal(shown(r.wip), expected.get(r.key), `WIP of region ${r.key}`);
    if (r.key !== 'none') assert.equal(r.name, regionName.get(r.key), `region ${r.key} by name`);
  }
  await page.screenshot({path: path.join(SHOTS, 'assignments-by-region-1280-full.png'), fullPage: true});
  await page.selectOption('#group-by', 'federal_district');
  await page.click('#filters button[type="submit"]');
  grouped = await settledFor(page, 'protocol_assignment', 'federal_district');
  expected = wipBy(grouped);
  await page.locator('#pile-table tbody tr[data-group="central"]').waitFor();
  rows = await pileRows();
  assert.ok(rows.length > 1);
  for (const r of rows) assert.equal(shown(r.wip), expected.get(r.key), `WIP of district ${r.key}`);
  assert.ok(rows.every((r) => r.key === 'none' || /^[a-z_]+$/.test(r.key)) && rows.some((r) => r.name === 'Центральный'));
  assert.deepEqual(await stageLabelProblems(page), []);

  // and back to industry proposals: UMC and industry are offered again
  await chooseWorkflow(page, 'industry_proposal');
  assert.deepEqual(await page.locator('#group-by option').evaluateAll((els) => els.map((e) => e.value)), ['umc', 'industry', 'region', 'federal_district']);
  assert.equal(await page.textContent('#flow-title'), before['flow-title']);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('highlights missed periods in the discipline table as well as open overdue', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  await page.fill('#from', '2023-06-01');
  await page.click('#filters button[type="submit"]');
  await settledStats(page);
  const w = windowOf(await page.inputValue('#from'), await page.inputValue('#to'));
  const discipline = await api('/api/v1/stats/discipline?' + new URLSearchParams(w));
  await page.locator('#discipline-table tbody tr[data-assignee]').first().waitFor();
  const rows = await page.locator('#discipline-table tbody tr').evaluateAll((els) => els.map((e) => ({
    assignee: e.dataset.assignee, cls: e.className, missed: e.querySelector('.badge.missed') !== null,
    overdue: e.querySelector('.badge:not(.missed)') !== null,
    missedCell: e.querySelector('[data-metric="periods_missed"]').className})));
  assert.equal(rows.length, discipline.items.length);
  const madeUp = discipline.items.filter((a) => a.periods_missed > 0 && a.overdue_open === 0);
  assert.ok(madeUp.length > 0, 'some assignee missed periods and has nothing overdue now');
  for (const [i, a] of discipline.items.entries()) {
    const r = rows[i];
    assert.equal(r.assignee, a.assignee);
    assert.equal(r.cls.includes('missed-row'), a.periods_missed > 0, `${a.assignee} missed ${a.periods_missed} periods`);
    assert.equal(r.missed, a.periods_missed > 0);
    assert.equal(r.missedCell.includes('missed'), a.periods_missed > 0);
    assert.equal(r.cls.includes('overdue-row'), a.overdue_open > 0, `${a.assignee} has ${a.overdue_open} overdue`);
    assert.equal(r.overdue, a.overdue_open > 0);
  }
  // a made-up row is marked apart from an overdue one: another colour
  const colour = (assignee) => page.$eval(`#discipline-table tr[data-assignee="${assignee}"]`, (e) => getComputedStyle(e).backgroundColor);
  const white = 'rgba(0, 0, 0, 0)';
  assert.notEqual(await colour(madeUp[0].assignee), white);
  const overdue = discipline.items.find((a) => a.overdue_open > 0);
  if (overdue) assert.notEqual(await colour(overdue.assignee), await colour(madeUp[0].assignee));
  await page.locator(`#discipline-table tr[data-assignee="${madeUp[0].assignee}"]`).scrollIntoViewIfNeeded();
  await page.screenshot({path: path.join(SHOTS, 'discipline-1280x800.png')});
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('in English, translates everything, industries and regions included', async () => {
  const page = await newPage({width: 1280, height: 800});
  await logIn(page, tokens['IRPO analyst']);
  await page.fill('#from', '2023-06-01');
  await page.selectOption('#group-by', 'industry');
  await page.click('#filters button[type="submit"]');
  const stats = await settledFor(page, WORKFLOW, 'industry');
  // with a stage's proposals listed and one's timeline open
  const busy = stats.stages.find((s) => !s.terminal && s.wip > 0);
  await page.click(`#flow .node[data-stage="${busy.stage}"]`);
  await page.locator('#instances-table tbody tr button').first().click();
  await page.locator('#chain-status[data-ok="true"]').waitFor();
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await settledFor(page, WORKFLOW, 'industry');
  let russian = await russianLeft(page);
  assert.deepEqual(russian.left, [], 'no Russian left on the English page');
  // what stays Russian is marked so: proposals' titles as people wrote them (the list's buttons,
  // the timeline's heading) and the language toggle, which names Russian in Russian
  assert.ok(russian.ownWords.length > 0 && russian.ownWords.every((w) => w === 'BUTTON' || w === 'SPAN' || w === 'lang'), `only people's own words stay Russian: ${russian.ownWords}`);
  // industries by their English names, not their codes
  const industries = await page.locator('#pile-table tbody tr').evaluateAll((els) => els.map((e) => [e.dataset.group, e.querySelector('th').textContent]));
  assert.ok(industries.length > 0);
  for (const [key, name] of industries) {
    assert.notEqual(name, key, `industry ${key} is named`);
    assert.doesNotMatch(name, CYRILLIC);
  }
  await page.screenshot({path: path.join(SHOTS, 'dashboard-en-1280-full.png'), fullPage: true});
  // and the same for assignments by region, the discipline table with them
  await chooseWorkflow(page, 'protocol_assignment', 'region');
  await settledFor(page, 'protocol_assignment', 'region');
  await page.locator('#discipline-table tbody tr[data-assignee]').first().waitFor();
  russian = await russianLeft(page);
  assert.deepEqual(russian.left, [], 'no Russian left on the English page of assignments');
  assert.deepEqual(await stageLabelProblems(page), []);
  await page.screenshot({path: path.join(SHOTS, 'assignments-en-1280-full.png'), fullPage: true});
  await page.click('#lang');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
