// digits.js: the JavaScript side of digits.wasm, Digits' own Swift core compiled to
// WebAssembly. No framework, no dependencies; runs in a browser (page or worker) and in node.
//
//   import { Digits } from './digits.js';
//   const digits = await Digits.load(fetch('digits.wasm'));      // or bytes
//   const model = digits.loadModel(await (await fetch('model.safetensors')).arrayBuffer());
//   const { digit, probabilities } = model.read(digits.prepare(rgba, width, height, 4));
//
// The module does the work (preparation, reading, training, all in Swift); this file moves bytes
// in and out of its memory and reads model files' JSON headers, which JavaScript parses natively
// (the module has no JSON parser). See Wasm/README.md.

// MARK: - Safetensors

/// A safetensors file's header and tensors: { header, metadata, tensor(name) -> Float32Array }.
/// Throws an Error naming what is wrong (bad length, bad JSON, a tensor out of the file, ...).
export function parseSafetensors(bytes, name = 'model file') {
  // A plain Uint8Array (a node Buffer's slice would not copy).
  const data = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  const fail = (why) => { throw new Error(`${name}: ${why}`); };
  if (data.length < 8) fail(`too short to be a safetensors file (${data.length} bytes)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = view.getBigUint64(0, true);
  if (n < 2n || n > BigInt(data.length - 8)) fail(`header length ${n} does not fit in a file of ${data.length} bytes (truncated or not safetensors)`);
  let header;
  try { header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(8, 8 + Number(n)))); } catch { fail('header is not valid JSON'); }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const body = 8 + Number(n);
  const metadata = header.__metadata__ ?? {};
  return {
    header, metadata,
    tensor(tensorName, shape) {
      const entry = header[tensorName];
      if (!entry || typeof entry !== 'object') fail(`tensor ${tensorName} is missing`);
      if (entry.dtype !== 'F32') fail(`tensor ${tensorName} is not F32`);
      if (!Array.isArray(entry.shape) || entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]))
        fail(`tensor ${tensorName} has shape [${entry.shape}], expected [${shape}]`);
      const [start, end] = Array.isArray(entry.data_offsets) ? entry.data_offsets : [];
      const count = shape.reduce((a, b) => a * b, 1);
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end - start !== count * 4) fail(`tensor ${tensorName} has bad data offsets`);
      if (body + end > data.length) fail(`truncated: tensor ${tensorName} ends past the end of the file`);
      // Copied, so that the values are aligned whatever the header's length.
      return new Float32Array(data.slice(body + start, body + end).buffer);
    },
  };
}

/// The bytes of a safetensors file: `tensors` is [{ name, shape, values: Float32Array }].
export function encodeSafetensors(tensors, metadata) {
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.length * 4] };
    offset += t.values.length * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  json = padded;
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) { out.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.length * 4), at); at += t.values.length * 4; }
  return out;
}

// MARK: - Architecture (the JSON in a model file's metadata)

// The layers are written { "kind": { fields } }. Files of format version 1 fuse an activation
// into a dense layer or convolution (`activation` field) and wrap an activation layer's as
// { "_0": … }; they are read as the layers they stand for, each remembering the stored layer
// whose tensors it holds (`stored`), as DigitsModelFile's `Architecture` reads them.
const caseOf = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v)[0] : undefined);

/// { inputShape, inputTransform, layers: [{ kind, ...fields, stored }] }, every layer one
/// textbook operation. Throws naming what is wrong or what cannot run in the module.
export function normalizeArchitecture(architecture) {
  const fail = (why) => { throw new Error(`architecture: ${why}`); };
  if (typeof architecture !== 'object' || architecture === null) fail('not an object');
  const shape = architecture.inputShape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) fail('inputShape must be 1 to 3 positive integers');
  const t = architecture.inputTransform ?? {};
  const inputTransform = { scale: Number(t.scale ?? 1 / 255), offset: Number(t.offset ?? 0) };
  if (!Number.isFinite(inputTransform.scale) || !Number.isFinite(inputTransform.offset)) fail('inputTransform is not finite');
  if (!Array.isArray(architecture.layers)) fail('no list of layers');
  const layers = [];
  architecture.layers.forEach((entry, stored) => {
    const kind = caseOf(entry), v = entry?.[kind];
    if (!kind || typeof v !== 'object' || v === null) fail(`layer ${stored} is not of the form {"kind": {…}}`);
    const activation = (a) => {
      const name = caseOf(a);
      if (!['sigmoid', 'tanh', 'relu', 'leakyReLU'].includes(name)) fail(`layer ${stored} has an unknown activation ${JSON.stringify(a)}`);
      return { kind: 'activation', activation: name, alpha: name === 'leakyReLU' ? Number(a.leakyReLU.alpha) : 0, stored };
    };
    const fused = v.activation ? [activation(v.activation)] : [];
    switch (kind) {
      case 'dense':
        if (v.biasGradient !== undefined && v.biasGradient !== 'per_unit') fail(`layer ${stored}: a bias with the mean gradient (a tutorial's quirk) cannot run in the page`);
        layers.push({ kind, inputs: v.inputs, outputs: v.outputs, bias: v.bias !== false, stored }, ...fused);
        break;
      case 'conv2d':
        layers.push({ kind, inChannels: v.inChannels, outChannels: v.outChannels, kernelSize: v.kernelSize, stride: v.stride,
                      padding: v.padding, bias: v.bias !== false, stored }, ...fused);
        break;
      case 'activation': layers.push(activation(v._0 ?? v)); break;
      case 'softmax':
        if (v.gradient !== undefined && v.gradient !== 'jacobian') fail(`layer ${stored}: a softmax with the diagonal gradient (a tutorial's quirk) cannot run in the page`);
        layers.push({ kind, stored });
        break;
      case 'maxPool2d': layers.push({ kind, kernelSize: v.kernelSize, stride: v.stride, stored }); break;
      case 'flatten': case 'globalAveragePool': layers.push({ kind, stored }); break;
      case 'dropout': layers.push({ kind, rate: v.rate, stored }); break;
      case 'batchNorm': layers.push({ kind, channels: v.channels, momentum: v.momentum, epsilon: v.epsilon, stored }); break;
      case 'custom': fail(`layer ${stored} is a custom layer (${v.name}), which cannot run in the page`); break;
      default: fail(`layer ${stored} is of an unknown kind "${kind}"`);
    }
  });
  return { inputShape: shape, inputTransform, layers };
}

