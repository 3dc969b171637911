// The WebAssembly module against the native `digits`: readings, preparation and training must
// agree. Run by .ci/run:
//
//   DIGITS_BIN=.build/release/digits node --test Tests/wasm/
//
// The native side is always the `digits` command run here (no stored expectations): `digits web`
// writes the site (module, model, reference readings of all 10,000 test digits, presets),
// `digits predict --json` reads pictures, `digits train --json` trains, `digits eval --json` scores.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync, gunzipSync } from 'node:zlib';
import { Digits } from '../../Wasm/digits.js';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.DIGITS_BIN ? resolve(process.env.DIGITS_BIN) : ['.build/release/digits', '.build/debug/digits'].map((p) => join(root, p)).find(existsSync);
const fixture = join(root, 'Tests/DigitsAppTests/Fixtures/best-model.safetensors');
const work = mkdtempSync(join(tmpdir(), 'digits-wasm-test-'));
const site = join(work, 'site');

/// Runs the native command; its JSON lines, parsed.
function digits(...args) {
  const out = execFileSync(bin, args, { cwd: work, encoding: 'utf8', maxBuffer: 1 << 26 });
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

let module, mnist, presets;

before(() => {
  assert.ok(bin && existsSync(bin), 'set DIGITS_BIN to the digits binary (swift build first)');
  digits('web', '--out', site, '--model', fixture, '--reference-count', '10000');
  const gz = (name, skip) => gunzipSync(readFileSync(join(site, 'mnist', name))).subarray(skip);
  mnist = {
    test: { images: gz('t10k-images-idx3-ubyte.gz', 16), labels: gz('t10k-labels-idx1-ubyte.gz', 8) },
    train: { images: gz('train-images-idx3-ubyte.gz', 16), labels: gz('train-labels-idx1-ubyte.gz', 8) },
  };
  presets = JSON.parse(readFileSync(join(site, 'presets.json'), 'utf8')).presets;
});

const load = async () => module ?? (module = await Digits.load(readFileSync(join(site, 'assets', 'digits.wasm'))));
const argmax = (p, at = 0, k = 10) => { let b = 0; for (let j = 1; j < k; j++) if (p[at + j] > p[at + b]) b = j; return b; };

/// Same digit (or, where they differ, a top-two margin under 1e-4 in both) and probabilities within 1e-4.
function assertSameReading(ours, theirs, what) {
  let maxDiff = 0;
  for (let j = 0; j < theirs.length; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j] - theirs[j]));
  assert.ok(maxDiff < 1e-4, `${what}: probabilities differ by ${maxDiff}`);
  const a = argmax(ours, 0, theirs.length), b = argmax(theirs, 0, theirs.length);
  if (a !== b) {
    const margin = (p, best) => p[best] - Math.max(...Array.from(p).filter((_, j) => j !== best));
    assert.ok(margin(ours, a) < 1e-4 && margin(theirs, b) < 1e-4, `${what}: reads ${a}, natively ${b}`);
  }
}

test('the module is small and imports nothing', () => {
  const bytes = readFileSync(join(site, 'assets', 'digits.wasm'));
  assert.ok(bytes.length <= 1 << 20, `digits.wasm is ${bytes.length} bytes`);
  assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(bytes)), []);
});

test('reads all 10,000 test digits as digits does', async () => {
  const d = await load();
  const model = d.loadModel(readFileSync(join(site, 'model.safetensors')));
  const reference = JSON.parse(readFileSync(join(site, 'reference.json'), 'utf8'));
  assert.equal(reference.count, 10000);
  const start = performance.now();
  const p = model.readBatch(mnist.test.images.subarray(0, 784 * 10000), 10000);
  const seconds = (performance.now() - start) / 1000;
  let same = 0, maxDiff = 0;
  for (let i = 0; i < 10000; i++) {
    const ours = p.subarray(i * 10, i * 10 + 10), theirs = reference.probabilities[i];
    assertSameReading(ours, theirs, `test digit ${i}`);
    if (argmax(ours) === argmax(theirs)) same++;
    for (let j = 0; j < 10; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j] - theirs[j]));
  }
  console.log(`# 10,000 test digits: ${same} read the same digit as natively, largest probability difference ${maxDiff.toExponential(2)}; ` +
              `${seconds.toFixed(1)} s here (batches of 100), ${reference.seconds.toFixed(1)} s natively (one at a time)`);
  // One at a time too (the page reads so), with each layer's output kept.
  const one = model.read(mnist.test.images.subarray(0, 784));
  assertSameReading(one.probabilities, reference.probabilities[0], 'test digit 0, alone');
  const layers = model.layers();
  assert.equal(model.layerOutput(layers.length - 1).length, 10);
  assert.equal(model.layerOutput(0).length, layers[0].shape.reduce((a, b) => a * b));
  model.free();
});

