// The workspace in a real browser (issue 18): an industry proposal walked through its whole route
// in the UI alone, each step in the browser of the role that takes it — the association drafts
// and submits, the UMC sends it to expertise, the FUMO, IRPO and the key employer conclude, the
// UMC starts approbation, the UMC and the FTPO record it (with an attached report), the ministry
// approves. Asserted on the way: each one's inbox before and after, the actions offered, a field
// error shown at its field, a version conflict, a document downloaded by whoever may see it.
// Screenshots at 1366x768 and at a phone's width go to SCREENSHOT_DIR. Only 127.0.0.1 is reached.
//
// Environment: EXPERTFLOW_BINARY, CHROMIUM, WEB_DIR (playwright-core), SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {confine, launchBrowser, startServer, stopServer} from './harness.mjs';

const SHOTS = process.env.SCREENSHOT_DIR;
const TITLE = 'Единый отраслевой подход к подготовке операторов';

const deadline = setTimeout(() => {
  console.error('workspace test: out of time');
  if (server) server.kill('SIGKILL');
  process.exit(1);
}, 240_000);
deadline.unref();

let server, dataDir, base, browser;
const tokens = {};

async function call(method, target, token, body, headers = {}) {
  const r = await fetch(base + target, {method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: {Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', ...headers}});
  const text = await r.text();
  return {status: r.status, body: text ? JSON.parse(text) : null};
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'expertflow-workspace-'));
  let port;
  ({server, port} = await startServer(['--data', dataDir, '--threads', '2', '--clock', 'manual',
    '--clock-start', '2026-03-02T09:00:00Z', '--log-level', 'warn'], 60_000));
  base = `http://127.0.0.1:${port}`;
  const admin = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  for (const [who, org, role] of [
    ['assoc', 'assoc-01', 'association_member'], ['umc', 'umc-01', 'umc_lead'],
    ['fumo', 'fumo-14.00.00', 'fumo_expert'], ['irpo', 'irpo', 'irpo_staff'],
    ['employer', 'business-key-01', 'business_expert'], ['ftpo', 'ftpo-nnovgorod', 'ftpo_coordinator'],
    ['ministry', 'ministry', 'ministry_official'], ['other_umc', 'umc-12', 'umc_lead'],
    ['region', 'roiv-52', 'region_official'], ['other_region', 'roiv-31', 'region_official']]) {
    const r = await call('POST', '/api/v1/tokens', admin, {org, role, name: who});
    assert.equal(r.status, 201, JSON.stringify(r.body));
    tokens[who] = r.body.token;
  }
  fs.mkdirSync(SHOTS, {recursive: true});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await stopServer(server);
  if (dataDir) fs.rmSync(dataDir, {recursive: true, force: true});
});

// A browser of `who`, logged in, on the workspace.
async function pageOf(who, viewport = {width: 1366, height: 768}) {
  const context = await browser.newContext({viewport, locale: 'ru-RU', acceptDownloads: true});
  const page = await context.newPage();
  await confine(context, page, base);
  await page.goto(base + '/');
  await page.locator('#token').fill(tokens[who]);
  await page.keyboard.press('Enter');
  // IRPO and the ministry see everything: they start on monitoring, their tasks a tab away.
  await page.waitForFunction(() => !document.getElementById('workspace').hidden || !document.getElementById('dashboard').hidden);
  if (await page.locator('#workspace').isHidden()) await page.locator('#tab-work').click();
  try {
    await page.locator('#inbox-status').filter({hasText: /Ждут действия|ничего не ждёт|Ничто не ждёт/}).waitFor({timeout: 15_000});
  } catch (e) {
    throw new Error(`${who} has no inbox: status "${await page.textContent('#inbox-status')}", ` +
      `login "${await page.textContent('#login-error')}", problems ${JSON.stringify(page.problems)}`);
  }
  return page;
}

// What awaits the caller's organisation (the inbox also lists what it only may do).
const inboxTitles = async (page) => page.locator('#inbox li.awaiting .title').allTextContents();

