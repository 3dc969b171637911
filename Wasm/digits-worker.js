// digits-worker.js: runs digits.wasm in a Web Worker, so that reading and training never block
// the page. The page talks to it through `DigitsWorker` (digits.js):
//
//   const worker = new DigitsWorker(new URL('digits-worker.js', import.meta.url));
//   await worker.call('load', { wasm: 'digits.wasm' });
//
// Requests are { id, op, args }; the answer is { id, result } or { id, error }. Training also
// posts { progress } messages while it runs. Every operation is a method of `ops` below.

import { Digits } from './digits.js';

let digits = null;
const models = new Map();     // name -> Model
const datasets = new Map();   // name -> dataset
let training = null;          // { stop: boolean }

/// Dataset `name` in the module, in the sample shape of `model`.
function datasetFor(name, model) {
  const d = need(datasets, name, 'dataset'), shape = model.architecture.inputShape, key = shape.join('x');
  if (!d.inModule.has(key)) d.inModule.set(key, digits.dataset(d.pixels, d.labels, shape, d.classes));
  return d.inModule.get(key);
}

const need = (map, name, what) => {
  const v = map.get(name);
  if (!v) throw new Error(`no ${what} named ${name}`);
  return v;
};

const setModel = (name, model) => { models.get(name)?.free(); models.set(name, model); };

