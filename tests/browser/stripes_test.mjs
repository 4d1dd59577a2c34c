// Chromium decodes a striped JPEG (--encode-threads: restart markers between stripes) to the
// picture djpeg decodes from the same bytes: every stripe present, none grey or shifted, which
// is what a browser shows when it loses its way at a restart marker.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { check, chromium, chromiumBin, offlineChromiumArgs, runTest, startServer } from './harness.mjs';

const WIDTH = 640;
const HEIGHT = 360;  // 22.5 MCU rows at 4:2:0: the last stripe ends half in padding
const state = {};

// The picture djpeg makes of a JPEG, as RGB bytes.
function djpegRgb(jpeg) {
  const ppm = execFileSync('djpeg', ['-pnm'], { input: jpeg });
  const header = `P6\n${WIDTH} ${HEIGHT}\n255\n`;
  check(ppm.subarray(0, header.length).toString('latin1') === header, `djpeg decodes a ${WIDTH}x${HEIGHT} picture`);
  return ppm.subarray(header.length);
}

function restartMarkers(jpeg) {
  const found = [];
  for (let i = 0; i + 1 < jpeg.length; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] >= 0xd0 && jpeg[i + 1] <= 0xd7) found.push(jpeg[i + 1] - 0xd0);
  }
  return found;
}

async function run() {
  state.server = startServer(['--encode-threads', '3', '--width', String(WIDTH), '--height', String(HEIGHT)]);
  const { base } = await state.server.listening;
  const response = await fetch(`${base}snapshot`);
  check(response.status === 200, 'the snapshot answers 200');
  const jpeg = Buffer.from(await response.arrayBuffer());
  check(jpeg.includes(Buffer.from([0xff, 0xdd])), 'the snapshot has a restart interval (DRI)');
  // 3 threads cut 12 stripes (4 each): 11 restart markers, wrapping from RST7 to RST0.
  check(JSON.stringify(restartMarkers(jpeg)) === '[0,1,2,3,4,5,6,7,0,1,2]',
    'twelve stripes: RST0..RST7 then RST0..RST2 between them');
  const reference = djpegRgb(jpeg);

  state.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'camstream-chromium-'));
  state.context = await chromium.launchPersistentContext(state.userDataDir, {
    executablePath: chromiumBin,
    headless: true,
    args: ['--headless', ...offlineChromiumArgs],
    timeout: 20_000,
  });
  const page = state.context.pages()[0] || await state.context.newPage();
  const rgba = await page.evaluate(async (dataUrl) => {
    const img = new Image();
    img.src = dataUrl;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
  }, `data:image/jpeg;base64,${jpeg.toString('base64')}`);
  check(rgba.length === WIDTH * HEIGHT * 4, `Chromium decodes a ${WIDTH}x${HEIGHT} picture`);

  // Per stripe (rows 0-127, 128-255, 256-359): the largest and the mean difference from djpeg.
  // Decoders may round the last bit differently; a stripe lost at a marker differs by tens.
  for (const [first, last] of [[0, 128], [128, 256], [256, HEIGHT]]) {
    let max = 0;
    let sum = 0;
    for (let y = first; y < last; y++) {
      for (let x = 0; x < WIDTH; x++) {
        for (let c = 0; c < 3; c++) {
          const diff = Math.abs(rgba[(y * WIDTH + x) * 4 + c] - reference[(y * WIDTH + x) * 3 + c]);
          max = Math.max(max, diff);
          sum += diff;
        }
      }
    }
    const mean = sum / ((last - first) * WIDTH * 3);
    check(max <= 4 && mean < 0.5, `rows ${first}-${last - 1}: Chromium's pixels are djpeg's (max difference ${max}, mean ${mean.toFixed(3)})`);
  }
}

await runTest({
  budgetMs: 60_000,
  run,
  servers: () => [state.server],
  cleanup: async () => {
    if (state.context) await state.context.close();
    if (state.userDataDir) fs.rmSync(state.userDataDir, { recursive: true, force: true });
  },
});
