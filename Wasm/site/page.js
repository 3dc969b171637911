// The page of `digits web`: drawing, reading, the layers, the test set and training, all through
// the worker (digits-worker.js), which runs digits.wasm. What is specific to WebAssembly lives
// in digits.js and the worker; this file only draws.

import { DigitsWorker } from './digits.js';

const $ = (id) => document.getElementById(id);
const worker = new DigitsWorker(new URL('digits-worker.js', import.meta.url));
let readingModel = 'model';
let test = null, train = null;        // { images, labels, count }
let presets = [];

const status = (text, error = false) => { $('status').textContent = text; $('status').className = error ? 'error' : 'muted'; };

// MARK: - MNIST

/// An IDX file (gzip) as bytes: images (magic 2051) or labels (2049).
async function idx(url, magic) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const bytes = new Uint8Array(await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  const view = new DataView(bytes.buffer);
  if (view.getUint32(0) !== magic) throw new Error(`${url} is not an IDX file of kind ${magic}`);
  return bytes.subarray(magic === 2051 ? 16 : 8);
}

async function loadSet(name) {
  const [images, labels] = await Promise.all([idx(`mnist/${name}-images-idx3-ubyte.gz`, 2051), idx(`mnist/${name}-labels-idx1-ubyte.gz`, 2049)]);
  return { images, labels, count: labels.length };
}

async function testSet() {
  if (!test) {
    test = await loadSet('t10k');
    await worker.call('dataset', { name: 'test', pixels: test.images, labels: test.labels });
  }
  return test;
}

// MARK: - Drawing

const pad = $('pad'), ctx = pad.getContext('2d', { willReadFrequently: true });
function clearPad() { ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, pad.width, pad.height); }
clearPad();
let drawing = false, last = null, pending = false;

pad.addEventListener('pointerdown', (e) => { drawing = true; last = [e.offsetX, e.offsetY]; pad.setPointerCapture(e.pointerId); stroke(e); });
pad.addEventListener('pointermove', (e) => { if (drawing) stroke(e); });
pad.addEventListener('pointerup', () => { drawing = false; readPad(); });
$('clear').onclick = () => { clearPad(); $('guess').textContent = '?'; $('bars').textContent = ''; };

function stroke(e) {
  ctx.strokeStyle = '#000'; ctx.lineWidth = 18; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(e.offsetX, e.offsetY); ctx.stroke();
  last = [e.offsetX, e.offsetY];
  readPad();
}

/// Reads the pad live: one reading at a time, the latest drawing when the last one finishes.
async function readPad() {
  if (pending) return;
  pending = true;
  try {
    const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
    show(await worker.call('read', { name: readingModel, pixels: data, width, height, channels: 4, layers: true }));
  } catch (e) { status(e.message, true); }
  pending = false;
}

// MARK: - Showing a reading

function show(r) {
  if (!r.prepared) { $('guess').textContent = '?'; $('certainty').textContent = 'no ink yet'; return; }
  const p = $('prepared').getContext('2d'), img = p.createImageData(28, 28);
  for (let i = 0; i < 784; i++) { const v = r.prepared[i]; img.data.set([v, v, v, 255], i * 4); }
  createImageBitmap(img).then((b) => { p.imageSmoothingEnabled = false; p.drawImage(b, 0, 0, 112, 112); });
  $('guess').textContent = r.digit;
  $('certainty').textContent = `${(r.probabilities[r.digit] * 100).toFixed(1)}% certain`;
  $('timing').textContent = r.prepareMs !== undefined ? `prepared in ${r.prepareMs.toFixed(1)} ms, read in ${r.readMs.toFixed(1)} ms` : '';
  $('bars').innerHTML = Array.from(r.probabilities, (q, d) =>
    `<div class="bar"><span>${d}</span><div style="width:${Math.round(q * 150)}px"></div><span class="muted">${(q * 100).toFixed(1)}%</span></div>`).join('');
  if (r.layers) showLayers(r.layers);
}