test('reads with the shipped reader\'s calibration temperature, as digits does', async () => {
  // The shipped reader is calibrated (its file's `temperature`): the page must divide its
  // scores by it as native reading does, or the certainty shown would differ.
  const reader = join(root, 'Sources/DigitsApp/Resources/reader/reader.safetensors');
  const readerSite = join(work, 'reader-site');
  digits('web', '--out', readerSite, '--model', reader, '--reference-count', '300');
  const bytes = readFileSync(join(readerSite, 'model.safetensors'));
  const d = await load();
  const model = d.loadModel(bytes);
  assert.ok(Number(model.metadata.temperature) > 1, 'the shipped reader should be calibrated');
  const reference = JSON.parse(readFileSync(join(readerSite, 'reference.json'), 'utf8'));
  const p = model.readBatch(mnist.test.images.subarray(0, 784 * 300), 300);
  for (let i = 0; i < 300; i++) assertSameReading(p.subarray(i * 10, i * 10 + 10), reference.probabilities[i], `reader, test digit ${i}`);
  model.free();
  // A temperature that native loading refuses is refused here too.
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
  header.__metadata__.temperature = '-1';
  const json = Buffer.from(JSON.stringify(header));
  const bad = Buffer.concat([Buffer.alloc(8), json, bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)))]);
  bad.writeBigUInt64LE(BigInt(json.length), 0);
  assert.throws(() => d.loadModel(bad, 'bad.safetensors'), /temperature/);
});

test('the allocator keeps every block intact through random allocations and frees', async () => {
  // A fresh instance: this fills and frees a few hundred MB.
  const { instance } = await WebAssembly.instantiate(readFileSync(join(site, 'assets', 'digits.wasm')), {});
  const x = instance.exports, live = [];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 50000; i++) {
    const m = () => new Uint8Array(x.memory.buffer);
    if (random() < (live.length > 2000 ? 0.3 : 0.6) || live.length === 0) {
      const size = random() < 0.03 ? Math.floor(random() * 2_000_000) : Math.floor(random() * 5000);
      const p = x.digits_alloc(size) >>> 0;
      assert.ok(p !== 0 && p % 16 === 0, `allocation ${i} of ${size} bytes: ${p}`);
      const tag = (i * 7) & 255;
      m().fill(tag, p, p + size);
      live.push({ p, size, tag });
    } else {
      const [b] = live.splice(Math.floor(random() * live.length), 1);
      const bytes = m();
      for (let j = 0; j < b.size; j += 61) assert.equal(bytes[b.p + j], b.tag, `block of ${b.size} bytes overwritten`);
      if (b.size) assert.equal(bytes[b.p + b.size - 1], b.tag);
      x.digits_free(b.p);
    }
  }
});

// MARK: - Pictures

/// A picture of strokes (polylines of [x, y] points, `width` pixels thick, anti-aliased):
/// RGBA pixels, ink `ink` over `page` (alpha 0 for a transparent page).
function picture(w, h, strokes, { width = 14, ink = [20, 30, 120, 255], page = [235, 230, 220, 255] } = {}) {
  const px = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let d = Infinity;
    for (const s of strokes) for (let i = 0; i + 1 < s.length; i++) {
      const [ax, ay] = s[i], [bx, by] = s[i + 1], dx = bx - ax, dy = by - ay;
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
      d = Math.min(d, Math.hypot(x - ax - t * dx, y - ay - t * dy));
    }
    const a = Math.max(0, Math.min(1, width / 2 - d + 0.5));
    for (let c = 0; c < 4; c++) px[(y * w + x) * 4 + c] = Math.round(ink[c] * a + page[c] * (1 - a));
  }
  return px;
}

/// An RGBA PNG file's bytes.
function png(w, h, rgba) {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0); out.write(type, 4, 'latin1'); Buffer.from(data).copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(h * (1 + w * 4));
  for (let y = 0; y < h; y++) Buffer.from(rgba.subarray(y * w * 4, (y + 1) * w * 4)).copy(raw, y * (1 + w * 4) + 1);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

test('prepares and reads drawings as digits predict does', async () => {
  const d = await load();
  const model = d.loadModel(readFileSync(join(site, 'model.safetensors')));
  const cases = [
    { name: 'seven', w: 200, h: 240, strokes: [[[40, 40], [160, 44], [85, 210]]] },
    { name: 'two-on-transparent', w: 180, h: 180, strokes: [[[50, 60], [90, 35], [130, 60], [60, 150], [140, 150]]],
      style: { width: 10, ink: [0, 0, 0, 255], page: [0, 0, 0, 0] } },
    { name: 'thin-one', w: 300, h: 200, strokes: [[[150, 30], [140, 175]]], style: { width: 3 } },
  ];
  for (const c of cases) {
    const rgba = picture(c.w, c.h, c.strokes, c.style);
    const file = join(work, `${c.name}.png`);
    writeFileSync(file, png(c.w, c.h, rgba));
    const [native] = digits('predict', '--json', '--model', join(site, 'model.safetensors'), file);
    const prepared = d.prepare(rgba, c.w, c.h, 4);
    assert.ok(prepared, `${c.name}: no ink found`);
    const { probabilities } = model.read(prepared);
    assertSameReading(probabilities, native.probabilities, c.name);
  }
  // A blank page has no ink: null, and the module carries on.
  assert.equal(d.prepare(new Uint8Array(64 * 64 * 4).fill(255), 64, 64, 4), null);
  assert.equal(model.read(mnist.test.images.subarray(0, 784)).digit, mnist.test.labels[0]);
  model.free();
});

