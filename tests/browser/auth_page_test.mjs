// The viewer page behind --users and over HTTPS in Debian's Chromium (docs/api.md, "Access control and TLS"):
// the browser logs in with Basic credentials, the picture plays, the page gets a token for its
// WebSocket and shows the status; an operator can stop and start; a viewer's buttons are off;
// a page opened with ?token= works without any login. Certificates are made by the openssl CLI.
//
// Environment: CAMSTREAM_BIN (required), CHROMIUM (default /usr/bin/chromium); playwright-core
// through NODE_PATH (the CMake test installs it into the build tree).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { check, chromium, chromiumBin, runTest, sleep, startServer, writeUsersFile } from './harness.mjs';

const TEST_BUDGET_MS = 60_000;

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

async function run(state) {
  const dir = state.dir;
  const users = path.join(dir, 'users');
  writeUsersFile(users, ['alice:a-pass', 'bob:b-pass']);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                           '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext',
                           'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const server = startServer(['--users', users, '--operators', 'alice', '--tls-cert', cert, '--tls-key', key]);
  state.server = server;
  const { base } = await server.listening;
  check(base.startsWith('https://'), `listening on ${base}`);

  const browser = await chromium.launch({ executablePath: chromiumBin, headless: true,
                                          args: ['--no-sandbox', '--disable-gpu'] });
  state.browser = browser;  // for the cleanup, which closes it also after a failed check
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
}

const state = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-auth-page-')), server: null, browser: null };
await runTest({
  budgetMs: TEST_BUDGET_MS,
  logLines: 20,
  run: () => run(state),
  servers: () => [state.server],
  cleanup: async () => {
    await state.browser?.close().catch(() => {});
    fs.rmSync(state.dir, { recursive: true, force: true });
  },
});
