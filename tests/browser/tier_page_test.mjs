// The viewer page behind a tier of relays (docs/install.md, "More viewers than one machine"):
// an origin camstream, two relay camstreams and HAProxy (balance leastconn) in front, all on
// loopback. The page is loaded through HAProxy; the relay serving its picture is killed
// (SIGKILL), and the picture must play again, through HAProxy from the other relay, within
// RESUME_LIMIT_MS, without a reload.
//
// Twice: first the page's picture and its control WebSocket sit on different relays (leastconn
// spreads the page's two connections), so the control connection stays open and only the
// picture's stream ends (Chromium fires no event when a multipart <img> stream ends); then,
// with the killed relay started again, the relay left holds both, and both end.
//
// Environment: CAMSTREAM_BIN (required), CHROMIUM (default /usr/bin/chromium), HAPROXY
// (default: haproxy on the PATH, else /usr/sbin/haproxy). A missing HAProxy is a failure.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { check, chromium, chromiumBin, offlineChromiumArgs, runTest, sleep, startServer, watchPage } from './harness.mjs';

const TEST_BUDGET_MS = 100_000;
// The page notices a stalled picture after 5 s without a change (checked once a second),
// retries after 1 s (about 7 s in all); HAProxy marks the dead relay down within a second.
const RESUME_LIMIT_MS = 15_000;

function haproxyBinary() {
  if (process.env.HAPROXY) return process.env.HAPROXY;
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin'])) {
    const candidate = path.join(dir, 'haproxy');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error('haproxy is not installed (packaging/install-deps.sh installs it)');
}

// The configuration of bench/tier.py and tests/integration/test_tier.py.
function haproxyConfig(port, relayPorts) {
  return `global
    maxconn 200
defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
frontend viewers
    bind 127.0.0.1:${port}
    default_backend relays
backend relays
    balance leastconn
    option httpchk GET /api/status
    default-server check inter 500ms fall 2 rise 1
${relayPorts.map((p, i) => `    server relay${i + 1} 127.0.0.1:${p}`).join('\n')}
`;
}

// HAProxy on a port it is given; it cannot print the port it got, so a free one is taken from
// the kernel first (and the start is retried if another process took it meanwhile).
async function startHaproxy(workdir, relayPorts) {
  const net = await import('node:net');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await new Promise((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address();
        probe.close(() => resolve(free));
      });
    });
    const config = path.join(workdir, 'haproxy.cfg');
    fs.writeFileSync(config, haproxyConfig(port, relayPorts));
    const child = spawn(haproxyBinary(), ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = [];
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => log.push(line));
    }
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const answer = await fetch(`http://127.0.0.1:${port}/api/status`);
        if (answer.ok) {
          const stop = async () => {
            if (child.exitCode !== null || child.signalCode !== null) return exited;
            child.kill('SIGTERM');
            return exited;
          };
          return { child, log, port, stop };
        }
      } catch {}
      await sleep(100);
    }
    child.kill('SIGKILL');
    await exited;
    console.log(`haproxy did not answer on ${port} (attempt ${attempt + 1}):\n${log.join('\n')}`);
  }
  throw new Error('haproxy did not start');
}

// In-page: a hash of the pixels the <img> shows now (null before its first frame).
function installPageHelpers() {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  window.__pixelHash = () => {
    const img = document.getElementById('stream');
    if (!img || !img.naturalWidth) return null;
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    context.drawImage(img, 0, 0);
    const pixels = new Uint32Array(context.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    let hash = 0x811c9dc5;
    for (let i = 0; i < pixels.length; i++) hash = Math.imul(hash ^ pixels[i], 16777619);
    return `${canvas.width}x${canvas.height}:${hash >>> 0}`;
  };
}

async function statusOf(port) {
  try {
    const answer = await fetch(`http://127.0.0.1:${port}/api/status`);
    return answer.ok ? await answer.json() : null;
  } catch {
    return null;
  }
}

// Waits until the picture has changed `changes` times in a row, polling every 50 ms; returns
// the milliseconds that took, or throws after `limitMs`.
async function waitForPlayingPicture(page, changes, limitMs, what) {
  const started = Date.now();
  let last = await page.evaluate(() => window.__pixelHash());
  let seen = 0;
  while (Date.now() - started < limitMs) {
    await sleep(50);
    const now = await page.evaluate(() => window.__pixelHash());
    if (now !== null && now !== last) {
      seen += 1;
      if (seen >= changes) return Date.now() - started;
    }
    last = now;
  }
  throw new Error(`${what}: the picture did not change ${changes} times within ${limitMs} ms`);
}

// Which relay (index) counts the page's picture as its viewer; the page is the only viewer.
async function relayServingPicture(relayPorts, limitMs) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(relayPorts.map(async (p) => (await statusOf(p))?.clients ?? 0));
    const serving = counts.flatMap((count, i) => (count > 0 ? [i] : []));
    if (serving.length === 1 && counts[serving[0]] === 1) return serving[0];
    await sleep(100);
  }
  throw new Error(`no single relay counts the page's picture within ${limitMs} ms`);
}

