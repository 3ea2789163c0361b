// What the browser tests share: `expertflow serve` on a free loopback port, headless Chromium,
// and a page confined to the server under test (any other request is recorded and refused).
//
// Environment: EXPERTFLOW_BINARY, CHROMIUM, WEB_DIR (where playwright-core is installed).
import {spawn} from 'node:child_process';
import {createRequire} from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.WEB_DIR, 'package.json'));
const {chromium} = require('playwright-core');

// Starts `expertflow serve ARGS --listen 127.0.0.1:0`; resolves with the process, its port and
// what it printed up to the line that names the port (the demo's tokens come before it).
export function startServer(args, timeoutMs) {
  const server = spawn(process.env.EXPERTFLOW_BINARY, ['serve', ...args, '--listen', '127.0.0.1:0'],
    {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  server.stderr.on('data', (d) => process.stderr.write(d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start:\n' + out)), timeoutMs);
    server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${out}`)));
    server.stdout.on('data', (d) => {
      out += d;
      const listening = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (!listening) return;
      clearTimeout(timer);
      resolve({server, port: Number(listening[1]), out});
    });
  });
}

// Stops it gracefully, killing it after ten seconds.
export async function stopServer(server) {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (server.exitCode === null) server.kill('SIGKILL');
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server'],
  });
}

// Lets the page reach only `base` (and data: and blob: URLs); anything else goes to
// page.problems and is refused, and so does a script error.
export async function confine(context, page, base) {
  page.problems = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || (url.hostname === '127.0.0.1' && url.port === new URL(base).port)) return route.continue();
    page.problems.push('request to ' + url.href);
    return route.abort();
  });
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
}