// Opens the proposal from the inbox and runs `command` with `fill` filling its form.
async function act(page, command, fill = async () => {}, title = TITLE) {
  if (!(await page.locator('#instance-title', {hasText: title}).isVisible())) {
    await page.locator('#inbox li button.link', {hasText: title}).first().click();
    await page.locator('#instance-title', {hasText: title}).waitFor();
  }
  const button = page.locator(`#instance-actions button[data-command="${command}"]`);
  assert.equal(await button.count(), 1, `${command} is offered: ${await page.locator('#instance-actions').textContent()}`);
  const name = (await button.textContent()).trim();
  await button.click();
  const form = page.locator(`form[data-command="${command}"]`);
  await form.waitFor();
  await fill(form);
  await form.locator('button[type="submit"]').click();
  try {
    await form.waitFor({state: 'detached', timeout: 15_000});
    await page.locator('#instance-status', {hasText: `Выполнено: ${name}`}).waitFor({timeout: 15_000});
  } catch (e) {
    throw new Error(`${command} not done: "${await page.locator('#instance-status').textContent()}" ` +
      `${JSON.stringify(page.problems)} ${await form.locator('.form-error').textContent().catch(() => '')}: ${e.message}`);
  }
}

async function closeOf(page) {
  assert.deepEqual(page.problems, []);
  await page.context().close();
}