/// Each layer's output: up to 8 channels of a (C, H, W) map as small pictures, a vector as a strip.
function showLayers(layers) {
  const box = $('layers');
  box.textContent = '';
  for (const layer of layers) {
    const div = document.createElement('div');
    div.className = 'layer';
    div.append(`${layer.summary} → [${layer.shape.join(', ')}] `);
    const v = layer.values;
    if (!v) continue;
    let max = 1e-9;
    for (const x of v) max = Math.max(max, Math.abs(x));
    const [c, h, w] = layer.shape.length === 3 ? layer.shape : [1, 1, v.length];
    for (let k = 0; k < Math.min(c, 8); k++) {
      const canvas = document.createElement('canvas');
      canvas.width = w; canvas.height = h;
      const scale = layer.shape.length === 3 ? Math.max(1, Math.floor(56 / h)) : 1;
      canvas.style.width = `${layer.shape.length === 3 ? w * scale : Math.min(640, w * 2)}px`;  // a long vector is squeezed
      canvas.style.height = `${h * scale * (layer.shape.length === 3 ? 1 : 12)}px`;
      const g = canvas.getContext('2d'), img = g.createImageData(w, h);
      for (let i = 0; i < w * h; i++) {
        const x = v[k * w * h + i] / max;
        img.data.set(x >= 0 ? [255 - 255 * x, 255 - 120 * x, 255, 255] : [255, 255 + 255 * x, 255 + 255 * x, 255], i * 4);
      }
      g.putImageData(img, 0, 0);
      div.append(canvas, ' ');
    }
    box.append(div);
  }
}

// MARK: - Test digits

$('random').onclick = async () => {
  const t = await testSet();
  const i = Math.floor(Math.random() * t.count);
  // Drawn on the pad as white ink on black, as MNIST stores it; read straight (no preparation).
  const img = ctx.createImageData(28, 28);
  for (let j = 0; j < 784; j++) { const v = t.images[i * 784 + j]; img.data.set([v, v, v, 255], j * 4); }
  const bitmap = await createImageBitmap(img);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, pad.width, pad.height);
  const r = await worker.call('read', { name: readingModel, pixels: t.images.slice(i * 784, (i + 1) * 784), prepare: false, layers: true });
  show({ ...r, prepared: t.images.slice(i * 784, (i + 1) * 784) });
  $('certainty').textContent += ` (test digit ${i}, label ${t.labels[i]})`;
};

$('check').onclick = async () => {
  try {
    $('checkResult').textContent = 'reading…';
    const [t, reference] = await Promise.all([testSet(), fetch('reference.json').then((r) => r.json())]);
    const n = reference.count;
    const start = performance.now();
    const { probabilities } = await worker.call('readBatch', { name: 'model', pixels: t.images.slice(0, n * 784), count: n });
    const ms = performance.now() - start;
    let same = 0, maxDiff = 0;
    for (let i = 0; i < n; i++) {
      const q = reference.probabilities[i];
      let a = 0, b = 0;
      for (let j = 0; j < 10; j++) {
        if (probabilities[i * 10 + j] > probabilities[i * 10 + a]) a = j;
        if (q[j] > q[b]) b = j;
        maxDiff = Math.max(maxDiff, Math.abs(probabilities[i * 10 + j] - q[j]));
      }
      if (a === b) same++;
    }
    $('checkResult').textContent = `${same} of ${n} read the same as natively; largest probability difference ${maxDiff.toExponential(1)}; ${(ms / n).toFixed(2)} ms a digit here, ${(reference.seconds * 1000 / n).toFixed(2)} ms natively`;
  } catch (e) { $('checkResult').textContent = e.message; }
};

$('evaluate').onclick = async () => {
  await testSet();
  const start = performance.now();
  const e = await worker.call('evaluate', { name: readingModel, dataset: 'test' });
  $('checkResult').textContent = `test accuracy ${(e.accuracy * 100).toFixed(2)}%, loss ${e.loss.toFixed(4)} (${((performance.now() - start) / 1000).toFixed(1)} s)`;
};

// MARK: - Training

const chart = { losses: [], accuracies: [], totalSteps: 1 };