// Which relays (indexes) count the page's control WebSocket.
async function relaysHoldingControl(relayPorts) {
  const counts = await Promise.all(relayPorts.map(async (p) => (await statusOf(p))?.controls ?? 0));
  return counts.flatMap((count, i) => (count > 0 ? [i] : []));
}

async function killRelayAndWatch(state, page, watch, victim, what) {
  const survivor = 1 - victim;
  watch.restarting = true;  // refused WebSocket reconnects are expected while a relay is gone
  const killedAt = Date.now();
  state.relays[victim].child.kill('SIGKILL');
  await state.relays[victim].exited;
  const resumedMs = await waitForPlayingPicture(page, 3, RESUME_LIMIT_MS, what);
  console.log(`${what}: the picture plays again ${Date.now() - killedAt} ms after the kill`);
  check(resumedMs <= RESUME_LIMIT_MS, `${what}: the picture plays again within ${RESUME_LIMIT_MS} ms`);
  check((await statusOf(state.relayPorts[survivor]))?.clients === 1,
        `${what}: the other relay (relay${survivor + 1}) now serves the page's picture`);
  await page.waitForFunction(() => document.getElementById('state').textContent === 'streaming', null,
                             { timeout: 10_000 });
  check((await relaysHoldingControl([state.relayPorts[survivor]])).length === 1,
        `${what}: the control WebSocket is on the other relay`);
  watch.restarting = false;
}

async function run(state) {
  state.origin = startServer(['--idle-timeout', '1']);
  const origin = await state.origin.listening;
  const relayArgs = ['--source', `http://127.0.0.1:${origin.port}/stream`, '--idle-timeout', '1'];
  state.relays = [startServer(relayArgs), startServer(relayArgs)];
  state.relayPorts = [];
  for (const relay of state.relays) state.relayPorts.push((await relay.listening).port);
  state.workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-tier-page-'));
  state.haproxy = await startHaproxy(state.workdir, state.relayPorts);
  const base = `http://127.0.0.1:${state.haproxy.port}/`;
  console.log(`origin :${origin.port}, relays :${state.relayPorts.join(' :')}, HAProxy ${base}`);

  state.browser = await chromium.launch({ executablePath: chromiumBin, args: offlineChromiumArgs, timeout: 20_000 });
  const page = await state.browser.newPage();
  page.setDefaultTimeout(10_000);
  await page.addInitScript(installPageHelpers);
  const watch = watchPage(page, base);
  await page.goto(base, { waitUntil: 'domcontentloaded' });
  await waitForPlayingPicture(page, 3, 10_000, 'through HAProxy');
  console.log('ok - the picture plays through HAProxy');

  // 1. The picture and the control connection on different relays: only the picture ends.
  // (The page shows the state of its control connection's relay: idle, no viewer there.)
  let victim = await relayServingPicture(state.relayPorts, 5_000);
  const control = await relaysHoldingControl(state.relayPorts);
  check(control.length === 1 && control[0] !== victim,
        `leastconn put the picture (relay${victim + 1}) and the control WebSocket (relay${control[0] + 1}) on different relays`);
  await killRelayAndWatch(state, page, watch, victim, 'picture\'s relay killed, control connection kept');

  // 2. The killed relay back on its port; the relay left holds both connections: both end.
  state.relays[victim] = startServer(relayArgs, { port: state.relayPorts[victim] });
  await state.relays[victim].listening;
  await sleep(1500);  // HAProxy's health check (every 500 ms, rise 1) marks it up
  victim = await relayServingPicture(state.relayPorts, 5_000);
  check((await relaysHoldingControl([state.relayPorts[victim]])).length === 1,
        `relay${victim + 1} holds both the picture and the control WebSocket`);
  await killRelayAndWatch(state, page, watch, victim, 'relay with the picture and the control connection killed');

  check(watch.foreign.length === 0,
        `no request outside HAProxy's origin (${watch.foreign.join(', ') || 'none'})`);
  check(watch.errors.length === 0, `no console errors (${watch.errors.join(' | ') || 'none'})`);
  check(state.origin.child.exitCode === null, 'the origin is still running');
}

const state = { origin: null, relays: [], relayPorts: [], haproxy: null, browser: null, workdir: null };
await runTest({
  budgetMs: TEST_BUDGET_MS,
  run: () => run(state),
  servers: () => [state.origin, ...state.relays],
  cleanup: async () => {
    if (state.browser) await state.browser.close().catch(() => {});
    if (state.haproxy) {
      const haproxyLog = state.haproxy.log.slice(-20).join('\n');
      await state.haproxy.stop();
      if (haproxyLog) console.log(`haproxy output (last lines):\n${haproxyLog}`);
    }
    if (state.workdir) fs.rmSync(state.workdir, { recursive: true, force: true });
  },
});