const ops = {
  /// Loads the module from a URL (or bytes).
  async load({ wasm }) {
    digits = await Digits.load(typeof wasm === 'string' ? fetch(wasm) : wasm);
    return { bytes: digits.x.memory.buffer.byteLength };
  },

  /// A model from a safetensors file's bytes (or URL): its layers.
  async loadModel({ name = 'model', bytes, url }) {
    if (url) bytes = await (await fetch(url)).arrayBuffer();
    setModel(name, digits.loadModel(bytes, url ?? name));
    const m = models.get(name);
    return { layers: m.layers(), metadata: m.metadata, architecture: m.architecture };
  },

  /// A new network with fresh weights: { architecture, seed, initializer } (a preset's).
  createModel({ name = 'model', architecture, seed, initializer }) {
    setModel(name, digits.createModel(architecture, { seed, initializer }));
    return { layers: models.get(name).layers() };
  },

  /// What the studio's model summary shows: each layer's summary, output shape and trainable
  /// parameter count, the total, and the first layer's weights as pictures (a convolution's
  /// kernels on their first input channel, or a dense layer's first 64 units as 28×28), as
  /// `GET /api/model` answers them.
  summary({ name = 'model' }) {
    const m = need(models, name, 'model');
    const layers = m.layers().map((l) => ({ ...l, parameters: 0 }));
    const params = m.parameters();
    let total = 0;
    for (const p of params) {
      if (/running/.test(p.name)) continue;   // BatchNorm's running statistics are not trained
      const i = Number(/^layers\.(\d+)\./.exec(p.name)?.[1]);
      if (layers[i]) layers[i].parameters += p.values.length;
      total += p.values.length;
    }
    let weights = null;
    const first = params.find((p) => !/running/.test(p.name));
    if (first) {
      const i = Number(/^layers\.(\d+)\./.exec(first.name)?.[1]), w = first.values, s = first.shape;
      if (s.length === 4) {   // (outC, inC, k, k): the first input channel of each kernel
        const [outC, inC, k, k2] = s;
        weights = { layer: layers[i]?.summary ?? first.name, kind: 'conv', width: k, height: k2,
                    images: Array.from({ length: outC }, (_, o) => Array.from(w.subarray(o * inC * k * k2, o * inC * k * k2 + k * k2))) };
      } else if (s.length === 2 && s[0] === 784) {   // (784, units)
        const units = Math.min(s[1], 64);
        weights = { layer: layers[i]?.summary ?? first.name, kind: 'dense', width: 28, height: 28,
                    images: Array.from({ length: units }, (_, u) => Array.from({ length: 784 }, (_, j) => w[j * s[1] + u])) };
      }
    }
    return { layers, parameters: total, inputShape: m.architecture.inputShape, metadata: m.metadata, weights };
  },

  /// Forgets model `name`.
  freeModel({ name }) {
    models.get(name)?.free();
    models.delete(name);
    return {};
  },

  /// Prepares a picture and reads it: the 28×28 digit, the probabilities, each layer's output
  /// and how long each part took (ms). `prepared` is null (and nothing is read) for a blank picture.
  read({ name = 'model', pixels, width, height, channels = 4, prepare = true, layers = false }) {
    const model = need(models, name, 'model');
    const t0 = performance.now();
    const prepared = prepare ? digits.prepare(pixels, width, height, channels) : pixels;
    const t1 = performance.now();
    if (!prepared) return { prepared: null, prepareMs: t1 - t0 };
    const { digit, probabilities } = model.read(prepared);
    const t2 = performance.now();
    const outputs = layers ? model.layers().map((l, i) => ({ ...l, values: model.layerOutput(i) })) : undefined;
    return { prepared, digit, probabilities, layers: outputs, prepareMs: t1 - t0, readMs: t2 - t1 };
  },

  /// Reads many samples of bytes at once: their probabilities.
  readBatch({ name = 'model', pixels, count }) {
    return { probabilities: need(models, name, 'model').readBatch(pixels, count) };
  },

  /// A dataset under `name`: its bytes are kept here, and copied into the module in the sample
  /// shape each model needs (784, or 1×28×28 for a convolutional network) when first used.
  dataset({ name, pixels, labels, classes = 10 }) {
    for (const d of datasets.get(name)?.inModule.values() ?? []) d.free();
    datasets.set(name, { pixels, labels, classes, inModule: new Map() });
    return { count: labels.length };
  },

  evaluate({ name = 'model', dataset, loss }) {
    const model = need(models, name, 'model');
    const { accuracy, loss: meanLoss, predictions } = model.evaluate(datasetFor(dataset, model), loss);
    return { accuracy, loss: meanLoss, predictions };
  },

  /// Trains `name` on dataset `dataset` by `plan` (see `Trainer`), posting { progress } every
  /// `every` steps (chunks end at each epoch's end, where `test`, when given, is evaluated)
  /// until done or stopped. Between chunks of steps it yields, so that 'stop' (and readings)
  /// are heard. `seconds` counts training only, not the evaluations.
  async train({ name = 'model', dataset, test, plan, seed = 1, every = 10 }) {
    const model = need(models, name, 'model'), data = datasetFor(dataset, model);
    const trainer = model.trainer(data, plan, seed);
    const stepsPerEpoch = Math.ceil(data.count / Math.min(plan.batchSize, data.count));
    const run = (training = { stop: false });
    let seconds = 0, step = 0;
    let last;
    try {
      while (!trainer.done && !run.stop) {
        const t = performance.now();
        last = trainer.run(Math.min(every, stepsPerEpoch - (step % stepsPerEpoch)));
        seconds += (performance.now() - t) / 1000;
        step = last.step;
        const progress = { ...last, totalSteps: trainer.totalSteps, stepsPerEpoch, epoch: last.step / stepsPerEpoch, seconds };
        if (test && (last.step % stepsPerEpoch === 0 || trainer.done)) {
          const e = model.evaluate(datasetFor(test, model), plan.loss);
          progress.testAccuracy = e.accuracy;
          progress.testLoss = e.loss;
        }
        postMessage({ progress });
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      trainer.free();
      if (training === run) training = null;
    }
    return { ...last, stopped: run.stop, seconds };
  },

  stop() {
    if (training) training.stop = true;
    return {};
  },

  /// The model as safetensors bytes (for a download that `digits eval --model` reads).
  save({ name = 'model', metadata = {} }) {
    return { bytes: need(models, name, 'model').toSafetensors(metadata) };
  },
};

onmessage = async ({ data: { id, op, args } }) => {
  try {
    if (!ops[op]) throw new Error(`unknown operation ${op}`);
    if (op !== 'load' && !digits) throw new Error('the module is not loaded yet');
    postMessage({ id, result: await ops[op](args ?? {}) });
  } catch (e) {
    postMessage({ id, error: e.message ?? String(e) });
  }
};