/// The architecture as the current model files write it (one layer per operation).
export function architectureJSON({ inputShape, inputTransform, layers }) {
  const { scale, offset } = inputTransform;
  return {
    inputShape, inputTransform: { offset, scale },
    layers: layers.map(({ kind, stored, ...fields }) => {
      if (kind === 'activation') return { activation: { [fields.activation]: fields.activation === 'leakyReLU' ? { alpha: fields.alpha } : {} } };
      return { [kind]: fields };
    }),
  };
}

const ACTIVATIONS = { sigmoid: 1, tanh: 2, relu: 3, leakyReLU: 4 };

/// Initialiser code and its two numbers (0 He, 1 Xavier, 2 LeCun uniform, 3 uniform, 4 normal, 5 zeros).
function initializerCode(init) {
  switch (caseOf(init) ?? init) {
    case undefined: case 'he': return [0, 0, 0];
    case 'xavier': return [1, 0, 0];
    case 'lecunUniform': return [2, 0, 0];
    case 'uniform': return [3, init.uniform.low, init.uniform.high];
    case 'normal': return [4, init.normal.std, 0];
    case 'zeros': return [5, 0, 0];
    default: throw new Error(`unknown initialiser ${JSON.stringify(init)}`);
  }
}

// MARK: - The module

export class Digits {
  /// Instantiates digits.wasm from its bytes, a Response or a promise of one.
  static async load(source) {
    source = await source;
    let module;
    if (typeof Response !== 'undefined' && source instanceof Response) {
      module = await WebAssembly.compile(await source.arrayBuffer());
    } else {
      module = await WebAssembly.compile(source);
    }
    return new Digits(await WebAssembly.instantiate(module, {}));
  }

