// The viewer page behind --users and over HTTPS in Debian's Chromium (docs/api.md, section 8):
// the browser logs in with Basic credentials, the picture plays, the page gets a token for its
// WebSocket and shows the status; an operator can stop and start; a viewer's buttons are off;
// a page opened with ?token= works without any login. Certificates are made by the openssl CLI.
//
// Environment: CAMSTREAM_BIN (required), CHROMIUM (default /usr/bin/chromium); playwright-core
// through NODE_PATH (the CMake test installs it into the build tree).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const camstreamBin = process.env.CAMSTREAM_BIN;
const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';
if (!camstreamBin) { console.error('CAMSTREAM_BIN is not set'); process.exit(2); }

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startServer(args) {
  const child = spawn(camstreamBin, ['--source', 'test', '--bind', '127.0.0.1', '--port', '0',
                                     '--interval', '100', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  const listening = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (https?:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`camstream exited (${code}): ${log.join('\n')}`)));
    setTimeout(() => reject(new Error('no listening line in 10 s')), 10_000).unref();
  });
  return { child, log, listening };
}

async function pictureChanges(page) {
  const hash = () => page.evaluate(() => {
    const img = document.getElementById('stream');
    if (!img || !img.naturalWidth) return null;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0x811c9dc5;
    for (let i = 0; i < data.length; i += 4) h = Math.imul(h ^ data[i], 16777619);
    return h >>> 0;
  });
  await page.waitForFunction(() => document.getElementById('stream').naturalWidth > 0, null, { timeout: 10_000 });
  const first = await hash();
  await sleep(1000);
  return first !== null && first !== await hash();
}

const stateIs = (page, state) => page.waitForFunction(
  (s) => document.getElementById('state').textContent === s, state, { timeout: 10_000 });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-auth-page-'));
const servers = [];
let browser = null;
let failed = false;
const watchdog = setTimeout(() => { console.error('FAIL: over 60 s'); process.exit(1); }, 60_000);
try {
  const users = path.join(dir, 'users');
  fs.writeFileSync(users, ['alice:a-pass', 'bob:b-pass'].map(
    (pair) => execFileSync('htpasswd', ['-nbB', ...pair.split(':')]).toString().trim()).join('\n') + '\n');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                           '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext',
                           'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const server = startServer(['--users', users, '--operators', 'alice', '--tls-cert', cert, '--tls-key', key]);
  servers.push(server);
  const base = await server.listening;
  check(base.startsWith('https://'), `listening on ${base}`);

  browser = await chromium.launch({ executablePath: chromiumBin, headless: true,
                                    args: ['--no-sandbox', '--disable-gpu'] });
  const errors = [];
  for (const [user, password, role] of [['alice', 'a-pass', 'operator'], ['bob', 'b-pass', 'viewer']]) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true,
                                               httpCredentials: { username: user, password } });
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.getElementById('conn').textContent === 'Control: connected',
                               null, { timeout: 10_000 });
    check(true, `${user}: the page's WebSocket connected over wss with a token`);
    await stateIs(page, 'streaming');
    check(await pictureChanges(page), `${user}: the picture plays over HTTPS behind --users`);
    const stopDisabled = await page.locator('#stop').isDisabled();
    if (role === 'operator') {
      check(!stopDisabled, 'alice (operator): Stop is enabled');
      await page.locator('#stop').click();
      await stateIs(page, 'stopped');
      await page.locator('#start').click();
      await stateIs(page, 'streaming');
      check(true, 'alice stopped and started the camera');
    } else {
      check(stopDisabled, 'bob (viewer): Stop and Start are disabled');
    }
    await context.close();
  }

  // A watch-only link: the page with ?token= and no login at all.
  const tokenAnswer = execFileSync('curl', ['-sS', '--insecure', '--user', 'alice:a-pass',
                                            `${base}api/token?role=viewer&ttl=600`]).toString();
  const { token } = JSON.parse(tokenAnswer);
  const anonymous = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await anonymous.newPage();
  await page.goto(`${base}?token=${token}`, { waitUntil: 'domcontentloaded' });
  await stateIs(page, 'streaming');
  check(await pictureChanges(page), 'a page opened with ?token= plays without a login');
  check(!server.log.some((line) => line.includes(token)), 'the token never reaches the log');
  check(errors.length === 0, `no page errors (${errors.join(' | ') || 'none'})`);
  await anonymous.close();
  console.log('PASS');
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error.stack || error}`);
  for (const server of servers) console.error(server.log.slice(-20).join('\n'));
} finally {
  await browser?.close().catch(() => {});
  for (const server of servers) server.child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
