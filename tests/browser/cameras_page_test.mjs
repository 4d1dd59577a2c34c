// The viewer page with several cameras (docs/api.md, "Several cameras in one process"): at / it
// shows the first camera and every other one in a frame of its own page (/cam/NAME/), whose
// Stop and Start steer that camera alone over /cam/NAME/ws.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { check, chromium, chromiumBin, offlineChromiumArgs, runTest, sleep, startServer, watchPage } from './harness.mjs';

const state = {};

async function cameraState(base, name) {
  const answer = await fetch(`${base}cam/${name}/api/status`);
  return (await answer.json()).state;
}

async function waitFor(what, condition, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

async function run() {
  state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-cameras-'));
  const config = path.join(state.dir, 'cameras.conf');
  fs.writeFileSync(config, 'idle-timeout = 30\n[camera.front]\nwidth = 320\nheight = 240\n' +
                           '[camera.back]\nwidth = 160\nheight = 120\n');
  state.server = startServer(['-c', config]);
  const { base } = await state.server.listening;

  state.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-chromium-'));
  state.context = await chromium.launchPersistentContext(state.userDataDir, {
    executablePath: chromiumBin, headless: true, args: ['--headless', ...offlineChromiumArgs], timeout: 20_000,
  });
  const page = state.context.pages()[0] || await state.context.newPage();
  const watch = watchPage(page, base);
  await page.goto(base);

  const naturalWidth = (frame) => frame.evaluate(() => document.getElementById('stream').naturalWidth);
  await waitFor('the first camera plays at 320 wide', async () => await naturalWidth(page) === 320);
  check(await page.textContent('#camera-name') === 'front', 'the page names its camera: front');

  const element = await page.waitForSelector('iframe[data-camera="back"]', { timeout: 10_000 });
  const back = await element.contentFrame();
  await waitFor('the second camera plays at 160 wide in its frame', async () => await naturalWidth(back) === 160);
  check(await back.textContent('#camera-name') === 'back', 'the frame names its camera: back');
  check(await page.$$eval('iframe', (frames) => frames.length) === 1, 'one frame: the other camera');
  check(await back.$$eval('iframe', (frames) => frames.length) === 0, 'the frame shows no frames of its own');

  await back.waitForSelector('#stop:not([disabled])', { timeout: 10_000 });
  await back.click('#stop');
  await waitFor('back stopped', async () => await cameraState(base, 'back') === 'stopped');
  check(await cameraState(base, 'front') === 'streaming', 'stopping back leaves front streaming');
  await waitFor('the frame shows back stopped', async () => await back.textContent('#state') === 'stopped');
  check(await page.textContent('#state') === 'streaming', 'the page still shows front streaming');

  await back.waitForSelector('#start:not([disabled])', { timeout: 10_000 });
  await back.click('#start');
  await waitFor('back streaming again', async () => await cameraState(base, 'back') === 'streaming');

  check(watch.foreign.length === 0, `no request outside the server: ${watch.foreign.join(', ')}`);
  check(watch.errors.length === 0, `no errors: ${watch.errors.join('; ')}`);
}

await runTest({
  budgetMs: 60_000,
  run,
  servers: () => [state.server],
  cleanup: async () => {
    if (state.context) await state.context.close();
    for (const dir of [state.userDataDir, state.dir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  },
});