  constructor(instance) {
    this.instance = instance;
    this.x = instance.exports;
    this.broken = null;
  }

  // Views of the memory: made afresh, since the memory's buffer changes when it grows.
  // Addresses come back from the module as signed 32-bit numbers: `>>> 0` makes them unsigned.
  get u8() { return new Uint8Array(this.x.memory.buffer); }
  f32(pointer, count) { return new Float32Array(this.x.memory.buffer, pointer, count); }

  text(pointer, length) { return new TextDecoder().decode(this.u8.slice(pointer, pointer + length)); }

  /// Calls export `name`; a result that means failure (per `failed`) throws the module's message,
  /// and a trap throws naming the export (the optimised module traps without a message; anything
  /// Swift printed is added).
  call(name, args = [], failed = (r) => r < 0) {
    if (this.broken) throw new Error(`the module stopped earlier (${this.broken}); load it again`);
    let result;
    try {
      result = this.x[name](...args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        const log = this.text(this.x.digits_log_pointer() >>> 0, this.x.digits_log_length()).trim();
        this.broken = log || e.message;
        throw new Error(`${name}: ${e.message}${log ? `: ${log}` : ''}`);
      }
      throw e;
    }
    if (failed(result)) throw new Error(this.text(this.x.digits_error_pointer() >>> 0, this.x.digits_error_length()));
    return result;
  }

  /// `n` bytes of the module's memory; throws when it cannot grow that far.
  alloc(n) {
    const p = this.call('digits_alloc', [n], () => false) >>> 0;
    if (p === 0) throw new Error(`out of memory: the module cannot hold ${n} more bytes`);
    return p;
  }

  /// Copies `bytes` into a new block of the module's memory; returns its address.
  copyIn(bytes) {
    const p = this.alloc(bytes.byteLength);
    this.u8.set(new Uint8Array(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength), p);
    return p;
  }

  /// `fn(pointer)` with `bytes` in the module's memory for its duration.
  withBytes(bytes, fn) {
    const p = this.copyIn(bytes);
    try { return fn(p); } finally { this.x.digits_free(p); }
  }

  /// `fn(pointer)` with `n` bytes of scratch memory.
  withScratch(n, fn) {
    const p = this.alloc(n);
    try { return fn(p); } finally { this.x.digits_free(p); }
  }

  // MARK: - Preparing a drawing

  /// The MNIST-style 28×28 digit (784 bytes, ink bright) of a picture: `pixels` holds
  /// width × height pixels of `channels` samples (4 for a canvas's RGBA ImageData). The same
  /// Swift code as `digits predict FILE`. Null when there is no ink.
  prepare(pixels, width, height, channels = 4) {
    if (pixels.length !== width * height * channels) throw new Error(`prepare: ${pixels.length} samples for ${width}×${height}×${channels}`);
    return this.withBytes(pixels, (p) => this.withScratch(784, (out) => {
      const ok = this.call('digits_prepare', [p, width, height, channels, out], () => false);
      return ok ? this.u8.slice(out, out + 784) : null;
    }));
  }

  // MARK: - Models

  /// A network from an architecture (the object a model file keeps as JSON in its metadata:
  /// { inputShape, inputTransform: { scale, offset }, layers: [...] }) with fresh weights drawn
  /// from `seed` by `initializer` (as a recipe's), as `digits train` draws them.
  createModel(architecture, { seed = 1, initializer = { he: {} } } = {}) {
    const arch = normalizeArchitecture(architecture);
    const [d0, d1, d2] = arch.inputShape;
    this.call('digits_model_begin', [d0, d1 | 0, d2 | 0]);
    for (const layer of arch.layers) this.addLayer(layer);
    const [code, a, b] = initializerCode(initializer);
    const s = BigInt.asUintN(64, BigInt(seed));
    const handle = this.call('digits_model_finish', [Number(s & 0xffffffffn), Number(s >> 32n), code, a, b,
      arch.inputTransform.scale, arch.inputTransform.offset], (r) => r <= 0);
    return new Model(this, handle, arch);
  }

