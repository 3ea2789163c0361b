// Issue 18: the inbox's first render, timed in the browser. Starts `expertflow serve --demo` on
// a free loopback port, logs in as the demo's UMC lead in headless Chromium ROUNDS times (a new
// browser context each, so nothing is cached), and reads the page's own clocks: Navigation
// Timing for the page, Resource Timing for GET /api/v1/inbox, and the time from the start of
// navigation until the inbox is drawn. Prints each round and the medians.
// Usage: node benchmarks/tools/inbox_render.mjs [ROUNDS]  (BINARY=build/app/expertflow,
// CHROMIUM=/usr/bin/chromium; playwright-core from web/node_modules)
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ROUNDS = Number(process.argv[2] || 5);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(root, 'web/package.json'));
const {chromium} = require('playwright-core');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'expertflow-inbox-'));
const server = spawn(process.env.BINARY || path.join(root, 'build/app/expertflow'),
  ['serve', '--demo', '--data', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
let out = '';
const port = await new Promise((resolve, reject) => {
  server.on('exit', (code) => reject(new Error('the server exited: ' + code + out)));
  server.stdout.on('data', (d) => {
    out += d;
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) resolve(m[1]);
  });
});
const token = /UMC lead \(.*?\): (\S+)/.exec(out)[1];
const base = `http://127.0.0.1:${port}`;
const browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox']});
const rounds = [];
for (let i = 0; i < ROUNDS; ++i) {
  const context = await browser.newContext({viewport: {width: 1366, height: 768}});
  await context.addInitScript((t) => sessionStorage.setItem('expertflow.token', t), token);
  const page = await context.newPage();
  await page.goto(base + '/');
  await page.locator('#inbox li').first().waitFor();
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const inbox = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/inbox'))[0];
    return {items: document.querySelectorAll('#inbox li').length, drawn: performance.now(),
      dom_content_loaded: nav.domContentLoadedEventEnd, inbox_request: inbox.duration, inbox_bytes: inbox.transferSize || inbox.encodedBodySize};
  });
  rounds.push(r);
  console.log(`round ${i + 1}: inbox of ${r.items} drawn at ${r.drawn.toFixed(0)} ms (page ready ${r.dom_content_loaded.toFixed(0)} ms; GET /api/v1/inbox ${r.inbox_request.toFixed(0)} ms, ${r.inbox_bytes} bytes)`);
  await context.close();
}
const median = (k) => rounds.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rounds.length / 2)];
console.log(`median: drawn at ${median('drawn').toFixed(0)} ms, GET /api/v1/inbox ${median('inbox_request').toFixed(0)} ms`);
await browser.close();
server.kill('SIGTERM');
fs.rmSync(dataDir, {recursive: true, force: true});
