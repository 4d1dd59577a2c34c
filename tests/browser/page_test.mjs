// Drives Debian's Chromium against camstream's viewer page (docs/api.md).
//
// Starts camstream with the test source on a free loopback port, loads `/`, and checks that the
// picture plays, that Stop and Start work over the control WebSocket, that the page comes back by
// itself after a server restart, that it asks no other host for anything and logs no errors.
// Prints the time from the Start click to the first new picture on the page.
//
// Environment: CAMSTREAM_BIN (required), CHROMIUM (default /usr/bin/chromium),
// ARTIFACT_DIR (screenshots; default ./artifacts). playwright-core is found through the normal
// module lookup or NODE_PATH (the CMake test installs it into the build tree).

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { check, chromium, chromiumBin, offlineChromiumArgs, runTest, sleep, startServer, watchPage } from './harness.mjs';

const TEST_BUDGET_MS = 55_000;
const artifactDir = path.resolve(process.env.ARTIFACT_DIR || 'artifacts');

// ---- The server ----

// Both servers of this test (the first one and the one restarted on its port) stop capturing
// 2 s after the last viewer leaves, not after the default 5 s.
const serverArgs = ['--idle-timeout', '2'];

// A reverse proxy on loopback that serves the server under /webcam/ (as OctoPi's haproxy and
// Moonraker's nginx do), passing the Host header through as they do.
async function startPrefixProxy(targetPort, prefix) {
  const proxy = http.createServer((request, response) => {
    if (!request.url.startsWith(prefix)) {
      response.writeHead(404).end();
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: request.method,
                                    path: '/' + request.url.slice(prefix.length), headers: request.headers },
                                  (answer) => {
                                    response.writeHead(answer.statusCode, answer.headers);
                                    answer.pipe(response);
                                  });
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  proxy.on('upgrade', (request, socket, head) => {
    const upstream = net.connect(targetPort, '127.0.0.1', () => {
      let lines = `${request.method} /${request.url.slice(prefix.length)} HTTP/1.1\r\n`;
      for (let i = 0; i < request.rawHeaders.length; i += 2) lines += `${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}\r\n`;
      upstream.write(lines + '\r\n');
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return proxy;
}

// ---- In-page helpers (installed before the page's own script runs) ----

function installPageHelpers() {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  // A hash of the pixels of the picture the <img> shows now; null before the first frame.
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
  // Resolves with the milliseconds from the next click on Start to the first picture that differs
  // from the one shown when this was called, and that picture as a PNG data URL; polls every 10 ms.
  window.__timeStartToFirstFrame = (limitMs) => new Promise((resolve, reject) => {
    const before = window.__pixelHash();
    let clickedAt = 0;
    document.getElementById('start').addEventListener('click', () => { clickedAt = performance.now(); },
                                                      { capture: true, once: true });
    const deadline = performance.now() + limitMs;
    const poll = () => {
      if (clickedAt && window.__pixelHash() !== before) {
        return resolve({ ms: performance.now() - clickedAt, picture: canvas.toDataURL('image/png') });
      }
      if (performance.now() > deadline) return reject(new Error(`no new picture within ${limitMs} ms`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

// ---- The test ----

async function waitForState(page, state, timeout) {
  try {
    await page.waitForFunction((s) => document.getElementById('state').textContent === s, state, { timeout });
  } catch (error) {
    const shown = await page.locator('#state').textContent();
    throw new Error(`state did not become "${state}" within ${timeout} ms (shows "${shown}")`);
  }
  console.log(`ok - state shows ${state}`);
}

async function pixelHash(page) {
  return page.evaluate(() => window.__pixelHash());
}

// The picture must change between two looks one second apart.
async function checkPicturePlays(page, what) {
  // A reconnecting <img> shows nothing until its first frame arrives.
  await page.waitForFunction(() => window.__pixelHash() !== null, null, { timeout: 5_000 });
  const first = await pixelHash(page);
  await sleep(1000);
  const second = await pixelHash(page);
  check(first !== null && second !== null && first !== second, `picture plays ${what} (${first} -> ${second})`);
}

// Waits until the picture stays the same for `quietMs` (the static STOPPED placeholder).
async function waitForStillPicture(page, quietMs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = await pixelHash(page);
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = await pixelHash(page);
    if (now !== last) { last = now; since = Date.now(); }
    if (Date.now() - since >= quietMs) return last;
  }
  throw new Error(`picture did not stand still for ${quietMs} ms within ${timeoutMs} ms`);
}

function checkWatch(watch, what) {
  check(watch.foreign.length === 0,
        `${what}: no request outside its origin and path (${watch.foreign.join(', ') || 'none'})`);
  check(watch.errors.length === 0, `${what}: no console errors (${watch.errors.join(' | ') || 'none'})`);
}

async function run(state) {
  state.server = startServer(serverArgs);
  const { base, port } = await state.server.listening;
  console.log(`camstream listening on ${base}`);

  state.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-chromium-'));
  state.context = await chromium.launchPersistentContext(state.userDataDir, {
    executablePath: chromiumBin,
    headless: true,
    viewport: { width: 1000, height: 590 },
    args: ['--headless', ...offlineChromiumArgs],
    timeout: 20_000,
  });
  state.context.setDefaultTimeout(10_000);
  await state.context.addInitScript(installPageHelpers);
  const page = state.context.pages()[0] || await state.context.newPage();
  const watch = watchPage(page, base);

  await page.goto(base, { waitUntil: 'domcontentloaded' });
  check((await page.locator('#stream').getAttribute('src')).startsWith('stream?advance_headers=1'),
        'the <img> asks for the stream by a relative URL with advance_headers=1');
  await waitForState(page, 'streaming', 10_000);
  await checkPicturePlays(page, 'while streaming');

  check(await page.locator('#size').textContent() === '640 × 480', 'size shows 640 × 480');
  check(Number(await page.locator('#clients').textContent()) >= 1, 'viewers counts this page');
  check(Number(await page.locator('#controls').textContent()) >= 1, 'control clients counts this page');
  const fps = parseFloat(await page.locator('#fps').textContent());
  check(fps > 0, `frame rate shows a measured rate (${fps})`);
  check(Number((await page.locator('#frames').textContent()).replace(/,/g, '')) > 0, 'frames counts up');
  check(await page.locator('a[href="snapshot"]').count() === 1, 'snapshot link is shown');

  // The view size for a phone on a weak link: an output of its own (docs/api.md, "Outputs per
  // viewer"), 320 wide at 4:3, which the picture shows; then back to the full size.
  await page.getByLabel('View').selectOption({ label: '320 wide, lighter (weak link)' });
  check((await page.locator('#stream').getAttribute('src')).includes('&width=320&quality=50'),
        'the lighter view asks for width=320&quality=50');
  await page.waitForFunction(() => document.getElementById('stream').naturalWidth === 320, null,
                             { timeout: 10_000 });
  console.log('ok - the lighter view shows a 320 x 240 picture');
  await page.getByLabel('View').selectOption({ label: 'Full size' });
  await page.waitForFunction(() => document.getElementById('stream').naturalWidth === 640, null,
                             { timeout: 10_000 });
  check(!(await page.locator('#stream').getAttribute('src')).includes('width='),
        'the full size asks for no size');

  fs.mkdirSync(artifactDir, { recursive: true });
  const screenshot = path.join(artifactDir, 'page.png');
  await page.screenshot({ path: screenshot });
  await page.setViewportSize({ width: 390, height: 844 });
  const phoneScreenshot = path.join(artifactDir, 'page-phone.png');
  await page.screenshot({ path: phoneScreenshot, fullPage: true });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        'no sideways scrolling on a 390 px wide phone screen');
  await page.setViewportSize({ width: 1000, height: 590 });
  console.log(`screenshots: ${screenshot} ${phoneScreenshot}`);

  // Stop: the state says so and the picture becomes the static STOPPED placeholder.
  await page.getByRole('button', { name: 'Stop camera' }).click();
  await waitForState(page, 'stopped', 5_000);
  await waitForStillPicture(page, 1_500, 8_000);
  console.log('ok - picture stands still while stopped');
  check(await page.locator('#fps').textContent() === '–', 'no frame rate is shown while stopped');
  await page.screenshot({ path: path.join(artifactDir, 'page-stopped.png') });

  // Start: time from the click to the first new picture painted.
  const timing = page.evaluate(() => window.__timeStartToFirstFrame(10_000));
  await page.getByRole('button', { name: 'Start camera' }).click();
  const { ms: startToFirstFrameMs, picture } = await timing;
  const firstFrame = path.join(artifactDir, 'first-frame-after-start.png');
  fs.writeFileSync(firstFrame, Buffer.from(picture.split(',')[1], 'base64'));
  console.log(`first picture after Start: ${firstFrame}`);
  await waitForState(page, 'streaming', 5_000);
  await checkPicturePlays(page, 'again after Start');

  // In the background (iOS closes connections there) the page lets go of the stream, and opens it
  // again when it comes back. The visibility change is simulated; the server's count is real.
  const setHidden = (hidden) => page.evaluate((value) => {
    Object.defineProperty(document, 'hidden', { value, configurable: true });
    Object.defineProperty(document, 'visibilityState', { value: value ? 'hidden' : 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  await page.waitForFunction(() => document.getElementById('clients').textContent === '0', null, { timeout: 5_000 });
  check(await page.locator('#stream').getAttribute('src') === null, 'hidden page closes its stream (server counts 0 viewers)');
  await setHidden(false);
  await page.waitForFunction(() => Number(document.getElementById('clients').textContent) >= 1, null, { timeout: 5_000 });
  await checkPicturePlays(page, 'after the page comes back to the foreground');

  // Under a reverse-proxy prefix every request of the page stays under that prefix.
  state.proxy = await startPrefixProxy(port, '/webcam/');
  const proxyBase = `http://127.0.0.1:${state.proxy.address().port}/webcam/`;
  const proxiedPage = await state.context.newPage();
  const proxiedWatch = watchPage(proxiedPage, proxyBase);
  await proxiedPage.goto(proxyBase, { waitUntil: 'domcontentloaded' });
  await waitForState(proxiedPage, 'streaming', 10_000);
  await checkPicturePlays(proxiedPage, `under the prefix ${proxyBase}`);
  await proxiedPage.close();
  checkWatch(proxiedWatch, 'page under a prefix');

  // Restart the server on the same port, now with --always-on: the page must reconnect its
  // WebSocket and its picture by itself, and show the error the server answers Stop with.
  watch.restarting = true;
  const firstExit = await state.server.stop();
  check(firstExit.code === 0, `camstream exits 0 on SIGTERM (code ${firstExit.code}, signal ${firstExit.signal})`);
  await waitForState(page, 'offline', 5_000);
  state.server = startServer([...serverArgs, '--always-on'], { port });
  await state.server.listening;
  await waitForState(page, 'streaming', 15_000);
  watch.restarting = false;
  await checkPicturePlays(page, 'after a server restart');
  await page.getByRole('button', { name: 'Stop camera' }).click();
  await page.waitForFunction(() => document.getElementById('toast').classList.contains('show'), null,
                             { timeout: 3_000 });
  const toast = await page.locator('#toast').textContent();
  check(toast.length > 0, `an error message from the server is shown ("${toast}")`);
  check(await page.locator('#state').textContent() === 'streaming', 'Stop is refused with --always-on');
  checkWatch(watch, 'page');

  await state.context.close();
  state.context = null;
  const exit = await state.server.stop();
  check(exit.code === 0, `camstream exits 0 on SIGTERM (code ${exit.code}, signal ${exit.signal})`);
  console.log(`start-to-first-frame: ${startToFirstFrameMs.toFixed(0)} ms (Start click to first new picture on the page)`);
}

const state = { server: null, context: null, proxy: null, userDataDir: null };
await runTest({
  budgetMs: TEST_BUDGET_MS,
  run: () => run(state),
  servers: () => [state.server],
  cleanup: async () => {
    await state.context?.close().catch(() => {});
    if (state.proxy) {
      state.proxy.closeAllConnections();
      state.proxy.close();
    }
    if (state.userDataDir) fs.rmSync(state.userDataDir, { recursive: true, force: true });
  },
});