  addLayer(l) {
    const int = (v) => (Number.isInteger(v) ? v : -1);  // the module refuses what is out of range
    switch (l.kind) {
      case 'dense': return this.call('digits_model_dense', [int(l.inputs), int(l.outputs), l.bias ? 1 : 0]);
      case 'activation': return this.call('digits_model_activation', [ACTIVATIONS[l.activation], l.alpha]);
      case 'softmax': return this.call('digits_model_softmax');
      case 'conv2d': return this.call('digits_model_conv2d', [int(l.inChannels), int(l.outChannels), int(l.kernelSize), int(l.stride), int(l.padding), l.bias ? 1 : 0]);
      case 'maxPool2d': return this.call('digits_model_maxpool', [int(l.kernelSize), int(l.stride)]);
      case 'flatten': return this.call('digits_model_flatten');
      case 'globalAveragePool': return this.call('digits_model_global_average_pool');
      case 'dropout': return this.call('digits_model_dropout', [Number(l.rate)]);
      case 'batchNorm': return this.call('digits_model_batchnorm', [int(l.channels), Number(l.momentum), Number(l.epsilon)]);
      default: throw new Error(`unknown layer ${l.kind}`);
    }
  }

  /// A trained model from a safetensors file's bytes (as `digits train` saves them).
  loadModel(bytes, name = 'model file') {
    const file = parseSafetensors(bytes, name);
    if (typeof file.metadata.architecture !== 'string') throw new Error(`${name}: no Digits architecture in its metadata (not saved by Digits?)`);
    let architecture;
    try { architecture = JSON.parse(file.metadata.architecture); } catch { throw new Error(`${name}: architecture in its metadata cannot be read`); }
    let model;
    try { model = this.createModel(architecture, { seed: 0, initializer: { zeros: {} } }); } catch (e) { throw new Error(`${name}: ${e.message}`); }
    try {
      // A parameter "layers.I.weight" is stored under its stored layer's index (they differ
      // in a version 1 file, where one stored layer may stand for two).
      for (const p of model.parameters()) {
        const stored = p.name.replace(/^layers\.(\d+)\./, (_, i) => `layers.${model.architecture.layers[Number(i)].stored}.`);
        p.values.set(file.tensor(stored, p.shape));
      }
      this.call('digits_model_check_finite', [model.handle], (r) => r === 0);
      // A calibrated file's temperature (digits calibrate): readings divide the scores by it.
      if (file.metadata.temperature !== undefined) {
        this.call('digits_model_set_temperature', [model.handle, Number(file.metadata.temperature)]);
      }
    } catch (e) {
      model.free();
      throw new Error(e.message.startsWith(name) ? e.message : `${name}: ${e.message}`);
    }
    model.metadata = file.metadata;
    return model;
  }

  // MARK: - Datasets

  /// A dataset in the module: `pixels` (count × the sample size bytes), `labels` (one byte each).
  dataset(pixels, labels, shape = [784], classes = 10) {
    const count = labels.length;
    const handle = this.withBytes(pixels, (p) => this.withBytes(labels, (l) =>
      this.call('digits_dataset_create', [p, l, count, shape[0] | 0, shape[1] | 0, shape[2] | 0, classes], (r) => r <= 0)));
    return { handle, count, shape, free: () => this.x.digits_dataset_free(handle) };
  }
}

const LOSSES = { ce: 0, mse: 1, bce: 2 };

export class Model {
  constructor(digits, handle, architecture) {
    this.digits = digits;
    this.handle = handle;
    this.architecture = architecture;
    this.inputSize = digits.call('digits_model_input_size', [handle]);
    this.outputSize = digits.call('digits_model_output_size', [handle]);
    this.metadata = {};
  }

  free() { this.digits.x.digits_model_free(this.handle); }