test('an industry proposal walks its whole route in the UI alone, each step by the role that takes it', async () => {
  // The association drafts. An empty form is refused by the server, the errors at the fields.
  const assoc = await pageOf('assoc');
  assert.deepEqual(await inboxTitles(assoc), [], 'nothing awaits the association yet');
  await assoc.locator('#create-buttons button[data-workflow="industry_proposal"]').click();
  const create = assoc.locator('#create-form-box form');
  await create.locator('button[type="submit"]').click();
  const titleError = create.locator('[data-path="title"] .field-error');
  await titleError.filter({hasText: /./}).waitFor();
  assert.equal(await create.locator('[data-path="title"] input').getAttribute('aria-invalid'), 'true');
  await assoc.screenshot({path: path.join(SHOTS, 'workspace-field-error-1366.png')});
  await create.locator('[data-path="title"] input').fill(TITLE);
  await create.locator('[data-path="topic"] select').selectOption('unified_training_approach');
  await create.locator('[data-path="summary"] textarea').fill('Проект предложений УМЦ при участии ассоциации');
  await create.locator('[data-path="ugps"] textarea').fill('14.00.00');
  await create.locator('button[type="submit"]').click();
  await assoc.locator('#instance-title', {hasText: TITLE}).waitFor();
  assert.deepEqual(await inboxTitles(assoc), [TITLE], 'the draft awaits the association');
  await act(assoc, 'submit_to_umc');
  await assoc.locator('#inbox-status', {hasText: 'ничего не ждёт'}).waitFor();
  await closeOf(assoc);

  // The UMC sends it to expertise. A conflict first: the draft changes while the form is open.
  const umc = await pageOf('umc');
  assert.deepEqual(await inboxTitles(umc), [TITLE]);
  await umc.locator('#inbox li button.link', {hasText: TITLE}).click();
  await umc.locator('#instance-title', {hasText: TITLE}).waitFor();
  const offered = await umc.locator('#instance-actions button').evaluateAll((bs) => bs.map((b) => b.dataset.command));
  assert.ok(offered.includes('send_to_expertise') && offered.includes('return_to_association'), offered.join());
  await umc.locator('#instance-actions button[data-command="update"]').click();
  const id = (await call('GET', '/api/v1/inbox', tokens.umc)).body.items[0].id;
  const edited = await call('POST', `/api/v1/proposals/${id}/commands`, tokens.umc,
    {command: 'update', payload: {summary: 'Уточнённое содержание'}});
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  const update = umc.locator('form[data-command="update"]');
  // An edit starts from what the proposal holds.
  assert.equal(await update.locator('[data-path="title"] input').inputValue(), TITLE);
  assert.equal(await update.locator('[data-path="ugps"] textarea').inputValue(), '14.00.00');
  await update.locator('[data-path="title"] input').fill(TITLE + ' (ред.)');
  await update.locator('button[type="submit"]').click();
  await update.locator('.form-error', {hasText: 'изменили'}).waitFor();
  // What changed meanwhile, and who changed it.
  assert.match(await update.locator('.form-error').textContent(), /С тех пор: Предложение изменено \(Межрегиональный/);
  await umc.screenshot({path: path.join(SHOTS, 'workspace-conflict-1366.png')});
  await update.locator('.form-error button').click();
  await umc.locator('#instance-fields', {hasText: 'Уточнённое содержание'}).waitFor();
  await act(umc, 'send_to_expertise', async (form) => {
    // Only the FUMO of the proposal's УГПС is offered.
    const fumo = form.locator('[data-path="experts.fumo"] select');
    assert.deepEqual(await fumo.locator('option').evaluateAll((os) => os.map((o) => o.value)), ['fumo-14.00.00']);
    await fumo.selectOption(['fumo-14.00.00']);
  });
  // In expertise nothing awaits the UMC; it may still recall the proposal, so it is listed.
  await umc.locator('#inbox-status', {hasText: 'Ничто не ждёт'}).waitFor();
  assert.deepEqual(await inboxTitles(umc), []);
  assert.deepEqual(await umc.locator('#inbox li.may-act .title').allTextContents(), [TITLE]);
  await closeOf(umc);

  // Three conclusions, side by side once given.
  for (const who of ['fumo', 'irpo', 'employer']) {
    const expert = await pageOf(who);
    assert.deepEqual(await inboxTitles(expert), [TITLE], `${who} is awaited`);
    await act(expert, 'submit_conclusion', async (form) => {
      await form.locator('[data-path="verdict"] select').selectOption('approve');
      await form.locator('[data-path="comment"] textarea').fill(`Заключение: ${who}`);
    });
    await expert.locator('#instance-conclusions tbody tr', {hasText: `Заключение: ${who}`}).waitFor();
    if (who === 'employer') {
      assert.equal(await expert.locator('#instance-conclusions tbody tr').count(), 3);
      await expert.screenshot({path: path.join(SHOTS, 'workspace-conclusions-1366.png'), fullPage: true});
    }
    await closeOf(expert);
  }

  // The UMC decides on approbation; the UMC and the FTPO record it, the UMC with its report.
  const umc2 = await pageOf('umc');
  assert.deepEqual(await inboxTitles(umc2), [TITLE]);
  await act(umc2, 'start_approbation', async (form) => {
    await form.locator('[data-path="plan"] textarea').fill('Апробация на базе УМЦ и ФТПО');
  });
  const report = path.join(dataDir, 'approbation-report.txt');
  fs.writeFileSync(report, 'Отчёт об апробации: 24 обучающихся, все этапы пройдены.\n');
  await act(umc2, 'record_approbation', async (form) => {
    await form.locator('[data-path="outcome"] select').selectOption('successful');
    await form.locator('[data-path="report"] textarea').fill('Апробация в УМЦ прошла успешно');
    await form.locator('[data-path="attachments"] input[type="file"]').setInputFiles(report);
  });
  await closeOf(umc2);
  const ftpo = await pageOf('ftpo');
  await act(ftpo, 'record_approbation', async (form) => {
    await form.locator('[data-path="outcome"] select').selectOption('successful');
    await form.locator('[data-path="report"] textarea').fill('Апробация в ФТПО прошла успешно');
  });
  await closeOf(ftpo);

  // The ministry approves, and downloads the UMC's report from the history's conclusions.
  const ministry = await pageOf('ministry');
  assert.deepEqual(await inboxTitles(ministry), [TITLE],
    JSON.stringify((await call('GET', '/api/v1/proposals', tokens.irpo)).body.items.map((v) => [v.state, v.awaiting, v.round, v.fields])));
  await act(ministry, 'approve');
  assert.match(await ministry.locator('#instance-meta').textContent(), /Тиражирование|Dissemination|dissemination/);
  // Where it stands on the workflow's diagram, and its history's chain.
  assert.equal(await ministry.getAttribute('#instance-flow', 'data-stage'), 'dissemination');
  assert.match(await ministry.locator('#instance-flow .node.selected, #instance-flow [aria-pressed="true"]').first().getAttribute('aria-label'), /здесь сейчас/);
  assert.equal(await ministry.getAttribute('#instance-chain', 'data-ok'), 'true');
  const file = ministry.locator('#instance-conclusions button.link', {hasText: 'approbation-report.txt'});
  const [download] = await Promise.all([ministry.waitForEvent('download'), file.click()]);
  assert.equal(download.suggestedFilename(), 'approbation-report.txt');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), fs.readFileSync(report, 'utf8'));
  await ministry.screenshot({path: path.join(SHOTS, 'workspace-instance-1366.png'), fullPage: true});
  await closeOf(ministry);

  // The UMC finds it by a word of its title, in another case; another UMC finds nothing.
  const finder = await pageOf('umc');
  await finder.locator('#find-collection').selectOption('proposals');
  await finder.locator('#find-q').fill('ОПЕРАТОРОВ');
  await finder.locator('#find-form button[type="submit"]').click();
  await finder.locator('#find-status', {hasText: 'Найдено: 1'}).waitFor();
  await finder.locator('#find-results li button.link', {hasText: TITLE}).click();
  await finder.locator('#instance-title', {hasText: TITLE}).waitFor();
  await closeOf(finder);
  const other = await pageOf('other_umc');
  assert.deepEqual(await inboxTitles(other), []);
  await other.locator('#find-q').fill('операторов');
  await other.locator('#find-form button[type="submit"]').click();
  await other.locator('#find-status', {hasText: 'Ничего не найдено'}).waitFor();
  await closeOf(other);
});

