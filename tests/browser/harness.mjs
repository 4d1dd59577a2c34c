// What the browser tests in this folder share: the environment, check(), a camstream on a free
// loopback port, a watcher for what a page must never do, and the PASS/FAIL harness around a
// test's run(). What one test alone needs stays in that test.
//
// Environment: CAMSTREAM_BIN (required), CHROMIUM (default /usr/bin/chromium); playwright-core
// through the normal module lookup or NODE_PATH (the CMake tests install it into the build tree).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import readline from 'node:readline';

// require() honours NODE_PATH, ES module imports do not.
const require = createRequire(import.meta.url);
export const { chromium } = require('playwright-core');

export const camstreamBin = process.env.CAMSTREAM_BIN;
export const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';
if (!camstreamBin) {
  console.error('CAMSTREAM_BIN is not set');
  process.exit(2);
}

// Chromium flags that keep a browser to the loopback server: any other host name fails to
// resolve, and Chromium's own background traffic (updates, sync, QUIC probes) is off.
export const offlineChromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A users file (htpasswd -B) for --users, from `pairs` like ['alice:a-pass', 'bob:b-pass'].
export function writeUsersFile(file, pairs) {
  fs.writeFileSync(file, pairs.map(
    (pair) => execFileSync('htpasswd', ['-nbB', ...pair.split(':')]).toString().trim()).join('\n') + '\n');
}

// Starts camstream with the test source on 127.0.0.1. Port 0 lets the kernel choose a free port,
// which camstream prints in its "listening on" line; a test that restarts a server on the same
// port passes that port. `listening` resolves with { base, port }; `log` holds both output
// streams, for the failure report and for checks on what reaches the log.
export function startServer(args = [], { port = 0 } = {}) {
  const child = spawn(camstreamBin, ['--source', 'test', '--bind', '127.0.0.1', '--port', String(port),
                                     '--interval', '100', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      const match = /listening on (https?:\/\/127\.0\.0\.1:(\d+)\/)/.exec(line);
      if (match) resolve({ base: match[1], port: Number(match[2]) });
    });
    exited.then(({ code, signal }) => reject(new Error(
      `camstream exited before listening (code ${code}, signal ${signal}):\n${log.join('\n')}`)));
    setTimeout(() => reject(new Error('camstream did not print "listening on" within 10 s')), 10_000).unref();
  });
  // SIGTERM must end the server gracefully with exit code 0; SIGKILL after 5 s so a hung server
  // cannot hold the test. Stopping a server that has exited already is a no-op.
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  return { child, log, exited, listening, stop };
}

// Records what a page must never do: ask another origin (or a path outside `base`) for anything,
// or log an error; and, for tests that check the control protocol, every WebSocket message it
// sends and receives. While `watch.restarting` is set (the server is being restarted), the
// refused reconnects are expected and not counted as errors.
export function watchPage(page, base) {
  const watch = { sockets: 0, sent: [], received: [], foreign: [], errors: [], restarting: false };
  const wsBase = base.replace(/^http/, 'ws');
  page.on('request', (request) => { if (!request.url().startsWith(base)) watch.foreign.push(request.url()); });
  page.on('websocket', (socket) => {
    watch.sockets += 1;
    if (!socket.url().startsWith(wsBase)) watch.foreign.push(socket.url());
    socket.on('framesent', ({ payload }) => { try { watch.sent.push(JSON.parse(payload)); } catch {} });
    socket.on('framereceived', ({ payload }) => { try { watch.received.push(JSON.parse(payload)); } catch {} });
  });
  page.on('pageerror', (error) => watch.errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (watch.restarting && /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(message.text())) return;
    watch.errors.push(message.text());
  });
  return watch;
}

// Runs a test's `run()` and ends the process: exit 0 after PASS, 1 after FAIL. A watchdog fails
// the test after `budgetMs`, before ctest's own TIMEOUT would, so that the servers are killed and
// the reason is printed. On failure the last `logLines` lines of each server's log are shown.
// `servers()` is asked each time, since a test may start or replace servers while it runs;
// `cleanup()` closes the test's own things (browser, proxies, temporary files) before the
// servers still running are stopped.
export async function runTest({ budgetMs, run, servers = () => [], cleanup = async () => {}, logLines = 30 }) {
  const running = () => servers().filter(Boolean);
  const watchdog = setTimeout(() => {
    console.error(`FAIL: test took longer than ${budgetMs} ms`);
    for (const server of running()) server.child.kill('SIGKILL');
    process.exit(1);
  }, budgetMs);

  let failed = false;
  try {
    await run();
    console.log('PASS');
  } catch (error) {
    failed = true;
    console.error(`FAIL: ${error.stack || error}`);
    for (const server of running()) {
      console.error(`camstream output (last lines):\n${server.log.slice(-logLines).join('\n')}`);
    }
  } finally {
    await cleanup();
    for (const server of running()) await server.stop();
    clearTimeout(watchdog);
  }
  process.exit(failed ? 1 : 0);
}
