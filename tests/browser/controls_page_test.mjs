// The viewer page's Camera panel and Picture form in Debian's Chromium (docs/api.md, "Controls and live settings").
//
// Against a real camstream with the test source: the panel lists the test source's controls;
// moving the Brightness slider brightens the picture and the status reports the value; a slider
// dragged through hundreds of values sends a bounded number of messages; a refused value is
// shown and put back; choosing rotation 90 and another size reshapes the picture on the same
// <img> and WebSocket, without a reload. Behind --users a watch-only user gets disabled inputs
// and sends nothing, and a page whose token turns out to be a viewer's is told "not allowed"
// and disables its inputs.
//
// Environment: CAMSTREAM_BIN (required), CHROMIUM (default /usr/bin/chromium), ARTIFACT_DIR
// (screenshots; default ./artifacts); playwright-core through NODE_PATH (the CMake test installs
// it into the build tree).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { check, chromium, chromiumBin, offlineChromiumArgs, runTest, sleep, startServer, watchPage,
         writeUsersFile } from './harness.mjs';

const TEST_BUDGET_MS = 90_000;
const artifactDir = path.resolve(process.env.ARTIFACT_DIR || 'artifacts');

// Polls `probe` (sync or async) every 50 ms until it returns something truthy.
async function waitFor(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---- In-page helpers (installed before the page's own script runs) ----

function installPageHelpers() {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  // The mean luminance (0..255) of the picture the <img> shows now; null before the first frame.
  window.__meanLuma = () => {
    const img = document.getElementById('stream');
    if (!img || !img.naturalWidth) return null;
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    return sum / (data.length / 4);
  };
  window.__pictureSize = () => {
    const img = document.getElementById('stream');
    return img && img.naturalWidth ? `${img.naturalWidth}x${img.naturalHeight}` : null;
  };
}

const sentOfType = (watch, type) => watch.sent.filter((message) => message.type === type);
const lastStatus = (watch) => watch.received.filter((message) => message.type === 'status').at(-1);

async function meanLuma(page, samples = 3) {
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    sum += await page.evaluate(() => window.__meanLuma());
    await sleep(150);
  }
  return sum / samples;
}

async function newPage(browser, base, contextOptions = {}, pageUrl = base) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...contextOptions });
  context.setDefaultTimeout(10_000);
  await context.addInitScript(installPageHelpers);
  const page = await context.newPage();
  const watch = watchPage(page, base);
  await page.goto(pageUrl, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.getElementById('conn').textContent === 'Control: connected',
                             null, { timeout: 10_000 });
  await page.waitForFunction(() => window.__pictureSize() !== null, null, { timeout: 10_000 });
  return { context, page, watch };
}