  /// [{ name, shape, values }]: `values` is a view of the module's memory, to fill or read
  /// (take it afresh after any other call: the memory may grow and move).
  parameters() {
    const d = this.digits, h = this.handle, out = [];
    const n = d.call('digits_model_parameter_count', [h]);
    for (let i = 0; i < n; i++) {
      const length = d.call('digits_model_parameter_name', [h, i]);
      const name = d.text(d.x.digits_text_pointer() >>> 0, length);
      const shape = [];
      for (let axis = 0; ; axis++) { const s = d.x.digits_model_parameter_shape(h, i, axis); if (s <= 0) break; shape.push(s); }
      const size = d.call('digits_model_parameter_size', [h, i]);
      const pointer = d.x.digits_model_parameter_data(h, i) >>> 0;
      out.push({ name, shape, get values() { return d.f32(pointer, size); } });
    }
    return out;
  }

  /// [{ summary, shape }] for each layer (the shape of one sample's output).
  layers() {
    const d = this.digits, h = this.handle, out = [];
    const n = d.call('digits_model_layer_count', [h]);
    for (let i = 0; i < n; i++) {
      const length = d.call('digits_model_layer_summary', [h, i]);
      const summary = d.text(d.x.digits_text_pointer() >>> 0, length);
      const shape = [];
      for (let axis = 0; ; axis++) { const s = d.x.digits_model_layer_shape(h, i, axis); if (s <= 0) break; shape.push(s); }
      out.push({ summary, shape });
    }
    return out;
  }

  /// Reads one sample (bytes, e.g. a prepared 28×28 digit): { digit, probabilities }.
  read(pixels) {
    const probabilities = this.readBatch(pixels, 1);
    let digit = 0;
    for (let j = 1; j < probabilities.length; j++) if (probabilities[j] > probabilities[digit]) digit = j;
    return { digit, probabilities };
  }

  /// Reads `count` samples; returns count × classes probabilities. In chunks of `chunk`, so that
  /// a convolutional network's maps stay small (1,000 samples at once would need hundreds of MB).
  readBatch(pixels, count, chunk = 100) {
    const d = this.digits, k = this.outputSize, n = this.inputSize;
    if (pixels.length !== count * n) throw new Error(`read: ${pixels.length} bytes for ${count} samples of ${n}`);
    const out = new Float32Array(count * k);
    const size = Math.min(chunk, count);
    d.withScratch(size * n, (p) => d.withScratch(size * k * 4, (q) => {
      for (let start = 0; start < count; start += size) {
        const m = Math.min(size, count - start);
        d.u8.set(pixels.subarray(start * n, (start + m) * n), p);
        d.call('digits_read_batch', [this.handle, p, m, q]);
        out.set(d.f32(q, m * k), start * k);
      }
    }));
    return out;
  }

  /// Layer `i`'s output for the last single read (a copy), or null before any.
  layerOutput(i) {
    const d = this.digits, n = d.x.digits_layer_output_size(this.handle, i);
    return n > 0 ? d.f32(d.x.digits_layer_output(this.handle, i) >>> 0, n).slice() : null;
  }

  /// Accuracy and mean loss on a dataset (and each sample's predicted class).
  evaluate(dataset, loss = this.metadata.loss ?? 'ce') {
    const d = this.digits;
    return d.withScratch(dataset.count, (pred) => {
      const accuracy = d.call('digits_evaluate', [this.handle, dataset.handle, LOSSES[loss] ?? 0, pred]);
      return { accuracy, loss: d.x.digits_evaluate_loss(), predictions: d.u8.slice(pred, pred + dataset.count) };
    });
  }

  /// The model as a safetensors file `digits eval --model` reads (its architecture in the current
  /// form, one layer per operation, the tensors under the module's layer indices). `metadata` is
  /// added to the model's own; a key given as null is left out.
  toSafetensors(metadata = {}) {
    const meta = { ...this.metadata, ...metadata, format: 'digits', format_version: '2', architecture: JSON.stringify(architectureJSON(this.architecture)) };
    for (const k of Object.keys(meta)) { if (meta[k] === null) delete meta[k]; else meta[k] = String(meta[k]); }   // null removes a key
    return encodeSafetensors(this.parameters().map((p) => ({ name: p.name, shape: p.shape, values: p.values.slice() })), meta);
  }