function drawChart() {
  const c = $('chart'), g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  g.font = '12px system-ui'; g.fillStyle = '#777';
  g.fillText('train loss (blue), test accuracy (orange, right axis 90-100%)', 8, 14);
  const x = (step) => 30 + (c.width - 60) * step / chart.totalSteps;
  const maxLoss = Math.max(0.5, ...chart.losses.map((p) => p[1]));
  const yl = (l) => c.height - 20 - (c.height - 40) * Math.min(l / maxLoss, 1);
  const ya = (a) => c.height - 20 - (c.height - 40) * Math.max(0, (a - 0.9) / 0.1);
  const line = (points, y, colour) => {
    g.strokeStyle = colour; g.beginPath();
    points.forEach(([s, v], i) => (i ? g.lineTo(x(s), y(v)) : g.moveTo(x(s), y(v))));
    g.stroke();
    g.fillStyle = colour;
    for (const [s, v] of points) g.fillRect(x(s) - 2, y(v) - 2, 4, 4);
  };
  line(chart.losses, yl, '#4a7bd0');
  line(chart.accuracies, ya, '#e08a1e');
}

worker.onProgress = (p) => {
  chart.totalSteps = p.totalSteps;
  chart.losses.push([p.step, p.loss]);
  if (p.testAccuracy !== undefined) chart.accuracies.push([p.step, p.testAccuracy]);
  $('trainStatus').textContent = `step ${p.step} of ${p.totalSteps} (epoch ${p.epoch.toFixed(2)}), loss ${p.loss.toFixed(4)}, ` +
    `batch accuracy ${(p.accuracy * 100).toFixed(1)}%, learning rate ${p.learningRate.toPrecision(3)}, ${p.seconds.toFixed(1)} s` +
    (p.testAccuracy !== undefined ? `, test accuracy ${(p.testAccuracy * 100).toFixed(2)}%` : '');
  drawChart();
};

$('train').onclick = async () => {
  const preset = presets.find((p) => p.name === $('preset').value);
  const epochs = Math.max(1, Math.min(20, Number($('epochs').value) || 1));
  $('train').disabled = true; $('stop').disabled = false;
  try {
    if (!train) {
      $('trainStatus').textContent = 'loading the 60,000 training digits…';
      train = await loadSet('train');
      await worker.call('dataset', { name: 'train', pixels: train.images, labels: train.labels });
    }
    await testSet();
    await worker.call('createModel', { name: 'trained', architecture: JSON.parse(preset.architecture), seed: preset.seed, initializer: preset.initializer });
    Object.assign(chart, { losses: [], accuracies: [], totalSteps: 1 });
    const plan = { ...preset, epochs, steps: undefined };
    const r = await worker.call('train', { name: 'trained', dataset: 'train', test: 'test', plan, seed: preset.seed, every: 20 });
    $('trainStatus').textContent += r.stopped ? ' (stopped)' : ' (done)';
    $('use').disabled = false; $('download').disabled = false;
  } catch (e) { $('trainStatus').textContent = e.message; }
  $('train').disabled = false; $('stop').disabled = true;
};

$('stop').onclick = () => worker.call('stop');
$('use').onclick = () => { readingModel = 'trained'; status('Reading with the network trained here.'); readPad(); };
$('download').onclick = async () => {
  const { bytes } = await worker.call('save', { name: 'trained', metadata: { preset: $('preset').value, trained_in: 'browser', loss: 'ce' } });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes]));
  a.download = 'model.safetensors';
  a.click();
};

// MARK: - Start

(async () => {
  try {
    await worker.call('load', { wasm: new URL('digits.wasm', import.meta.url).href });
    const model = await worker.call('loadModel', { name: 'model', url: new URL('model.safetensors', import.meta.url).href });
    presets = (await (await fetch('presets.json')).json()).presets;
    $('preset').innerHTML = presets.map((p) => `<option value="${p.name}">${p.name}: ${p.summary}</option>`).join('');
    const accuracy = model.metadata.test_accuracy ? `, ${(Number(model.metadata.test_accuracy) * 100).toFixed(2)}% on the test set` : '';
    status(`Ready: model.safetensors (${model.metadata.preset ?? 'model'}${accuracy}), ${model.layers.length} layers. Draw a digit.`);
  } catch (e) { status(e.message, true); }
})();