// (1) The controls: listed, effective, throttled, refused values put back.
async function testControls(page, watch) {
  await page.locator('#camera-panel').waitFor({ state: 'visible', timeout: 5_000 });
  const controlsAnswer = watch.received.find((message) => message.type === 'controls');
  check(sentOfType(watch, 'controls').length === 1 && controlsAnswer,
        'the page asks for the controls list when its WebSocket opens and gets it');
  for (const [name, min, max] of [['Brightness', -1, 1], ['Contrast', 0, 2], ['Zoom', 1, 8]]) {
    const slider = page.getByLabel(name, { exact: true });
    check(await slider.getAttribute('type') === 'range' && Number(await slider.getAttribute('min')) === min &&
          Number(await slider.getAttribute('max')) === max && await slider.isEnabled(),
          `the Camera panel has an enabled ${name} slider from ${min} to ${max}`);
  }
  const brightness = page.getByLabel('Brightness', { exact: true });
  check(Number(await brightness.inputValue()) === 0, 'Brightness shows its value in force (0)');

  // The keyboard moves the slider to its end, as a user would; the picture must get brighter.
  const before = await meanLuma(page);
  await brightness.press('End');
  await waitFor(() => sentOfType(watch, 'set').some((message) => message.controls?.Brightness === 1),
                3_000, 'a set of Brightness 1');
  await waitFor(() => lastStatus(watch)?.camera_controls?.Brightness === 1, 3_000,
                'a status with camera_controls.Brightness 1');
  check(true, 'status reports camera_controls.Brightness = 1');
  check(await page.locator('[data-control="Brightness"] output').textContent() === '1.00',
        'the slider shows 1.00 next to it');
  // Brightness 1 lifts the whole picture; a moving pattern changes its mean by a few levels at most.
  const margin = 40;
  let after = 0;
  await waitFor(async () => (after = await meanLuma(page, 2)) > before + margin, 5_000,
                `mean luminance above ${(before + margin).toFixed(1)} (was ${before.toFixed(1)})`);
  check(true, `the picture got brighter: mean luminance ${before.toFixed(1)} -> ${after.toFixed(1)}`);

  // A slider dragged through 300 values in about 1.5 s sends a bounded number of messages,
  // and the last value wins.
  const setsBefore = sentOfType(watch, 'set').length;
  const dragMs = await page.evaluate(async () => {
    const started = performance.now();
    const slider = document.getElementById('control-Contrast');
    for (let i = 1; i <= 300; i++) {
      slider.value = String(1 + i / 300);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    slider.dispatchEvent(new Event('change', { bubbles: true }));
    return performance.now() - started;
  });
  await waitFor(() => lastStatus(watch)?.camera_controls?.Contrast === 2, 3_000,
                'a status with camera_controls.Contrast 2');
  const drags = sentOfType(watch, 'set').length - setsBefore;
  check(drags >= 2 && drags <= Math.ceil(dragMs / 100) + 2,
        `300 slider moves in ${dragMs.toFixed(0)} ms sent ${drags} set messages (at most one per 100 ms)`);

  // A value the server refuses: the error is shown and the slider goes back to the value in force.
  await page.evaluate(() => { document.getElementById('control-Zoom').max = '20'; });
  await page.getByLabel('Zoom', { exact: true }).press('End');
  await page.waitForFunction(() => document.getElementById('toast').classList.contains('show'), null,
                             { timeout: 3_000 });
  const toast = await page.locator('#toast').textContent();
  check(/^Zoom: .*not in/.test(toast), `a refused Zoom above 8 is shown in the toast ("${toast}")`);
  await page.waitForFunction(() => document.getElementById('control-Zoom').value === '1', null,
                             { timeout: 3_000 });
  check(true, 'the Zoom slider goes back to the value in force (1)');

  // Reset puts every control back to its default in one message.
  const resetsBefore = sentOfType(watch, 'set').length;
  await page.getByRole('button', { name: 'Reset' }).click();
  const inForce = () => lastStatus(watch)?.camera_controls || {};
  await waitFor(() => (inForce().Brightness ?? 0) === 0 && (inForce().Contrast ?? 1) === 1, 3_000,
                'Brightness 0 and Contrast 1 after Reset');
  check(sentOfType(watch, 'set').length === resetsBefore + 1, 'Reset sends one set message');
  await page.waitForFunction(() => document.getElementById('control-Brightness').value === '0', null,
                             { timeout: 3_000 });
  check(true, 'after Reset the status reports the defaults and the slider shows 0');
}

// (2) The Picture form: rotation and size reshape the picture without a reload or reconnect.
async function testPicture(page, watch) {
  await page.locator('#picture-panel').waitFor({ state: 'visible', timeout: 5_000 });
  check(await page.locator('#picture-size').inputValue() === '640x480' &&
        await page.getByLabel('Rotation').inputValue() === '0' &&
        await page.getByLabel('Quality').inputValue() === '80' &&
        await page.getByLabel('Frame rate').inputValue() === '10',
        'the Picture form shows the settings in force (640x480, rotation 0, quality 80, 10 fps)');
  check(await page.evaluate(() => window.__pictureSize()) === '640x480', 'the picture is 640x480');
  await page.evaluate(() => { window.__sameDocument = true; });
  const src = await page.locator('#stream').getAttribute('src');
  const sockets = watch.sockets;

  await page.getByLabel('Rotation').selectOption('90');
  await page.waitForFunction(() => window.__pictureSize() === '480x640', null, { timeout: 5_000 });
  check(true, 'choosing rotation 90 turns the <img> to 480x640');
  check(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
  check(await page.locator('#stream').getAttribute('src') === src, 'the <img> kept its stream (same src)');
  check(watch.sockets === sockets, 'the page kept its WebSocket');
  await page.waitForFunction(() => document.getElementById('size').textContent === '480 × 640', null,
                             { timeout: 3_000 });
  check(lastStatus(watch).settings?.rotation === 90, 'the status shows settings.rotation 90 and size 480 × 640');

  await page.locator('#picture-size').selectOption('320x240');
  await page.waitForFunction(() => window.__pictureSize() === '240x320', null, { timeout: 5_000 });
  check(true, 'choosing 320 × 240 with rotation 90 gives a 240x320 picture on the same <img>');

  await page.getByLabel('Quality').fill('30');
  await page.getByLabel('Quality').press('Enter');
  await page.getByLabel('Frame rate').fill('5');
  await page.getByLabel('Frame rate').press('Tab');
  await waitFor(() => lastStatus(watch)?.settings?.quality === 30 && lastStatus(watch)?.settings?.interval_ms === 200,
                3_000, 'settings with quality 30 and interval_ms 200');
  check(true, 'quality 30 and 5 fps are in force');

  // A value the server refuses is named in the toast and the field goes back.
  await page.getByLabel('Quality').fill('1000');
  await page.getByLabel('Quality').press('Enter');
  await page.waitForFunction(() => /^quality/.test(document.getElementById('toast').textContent), null,
                             { timeout: 3_000 });
  check(true, `a quality of 1000 is refused: "${await page.locator('#toast').textContent()}"`);
  await page.waitForFunction(() => document.getElementById('quality').value === '30', null, { timeout: 3_000 });
  check(true, 'the Quality field goes back to 30');

  await page.getByLabel('Rotation').selectOption('0');
  await page.locator('#picture-size').selectOption('640x480');
  await page.waitForFunction(() => window.__pictureSize() === '640x480', null, { timeout: 5_000 });
  check(watch.sockets === sockets && await page.locator('#stream').getAttribute('src') === src,
        'back to 640x480 on the same <img> and WebSocket');
}

// (3) Behind --users: a viewer cannot steer.
async function testViewer(state) {
  const browser = state.browser;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-controls-page-'));
  const users = path.join(dir, 'users');
  writeUsersFile(users, ['alice:a-pass', 'bob:b-pass']);
  const server = startServer(['--users', users, '--operators', 'alice']);
  state.viewerServer = server;
  try {
    const { base } = await server.listening;
    const alice = await newPage(browser, base, { httpCredentials: { username: 'alice', password: 'a-pass' } });
    await alice.page.locator('#camera-panel').waitFor({ state: 'visible', timeout: 5_000 });
    check(await alice.page.getByLabel('Brightness', { exact: true }).isEnabled() &&
          await alice.page.getByLabel('Rotation').isEnabled(), 'alice (operator): the inputs are enabled');
    await alice.context.close();

    // A viewer who logged in: the page knows the role from its token and disables everything.
    const bob = await newPage(browser, base, { httpCredentials: { username: 'bob', password: 'b-pass' } });
    await bob.page.locator('#camera-panel').waitFor({ state: 'visible', timeout: 5_000 });
    await bob.page.locator('#picture-panel').waitFor({ state: 'visible', timeout: 5_000 });
    const enabled = await bob.page.evaluate(() =>
      [...document.querySelectorAll('#camera-panel input, #camera-panel select, #camera-panel button, #picture-form input, #picture-form select')]
        .filter((el) => !el.disabled).map((el) => el.id || el.textContent));
    check(enabled.length === 0, `bob (viewer): every camera and picture input is disabled (enabled: ${enabled.join(', ') || 'none'})`);
    check(await bob.page.locator('#viewer-note').isVisible(), 'bob (viewer): the page says why');
    await bob.page.getByLabel('Brightness', { exact: true }).click({ force: true }).catch(() => {});
    await bob.page.keyboard.press('End');
    await bob.page.getByLabel('Rotation').selectOption('90', { force: true, timeout: 1_000 }).catch(() => {});
    await sleep(500);
    const steering = bob.watch.sent.filter((message) => ['set', 'configure', 'start', 'stop'].includes(message.type));
    check(steering.length === 0, `bob (viewer): the page sent no set or configure (${JSON.stringify(steering)})`);
    check(bob.watch.errors.length === 0, `bob: no page errors (${bob.watch.errors.join(' | ') || 'none'})`);
    await bob.context.close();

    // A watch-only link (?token= of a viewer): the page cannot know the role beforehand; the
    // server's "not allowed" is shown and the inputs go off.
    const { token } = JSON.parse(execFileSync('curl', ['-sS', '--max-time', '5', '--user', 'alice:a-pass',
                                                      `${base}api/token?role=viewer&ttl=600`]).toString());
    const linked = await newPage(browser, base, {}, `${base}?token=${token}`);
    await linked.page.locator('#camera-panel').waitFor({ state: 'visible', timeout: 5_000 });
    await linked.page.getByLabel('Brightness', { exact: true }).press('End');
    await linked.page.waitForFunction(() => /not allowed/i.test(document.getElementById('toast').textContent),
                                      null, { timeout: 3_000 });
    check(true, `a viewer's token: "${await linked.page.locator('#toast').textContent()}" is shown`);
    await linked.page.waitForFunction(() => document.getElementById('control-Brightness').disabled &&
                                            document.getElementById('rotation').disabled, null, { timeout: 3_000 });
    await linked.page.waitForFunction(() => document.getElementById('control-Brightness').value === '0', null,
                                      { timeout: 3_000 });
    check(true, "a viewer's token: the inputs are disabled and Brightness shows 0 again");
    await sleep(1_200);  // at least one status after the refused set
    check(lastStatus(linked.watch)?.camera_controls?.Brightness === undefined,
          'the refused set changed nothing on the server');
    await linked.context.close();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function run(state) {
  state.server = startServer();
  const { base } = await state.server.listening;
  console.log(`camstream listening on ${base}`);
  state.browser = await chromium.launch({
    executablePath: chromiumBin, headless: true, timeout: 20_000,
    args: offlineChromiumArgs,
  });
  const { context, page, watch } = await newPage(state.browser, base);
  await testControls(page, watch);
  await testPicture(page, watch);
  fs.mkdirSync(artifactDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactDir, 'controls-page.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        'no sideways scrolling on a 390 px wide phone screen with the panels');
  await page.screenshot({ path: path.join(artifactDir, 'controls-page-phone.png'), fullPage: true });
  check(watch.foreign.length === 0, `no request outside the server (${watch.foreign.join(', ') || 'none'})`);
  check(watch.errors.length === 0, `no page or console errors (${watch.errors.join(' | ') || 'none'})`);
  check(watch.sockets === 1, 'one WebSocket for the whole test');
  await context.close();
  const exit = await state.server.stop();
  check(exit.code === 0, `camstream exits 0 on SIGTERM (code ${exit.code}, signal ${exit.signal})`);

  await testViewer(state);
}

const state = { server: null, viewerServer: null, browser: null };
await runTest({
  budgetMs: TEST_BUDGET_MS,
  run: () => run(state),
  servers: () => [state.server, state.viewerServer],
  cleanup: async () => { await state.browser?.close().catch(() => {}); },
});