test('the workspace fits a phone, and its forms are reached by keyboard with labels read aloud', async () => {
  const phone = await pageOf('assoc', {width: 390, height: 844});
  // By keyboard: to the create button, Enter, and the form's first field has the focus.
  const create = phone.locator('#create-buttons button[data-workflow="industry_proposal"]');
  await create.waitFor();
  for (let i = 0; i < 40 && !(await create.evaluate((b) => b === document.activeElement)); ++i) await phone.keyboard.press('Tab');
  assert.ok(await create.evaluate((b) => b === document.activeElement), 'the create button is reached with Tab');
  await phone.keyboard.press('Enter');
  const form = phone.locator('#create-form-box form');
  await form.waitFor();
  await phone.waitForFunction(() => document.activeElement && document.activeElement.closest('#create-form-box form'));
  assert.equal(await phone.evaluate(() => document.activeElement.closest('[data-path]').dataset.path), 'title',
    await phone.evaluate(() => document.activeElement.outerHTML));
  // Every control of the form has a label, and an error is tied to its control.
  const controls = await form.evaluate((f) => [...f.querySelectorAll('input, select, textarea')].map((c) => ({
    labelled: c.labels && c.labels.length > 0, described: Boolean(document.getElementById(c.getAttribute('aria-describedby') || '-'))})));
  assert.ok(controls.length >= 4);
  for (const c of controls) assert.deepEqual(c, {labelled: true, described: true});
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width} px wide on a 390 px screen`);
  await phone.screenshot({path: path.join(SHOTS, 'workspace-form-phone.png'), fullPage: true});
  // In English, nothing of the workspace is left in Russian but people's own words (lang="ru").
  await phone.locator('#lang').click();
  await phone.locator('#find-title', {hasText: 'Search'}).waitFor();
  const russian = await phone.evaluate(() => {
    const left = [];
    const walker = document.createTreeWalker(document.getElementById('workspace'), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const host = n.parentElement;
      if (!host || host.closest('[lang="ru"]') || host.closest('[hidden]')) continue;
      if (/[А-Яа-яЁё]/.test(n.textContent)) left.push(n.textContent.trim());
    }
    for (const o of document.querySelectorAll('#workspace option')) if (/[А-Яа-яЁё]/.test(o.textContent)) left.push(o.textContent);
    return left;
  });
  assert.deepEqual(russian, []);
  await closeOf(phone);
});

test('a protocol loaded from its JSON gives a region a weekly report, sent with a file and read by the ministry', async () => {
  const DECISION = 'Еженедельно представлять сведения о трудоустройстве выпускников';
  const protocol = {
    number: 'ПР-12', date: '2026-03-01', title: 'Совещание по трудоустройству выпускников', chair: 'А. А. Петров',
    items: [{title: 'О трудоустройстве', decisions: [{text: DECISION, assignees: ['roiv-52'],
      deadline: {recurring: {every: 'week', weekday: 'friday', time: '18:00', until: '2026-06-30'}}}]}],
  };
  const file = path.join(dataDir, 'protocol.json');
  fs.writeFileSync(file, JSON.stringify(protocol));
  const ministry = await pageOf('ministry');
  await ministry.locator('#create-buttons button[data-workflow="protocol"]').click();
  const form = ministry.locator('#create-form-box form');
  await form.locator('#protocol-json').setInputFiles(file);
  // The file is read as the page gets to it.
  await ministry.waitForFunction(() => document.querySelector('#create-form-box [data-path="number"] input').value !== '');
  assert.equal(await form.locator('[data-path="number"] input').inputValue(), 'ПР-12');
  // The items and decisions are a form of their own, the schedule of reports in words.
  const items = form.locator('fieldset.list[data-seg="items"]');
  const first = items.locator(':scope > .entries > .entry').first();
  assert.equal(await first.locator('[data-seg="title"] textarea').inputValue(), 'О трудоустройстве');
  const decision = first.locator('fieldset.list[data-seg="decisions"] > .entries > .entry').first();
  assert.equal(await decision.locator('[data-seg="text"] textarea').inputValue(), DECISION);
  const deadline = decision.locator('fieldset.deadline');
  assert.equal(await deadline.locator('select[data-part="mode"]').inputValue(), 'week');
  assert.equal(await deadline.locator('select[data-part="weekday"]').inputValue(), 'friday');
  assert.equal(await deadline.locator('input[data-part="until"]').inputValue(), '2026-06-30');
  // A second item typed in by hand: a decision for another region, by a date.
  await items.locator(':scope > button.add').click();
  const second = items.locator(':scope > .entries > .entry').nth(1);
  await second.locator('[data-seg="title"] textarea').fill('О плане на год');
  await second.locator('fieldset.list[data-seg="decisions"] > button.add').click();
  const typed = second.locator('fieldset.list[data-seg="decisions"] > .entries > .entry').first();
  await typed.locator('[data-seg="text"] textarea').fill('Представить план на год');
  await typed.locator('[data-seg="assignees"] textarea').fill('roiv-69');
  await typed.locator('select[data-part="mode"]').selectOption('due');
  await typed.locator('input[data-part="date"]').fill('2026-04-01');
  await ministry.screenshot({path: path.join(SHOTS, 'workspace-protocol-form-1366.png'), fullPage: true});
  await form.locator('button[type="submit"]').click();
  await ministry.locator('#instance-title', {hasText: protocol.title}).waitFor({timeout: 10_000}).catch(async (e) => {
    throw new Error(`the protocol was not registered: ${await form.locator('.form-error').textContent()} ${e.message}`);
  });
  // Both decisions became assignments, the typed one with its date.
  const registered = (await call('GET', '/api/v1/protocols?limit=5', tokens.ministry)).body.items[0];
  assert.equal(registered.assignment_states.length, 2, JSON.stringify(registered));
  assert.deepEqual(registered.assignment_states.map((a) => a.assignee).sort(), ['roiv-52', 'roiv-69']);
  await closeOf(ministry);

  // The region sees its assignment with a deadline, and reports with a letter and a file.
  const region = await pageOf('region');
  const item = region.locator('#inbox li.awaiting').first();
  assert.match(await item.locator('.due').textContent(), /Срок: .*осталось дней/);
  const title = (await item.locator('.title').textContent()).trim();
  assert.equal(title, DECISION, 'an assignment is named by its decision');
  const scan = path.join(dataDir, 'report-scan.txt');
  fs.writeFileSync(scan, 'Сведения о трудоустройстве: 87% выпускников трудоустроены.\n');
  await act(region, 'submit_report', async (f) => {
    await f.locator('[data-path="text"] textarea').fill('Сведения за неделю представлены');
    await f.locator('[data-path="letter.number"] input').fill('01-12/345');
    await f.locator('[data-path="letter.date"] input').fill('2026-03-02');
    await f.locator('[data-path="attachments"] input[type="file"]').setInputFiles(scan);
  }, title);
  await closeOf(region);
  const other = await pageOf('other_region');
  assert.deepEqual(await inboxTitles(other), [], 'another region has nothing of it');
  await closeOf(other);

  // The ministry reads the report and downloads its file from the history.
  const reader = await pageOf('ministry');
  await reader.locator('#inbox li button.link', {hasText: title}).first().click();
  await reader.locator('#instance-title', {hasText: title}).waitFor();
  assert.match(await reader.locator('#instance-fields').textContent(), /еженедельно, пятница, 18:00, до 2026-06-30/);
  const link = reader.locator('#instance-history button.link', {hasText: 'report-scan.txt'});
  const [download] = await Promise.all([reader.waitForEvent('download'), link.click()]);
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), fs.readFileSync(scan, 'utf8'));
  const offered = await reader.locator('#instance-actions button').evaluateAll((bs) => bs.map((b) => b.dataset.command));
  assert.ok(offered.includes('accept_report') && offered.includes('return_report'), offered.join());
  await reader.screenshot({path: path.join(SHOTS, 'workspace-report-1366.png'), fullPage: true});
  await closeOf(reader);
});

test('positions of an association are consolidated into a proposal of its UMC, picked by name', async () => {
  const POSITION = 'Позиция ассоциации о практике на предприятиях';
  const assoc = await pageOf('assoc');
  await assoc.locator('#create-buttons button[data-workflow="industry_position"]').click();
  const draft = assoc.locator('#create-form-box form');
  await draft.locator('[data-path="title"] input').fill(POSITION);
  await draft.locator('[data-path="topic"] select').selectOption('unified_training_approach');
  await draft.locator('[data-path="summary"] textarea').fill('Практика на предприятиях отрасли');
  await draft.locator('button[type="submit"]').click();
  await assoc.locator('#instance-title', {hasText: POSITION}).waitFor();
  await act(assoc, 'send_to_umc', async () => {}, POSITION);
  await closeOf(assoc);

  const umc = await pageOf('umc');
  assert.ok((await inboxTitles(umc)).includes(POSITION), 'the position awaits the UMC');
  // Live: a second position sent meanwhile appears in the open inbox without a reload.
  const LATE = 'Позиция, присланная позже';
  const late = await call('POST', '/api/v1/positions', tokens.assoc,
    {workflow: 'industry_position', payload: {title: LATE, topic: 'infrastructure', summary: 'Позже'}});
  assert.equal(late.status, 201, JSON.stringify(late.body));
  assert.equal((await call('POST', `/api/v1/positions/${late.body.id}/commands`, tokens.assoc, {command: 'send_to_umc'})).status, 200);
  await umc.locator('#inbox li.awaiting .title', {hasText: LATE}).waitFor({timeout: 10_000});
  await umc.locator('#create-buttons button[data-workflow="industry_proposal"]').click();
  const form = umc.locator('#create-form-box form');
  const pick = form.locator('[data-path="positions"] select');
  await pick.locator('option', {hasText: POSITION}).waitFor({state: 'attached'});
  await pick.selectOption({label: POSITION});
  await form.locator('[data-path="title"] input').fill('Сводное предложение УМЦ');
  await form.locator('[data-path="topic"] select').selectOption('unified_training_approach');
  await form.locator('[data-path="summary"] textarea').fill('Сведено из позиций ассоциации');
  await form.locator('[data-path="ugps"] textarea').fill('14.00.00');
  await form.locator('button[type="submit"]').click();
  await umc.locator('#instance-title', {hasText: 'Сводное предложение УМЦ'}).waitFor();
  // The position is in the proposal now, and no longer awaits anyone.
  const positions = (await call('GET', '/api/v1/positions', tokens.umc)).body.items.filter((v) => v.fields.title === POSITION);
  assert.equal(positions.length, 1);
  assert.equal(positions[0].state, 'consolidated');
  assert.ok(!(await inboxTitles(umc)).includes(POSITION));
  // The UMC's own draft goes to expertise from drafting.
  await act(umc, 'send_to_expertise', async (f) => {
    await f.locator('[data-path="experts.fumo"] select').selectOption(['fumo-14.00.00']);
  }, 'Сводное предложение УМЦ');
  assert.match(await umc.locator('#instance-meta').textContent(), /Экспертиза/);
  await closeOf(umc);
});
