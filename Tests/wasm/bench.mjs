// Speed and size of digits.wasm beside the native `digits` on one thread (a benchmark, not a
// test: run it on a quiet machine).
//
//   DIGITS_BIN=.build/release/digits node Tests/wasm/bench.mjs [--train]
//
// Prints: the module's size; a reading of a 280×280 drawing (prepare + forward) with the best
// model (Tests/DigitsAppTests/Fixtures/best-model.safetensors, cnn-best); that model's forward
// pass one digit at a time, here and natively (`digits web` times the native readings it writes
// to reference.json); the 784-256-128-10 network's batch inference, here and natively
// (`digits bench --only inference`); with --train, an epoch of the mlp preset, here and natively.
// Native and module runs alternate, best of three each.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Digits } from '../../Wasm/digits.js';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.DIGITS_BIN ? resolve(process.env.DIGITS_BIN) : ['.build/release/digits', '.build/debug/digits'].map((p) => join(root, p)).find(existsSync);
const work = mkdtempSync(join(tmpdir(), 'digits-wasm-bench-'));
const site = join(work, 'site');
const env = { ...process.env, DIGITS_THREADS: '1' };
const native = (...args) => execFileSync(bin, args, { cwd: work, env, encoding: 'utf8', maxBuffer: 1 << 26 })
  .split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const rounds = 3;

try {
  const wasmBytes = readFileSync(join(root, 'Wasm/digits.wasm'));
  console.log(`module: ${wasmBytes.length} bytes (${(wasmBytes.length / 1024).toFixed(0)} KB)`);
  const d = await Digits.load(wasmBytes);
  const fixture = join(root, 'Tests/DigitsAppTests/Fixtures/best-model.safetensors');
  const model = d.loadModel(readFileSync(fixture));
  const images = gunzipSync(readFileSync(join(root, 'Sources/DigitsData/Resources/mnist/t10k-images-idx3-ubyte.gz'))).subarray(16);

  // A reading of a drawing as the page makes it: a 280×280 RGBA canvas, black on white.
  const rgba = new Uint8Array(280 * 280 * 4).fill(255);
  for (let t = 0; t <= 1; t += 0.002) {
    const [x, y] = t < 0.4 ? [60 + 400 * t, 60] : [220 - 200 * (t - 0.4), 60 + 330 * (t - 0.4)];
    for (let dy = -9; dy <= 9; dy++) for (let dx = -9; dx <= 9; dx++) {
      if (dx * dx + dy * dy > 81) continue;
      const i = ((Math.round(y) + dy) * 280 + Math.round(x) + dx) * 4;
      rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
    }
  }
  const prepareMs = [], readMs = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const prepared = d.prepare(rgba, 280, 280, 4);
    const t1 = performance.now();
    model.read(prepared);
    prepareMs.push(t1 - t0);
    readMs.push(performance.now() - t1);
  }
  console.log(`reading a 280×280 drawing with cnn-best: prepare ${median(prepareMs).toFixed(2)} ms + forward ${median(readMs).toFixed(2)} ms (median of 30)`);

  // cnn-best, one digit at a time.
  let wasmSingle = Infinity, nativeSingle = Infinity;
  for (let r = 0; r < rounds; r++) {
    native('web', '--out', site, '--model', fixture, '--reference-count', '300');
    const ref = JSON.parse(readFileSync(join(site, 'reference.json'), 'utf8'));
    nativeSingle = Math.min(nativeSingle, ref.seconds * 1000 / ref.count);
    const t = performance.now();
    for (let i = 0; i < 300; i++) model.read(images.subarray(i * 784, (i + 1) * 784));
    wasmSingle = Math.min(wasmSingle, (performance.now() - t) / 300);
  }
  console.log(`cnn-best forward, one digit: ${wasmSingle.toFixed(2)} ms here, ${nativeSingle.toFixed(2)} ms natively (1 thread): ${(wasmSingle / nativeSingle).toFixed(1)}×`);

  // The 784-256-128-10 network (untrained, seed 1, as `digits bench`), batches of 1,000.
  const mlp = d.createModel({ inputShape: [784], inputTransform: { scale: 1 / 255, offset: 0 }, layers: [
    { dense: { inputs: 784, outputs: 256, bias: true, activation: { relu: {} } } },
    { dense: { inputs: 256, outputs: 128, bias: true, activation: { relu: {} } } },
    { dense: { inputs: 128, outputs: 10, bias: true } }] }, { seed: 1 });
  let wasmRate = 0, nativeRate = 0;
  for (let r = 0; r < rounds; r++) {
    nativeRate = Math.max(nativeRate, native('bench', '--only', 'inference', '--threads', '1', '--json')[0].inference_images_per_second);
    const t = performance.now();
    mlp.readBatch(images, 10000, 1000);
    wasmRate = Math.max(wasmRate, 10000 / ((performance.now() - t) / 1000));
  }
  console.log(`784-256-128-10 inference, batches of 1,000: ${Math.round(wasmRate)} images/s here, ${Math.round(nativeRate)} natively (1 thread): ${(nativeRate / wasmRate).toFixed(1)}× slower here`);

  if (process.argv.includes('--train')) {
    const trainImages = gunzipSync(readFileSync(join(root, 'Sources/DigitsData/Resources/mnist/train-images-idx3-ubyte.gz'))).subarray(16);
    const trainLabels = gunzipSync(readFileSync(join(root, 'Sources/DigitsData/Resources/mnist/train-labels-idx1-ubyte.gz'))).subarray(8);
    const testLabels = gunzipSync(readFileSync(join(root, 'Sources/DigitsData/Resources/mnist/t10k-labels-idx1-ubyte.gz'))).subarray(8);
    const presets = JSON.parse(readFileSync(join(site, 'presets.json'), 'utf8')).presets;
    const preset = presets.find((p) => p.name === 'mlp');
    const train = d.dataset(trainImages, trainLabels, [784]), test = d.dataset(images, testLabels, [784]);
    const m = d.createModel(JSON.parse(preset.architecture), { seed: preset.seed, initializer: preset.initializer });
    const trainer = m.trainer(train, { ...preset, epochs: 1 }, preset.seed);
    const t = performance.now();
    trainer.run(trainer.totalSteps);
    const seconds = (performance.now() - t) / 1000;
    const ours = m.evaluate(test).accuracy;
    const [report] = native('train', '--preset', 'mlp', '--epochs', '1', '--json', '--no-progress', '--save', join(work, 'mlp.safetensors'));
    console.log(`mlp, one epoch: ${seconds.toFixed(2)} s here (test accuracy ${(ours * 100).toFixed(2)}%), ` +
      `${report.seconds.toFixed(2)} s natively (1 thread; ${(report.test_accuracy * 100).toFixed(2)}%)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