  /// A training run on `dataset` (see `Trainer`). `plan`: { batchSize, batching, optimizer,
  /// learningRate, schedule, l2, reduction, loss, steps } as `digits web` writes presets; `seed`
  /// as the recipe's.
  trainer(dataset, plan, seed = 1) { return new Trainer(this, dataset, plan, seed); }
}

const OPTIMIZERS = { sgd: 0, momentum: 1, nesterov: 1, adam: 2, adamw: 3 };
const SCHEDULES = { constant: 0, step: 1, cosine: 2, 'one-cycle': 3 };
const BATCHING = { shuffled: 0, 'in-order': 1, 'with-replacement': 2 };

export class Trainer {
  constructor(model, dataset, plan, seed) {
    const d = model.digits;
    this.digits = d;
    this.model = model;
    const o = plan.optimizer ?? { kind: 'sgd' }, s = plan.schedule ?? { kind: 'constant' };
    const oc = OPTIMIZERS[o.kind], sc = SCHEDULES[s.kind], bc = BATCHING[plan.batching ?? 'shuffled'];
    if (oc === undefined || sc === undefined || bc === undefined) throw new Error('unknown optimiser, schedule or batching in the plan');
    const oa = oc === 1 ? [o.momentum ?? 0.9, o.kind === 'nesterov' || o.nesterov ? 1 : 0, 0, 0]
      : oc >= 2 ? [o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.epsilon ?? 1e-8, o.weightDecay ?? 0] : [0, 0, 0, 0];
    const sa = sc === 1 ? [s.every, s.gamma, 0] : sc === 2 ? [s.minFactor ?? 0, 0, 0]
      : sc === 3 ? [s.warmup ?? 0.3, s.divFactor ?? 25, s.finalDivFactor ?? 1e4] : [0, 0, 0];
    const steps = plan.steps ?? (plan.epochs ?? 1) * Math.ceil(dataset.count / Math.min(plan.batchSize, dataset.count));
    const sd = BigInt.asUintN(64, BigInt(seed));
    this.totalSteps = steps;
    this.handle = d.call('digits_trainer_create', [model.handle, dataset.handle, LOSSES[plan.loss ?? 'ce'] ?? 0,
      oc, ...oa, plan.learningRate, sc, ...sa, plan.batchSize, bc, plan.reduction === 'sum' ? 1 : 0, plan.l2 ?? 0,
      steps, Number(sd & 0xffffffffn), Number(sd >> 32n)], (r) => r <= 0);
  }

  /// Takes up to `steps` steps: { steps, step, loss, accuracy, learningRate } (mean loss and
  /// accuracy of the batches of these steps, measured as the weights changed, as `digits train`).
  run(steps) {
    const d = this.digits, h = this.handle;
    const done = d.call('digits_trainer_run', [h, steps]);
    return { steps: done, step: d.x.digits_trainer_step(h), loss: d.x.digits_trainer_loss(h),
             accuracy: d.x.digits_trainer_accuracy(h), learningRate: d.x.digits_trainer_learning_rate(h) };
  }

  get done() { return this.digits.x.digits_trainer_step(this.handle) >= this.totalSteps; }

  free() { this.digits.x.digits_trainer_free(this.handle); }
}

// MARK: - The worker, from the page

/// The page's handle on digits-worker.js: `call(op, args)` returns a promise of the result;
/// `onProgress(progress)` hears training as it goes.
export class DigitsWorker {
  constructor(url) {
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map();
    this.next = 1;
    this.onProgress = () => {};
    this.worker.onmessage = ({ data }) => {
      if (data.progress) { this.onProgress(data.progress); return; }
      const p = this.pending.get(data.id);
      if (!p) return;
      this.pending.delete(data.id);
      if (data.error !== undefined) p.reject(new Error(data.error)); else p.resolve(data.result);
    };
    this.worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message ?? 'the worker failed'));
      this.pending.clear();
    };
  }

  call(op, args = {}, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }
}