// MARK: - Training

/// Trains preset `name` for `steps` steps in the module, `every` at a time, and natively with
/// `digits train --steps`: the same mean losses per interval, within float rounding.
async function compareTraining(name, steps, every) {
  const d = await load();
  const preset = presets.find((p) => p.name === name);
  const architecture = JSON.parse(preset.architecture);
  const model = d.createModel(architecture, { seed: preset.seed, initializer: preset.initializer });
  const data = d.dataset(mnist.train.images, mnist.train.labels, architecture.inputShape);
  const trainer = model.trainer(data, { ...preset, steps }, preset.seed);
  const ours = [];
  while (!trainer.done) ours.push(trainer.run(every));
  const save = join(work, `${name}.safetensors`);
  const native = digits('train', '--preset', name, '--steps', String(steps), '--report-every', String(every),
    '--json', '--no-progress', '--save', save).filter((r) => r.train_loss !== undefined);
  assert.equal(native.length, ours.length);
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i].loss, b = native[i].train_loss;
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${name}, steps to ${ours[i].step}: loss ${a} here, ${b} natively`);
    assert.ok(Math.abs(ours[i].accuracy - native[i].train_accuracy) <= 2 / (preset.batchSize * every), `${name}: batch accuracy`);
  }
  trainer.free();
  data.free();
  return { model, ours, native, nativeModel: save };
}

test('trains the mlp preset as digits train does, and its model file reads natively', async () => {
  const d = await load();
  const { model } = await compareTraining('mlp', 40, 10);
  // The model saved from the page scores the same natively as in the module.
  const file = join(work, 'from-the-module.safetensors');
  writeFileSync(file, model.toSafetensors({ loss: 'ce' }));
  const testSet = d.dataset(mnist.test.images, mnist.test.labels, [784]);
  const ours = model.evaluate(testSet);
  const [native] = digits('eval', '--json', '--model', file);
  // Without fused multiply-adds in WebAssembly the scores differ in the last bits: a near-tie may flip.
  assert.ok(Math.abs(native.test_accuracy - ours.accuracy) <= 2e-4, `test accuracy ${ours.accuracy} here, ${native.test_accuracy} natively`);
  assert.ok(Math.abs(native.test_loss - ours.loss) < 1e-4, `test loss ${ours.loss} here, ${native.test_loss} natively`);
  testSet.free();
  model.free();
});

test('trains the fast CNN preset as digits train does', async () => {
  const { model } = await compareTraining('fast', 6, 3);
  model.free();
});

test('refuses bad model files with a clear message', async () => {
  const d = await load();
  const good = readFileSync(join(site, 'model.safetensors'));
  assert.throws(() => d.loadModel(good.subarray(0, 5)), /too short/);
  assert.throws(() => d.loadModel(good.subarray(0, good.length - 100)), /truncated/);
  const bad = Buffer.from(good);
  bad.writeBigUInt64LE(1n << 40n, 0);
  assert.throws(() => d.loadModel(bad), /header length/);
  // Architectures too large for the page are refused before anything is allocated.
  const huge = { inputShape: [784], layers: [{ dense: { inputs: 784, outputs: 65536, bias: true } }, { dense: { inputs: 65536, outputs: 65536, bias: true } }] };
  assert.throws(() => d.createModel(huge), /weights, more than/);
  assert.throws(() => d.createModel({ inputShape: [1, 28, 28], layers: [{ conv2d: { inChannels: 1, outChannels: 4, kernelSize: 999, stride: 1, padding: 0, bias: true } }] }), /out of range|kernel/);
  assert.throws(() => d.createModel({ inputShape: [784], layers: [{ dense: { inputs: 784, outputs: -3, bias: true } }] }), /out of range/);
  assert.throws(() => d.createModel({ inputShape: [784], layers: [{ custom: { name: 'x', sizes: [] } }] }), /custom layer/);
  // The module still works afterwards.
  const model = d.loadModel(good);
  assert.equal(model.read(mnist.test.images.subarray(784, 1568)).digit, mnist.test.labels[1]);
  model.free();
});

after(() => rmSync(work, { recursive: true, force: true }));
