// local.js: what `digits serve` answers, answered in the browser, for the static studio that
// `digits web` writes (no server behind it). studio.js calls the same methods on this as on the
// server's JSON API; everything runs in digits.wasm (Digits' own Swift core) through the worker:
//
// - the models: the site's model.safetensors, and those trained or fine-tuned here (kept in the
//   browser's storage; "Download" saves one as a file `digits eval --model` reads);
// - training a preset on MNIST (the site's copy), with the same steps and random draws as
//   `digits train --seed`; fine-tuning on your examples as the studio's Teach does;
// - your examples, kept in this browser's storage (IndexedDB, so they survive a reload), and
//   exported as a CSV file (label, then the 784 pixels) that `digits train --extra FILE` and
//   `digits finetune --extra FILE` read;
// - the test set: accuracy, the confusion matrix, its digits, and a comparison with the readings
//   `digits web` made natively (reference.json).

// MARK: - MNIST (the site's gzip IDX files)

/// An IDX file's payload: images (magic 2051) or labels (2049).
async function idx(url, magic) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  if (bytes.length < 8 || new DataView(bytes.buffer).getUint32(0) !== magic) throw new Error(`${url} is not an IDX file of kind ${magic}`);
  return bytes.subarray(magic === 2051 ? 16 : 8);
}

async function mnistSet(name) {
  const [images, labels] = await Promise.all([idx(`mnist/${name}-images-idx3-ubyte.gz`, 2051), idx(`mnist/${name}-labels-idx1-ubyte.gz`, 2049)]);
  if (images.length !== labels.length * 784) throw new Error(`mnist/${name}: ${labels.length} labels for ${images.length / 784} images`);
  return { images, labels, count: labels.length };
}

// MARK: - Examples in IndexedDB

/// The person's examples: { label, pixels (784 bytes) } records in IndexedDB, or in memory when
/// the browser keeps no storage (then they last until the page is closed); and the models
/// trained here: { name, preset, testAccuracy, bytes (a safetensors file) }.
class ExampleStore {
  static capacity = 10_000;

  constructor() {
    this.memory = null;
    this.db = new Promise((resolve, reject) => {
      const open = indexedDB.open("digits-studio", 2);
      open.onupgradeneeded = () => {
        const names = open.result.objectStoreNames;
        if (!names.contains("examples")) open.result.createObjectStore("examples", { autoIncrement: true });
        if (!names.contains("models")) open.result.createObjectStore("models", { keyPath: "name" });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    }).catch(() => { this.memory = []; return null; });
  }

  /// Runs `body(store)` in a transaction; resolves with the request's result once it is committed.
  async transaction(mode, body, store = "examples") {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const t = db.transaction(store, mode), request = body(t.objectStore(store));
      t.oncomplete = () => resolve(request?.result);
      t.onerror = t.onabort = () => reject(t.error ?? new Error("the browser's storage refused"));
    });
  }

  /// The models kept here (none without storage).
  async models() {
    if (await this.db === null) return [];
    return this.transaction("readonly", (s) => s.getAll(), "models");
  }

  /// Keeps a model; a failure (storage full) only means it lasts until the page is closed.
  async keepModel(record) {
    if (await this.db === null) return false;
    try { await this.transaction("readwrite", (s) => s.put(record), "models"); return true; } catch { return false; }
  }

  /// Forgets a model kept here.
  async forgetModel(name) {
    if (await this.db === null) return;
    await this.transaction("readwrite", (s) => s.delete(name), "models");
  }

  async all() {
    if (await this.db === null) return this.memory.slice();
    const records = await this.transaction("readonly", (s) => s.getAll());
    // Storage another page version (or a person with the developer tools) wrote is not trusted.
    return records.filter((r) => Number.isInteger(r?.label) && r.label >= 0 && r.label <= 9 && r.pixels?.length === 784)
      .map((r) => ({ label: r.label, pixels: Uint8Array.from(r.pixels, (v) => Math.max(0, Math.min(255, v | 0))) }));
  }

  /// Adds one; returns its index and the count.
  async add(label, pixels) {
    if (!Number.isInteger(label) || label < 0 || label > 9) throw new Error(`label must be a digit 0-9, got ${label}`);
    if (pixels?.length !== 784) throw new Error(`an example has 784 pixels, got ${pixels?.length}`);
    const count = (await this.all()).length;
    if (count >= ExampleStore.capacity) throw new Error(`this browser holds the most examples it keeps (${ExampleStore.capacity})`);
    const record = { label, pixels: Uint8Array.from(pixels) };
    if (await this.db === null) this.memory.push(record);
    else await this.transaction("readwrite", (s) => s.add(record));
    return { index: count, count: count + 1 };
  }

  async clear() {
    if (await this.db === null) this.memory = [];
    else await this.transaction("readwrite", (s) => s.clear());
  }
}

/// Examples as a CSV file, one per line: the label, then the 784 pixels (0 background … 255 ink),
/// as Kaggle's MNIST CSV (without a header) and DigitsData's CSV reader have them.
export function examplesCSV(examples) {
  return examples.map((e) => `${e.label},${Array.from(e.pixels).join(",")}\n`).join("");
}

// MARK: - The backend

/// The name the site's own model (the file `digits web` put beside the page) goes by.
const SITE_MODEL = "model.safetensors";

const number = (x) => (x === undefined || x === null || x === "" || !Number.isFinite(Number(x)) ? null : Number(x));

export class LocalBackend {
  /// Loads the site's model into `worker` (the studio's, with the module loaded) and the presets;
  /// `reader` is the studio's: this sets which model it reads with, and below which certainty
  /// (`flagBelowOf(metadata)`) a reading is flagged.
  static async start(worker, { reader, flagBelowOf = () => 0.6 }) {
    const b = new LocalBackend(worker, reader);
    b.flagBelowOf = flagBelowOf;
    const url = new URL("model.safetensors", document.baseURI).href;
    const m = await worker.call("loadModel", { name: SITE_MODEL, url });
    b.known.set(SITE_MODEL, { name: SITE_MODEL, preset: m.metadata.preset ?? null, testAccuracy: number(m.metadata.test_accuracy),
                              flagBelow: flagBelowOf(m.metadata) });
    b.use(SITE_MODEL);
    const response = await fetch("presets.json");
    if (!response.ok) throw new Error(`presets.json: HTTP ${response.status}`);
    b.presetList = (await response.json()).presets;
    // The models trained or fine-tuned here on earlier visits.
    for (const record of await b.store.models().catch(() => [])) {
      if (b.known.has(record.name)) continue;
      try {
        const m = await worker.call("loadModel", { name: record.name, bytes: record.bytes });
        b.known.set(record.name, { name: record.name, preset: record.preset ?? null, testAccuracy: number(record.testAccuracy),
                                   flagBelow: flagBelowOf(m.metadata) });
      } catch { /* a model this module cannot read any more: left out */ }
    }
    return b;
  }

  constructor(worker, reader) {
    this.worker = worker;
    this.reader = reader;
    this.known = new Map();       // name -> { name, preset, testAccuracy }
    this.current = null;
    this.presetList = [];
    this.listeners = [];
    this.running = false;
    this.store = new ExampleStore();
    this.sets = {};               // "test", "train": { images, labels, count }
    this.predictions = new Map(); // model name -> Uint8Array of the test set's readings
    this.lastRun = null;          // timings of the last training here, for the page and its tests
  }

  /// Keeps model `name` in the browser's storage.
  async keep(name) {
    const info = this.known.get(name);
    const { bytes } = await this.worker.call("save", { name, metadata: { trained_in: "browser" } });
    await this.store.keepModel({ name, preset: info.preset, testAccuracy: info.testAccuracy, bytes });
  }

  use(name) {
    this.current = name;
    this.reader.name = this.reader.label = name;
    this.reader.flagBelow = this.known.get(name)?.flagBelow ?? this.flagBelowOf({});
    this.reader.ready = true;
  }

  freeName(base) {
    if (!this.known.has(base)) return base;
    let i = 2;
    while (this.known.has(`${base}-${i}`)) i++;
    return `${base}-${i}`;
  }

  // MARK: Data

  /// MNIST's `name` set ("test" or "train"), in the page and as a dataset in the worker.
  async set(name) {
    if (!this.sets[name]) {
      this.sets[name] = mnistSet(name === "test" ? "t10k" : "train").then(async (s) => {
        await this.worker.call("dataset", { name, pixels: s.images, labels: s.labels });
        return s;
      });
      this.sets[name].catch(() => { delete this.sets[name]; });
    }
    return this.sets[name];
  }

  /// The first `count` training digits as a dataset in the worker; its name.
  async trainingDigits(count) {
    const train = await this.set("train");
    if (!count || count >= train.count) return "train";
    const name = `train-${count}`;
    if (!this.sets[name]) {
      this.sets[name] = this.worker.call("dataset", { name, pixels: train.images.slice(0, count * 784), labels: train.labels.slice(0, count) });
    }
    await this.sets[name];
    return name;
  }

  // MARK: The model

  async model() {
    const s = await this.worker.call("summary", { name: this.current });
    const info = this.known.get(this.current);
    return {
      name: this.current, preset: info.preset, parameters: s.parameters, testAccuracy: info.testAccuracy,
      inputShape: s.inputShape, weights: s.weights, metadata: s.metadata,
      layers: s.layers.map((l, index) => ({ index, name: l.summary, shape: l.shape, parameters: l.parameters })),
    };
  }

  async models() {
    return { current: this.current, models: [...this.known.keys()].sort().map((name) => ({
      name, current: name === this.current, deletable: name !== this.current && name !== SITE_MODEL })) };
  }

  /// Deletes model `name` from this browser (its storage and the worker); the site's own model and
  /// the model in use are refused, as `digits serve` refuses its launch file and the model in use.
  async remove(name) {
    if (!this.known.has(name)) throw new Error(`no model named '${name}'`);
    if (name === SITE_MODEL) throw new Error(`${name} is the site's own model: it is not deleted`);
    if (name === this.current) throw new Error(`'${name}' is the model in use: choose another one before deleting it`);
    await this.store.forgetModel(name);
    await this.worker.call("freeModel", { name });
    this.known.delete(name);
    this.predictions.delete(name);
    return this.models();
  }

  async select(name) {
    if (!this.known.has(name)) throw new Error(`no model named '${name}'`);
    this.use(name);
    return this.models();
  }

  /// The model in use as a safetensors file (what `digits eval --model` reads).
  async modelFile() {
    const info = this.known.get(this.current);
    const metadata = { trained_in: "browser" };
    if (info.preset) metadata.preset = info.preset;
    if (info.testAccuracy !== null) metadata.test_accuracy = String(info.testAccuracy);
    const { bytes } = await this.worker.call("save", { name: this.current, metadata });
    return { name: this.current, bytes };
  }

  // MARK: Training

  async presets() {
    return this.presetList.map((p) => ({ name: p.name, summary: p.summary, epochs: p.epochs, learningRate: p.learningRate, batchSize: p.batchSize }));
  }

  async trainingStatus() { return { running: this.running }; }

  listen(handler) { this.listeners.push(handler); }

  emit(event) { for (const h of this.listeners) h(event); }

  /// Starts training `body.preset` ({ epochs, learningRate, batchSize, name, trainCount }) and
  /// returns at once; events tell how it goes, as the server's /api/train/events do.
  async train(body) {
    if (this.running) throw new Error("a training run is going: stop it first");
    const preset = this.presetList.find((p) => p.name === body.preset);
    if (!preset) throw new Error(`no preset named '${body.preset}'`);
    const epochs = body.epochs ?? preset.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 50) throw new Error("epochs must be a whole number from 1 to 50");
    const learningRate = body.learningRate ?? preset.learningRate;
    if (!(learningRate > 0 && learningRate < 10)) throw new Error("the learning rate must be above 0 and below 10");
    const batchSize = body.batchSize ?? preset.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096) throw new Error("the batch must be a whole number from 1 to 4096");
    if (body.name && !/^[A-Za-z0-9_.-]{1,64}$/.test(body.name)) throw new Error("a name is letters, digits, '_', '.' and '-' (at most 64)");
    const name = this.freeName(body.name || preset.name);
    this.running = true;
    this.run(name, preset, { ...preset, epochs, steps: undefined, learningRate, batchSize }, body.trainCount)
      .catch((error) => this.emit({ type: "error", message: `Training stopped: ${error.message}` }))
      .finally(() => { this.running = false; });
    return { name };
  }

  async run(name, preset, plan, trainCount) {
    const dataset = await this.trainingDigits(trainCount);
    await this.set("test");
    const count = dataset === "train" ? (await this.set("train")).count : trainCount;
    await this.worker.call("createModel", { name, architecture: JSON.parse(preset.architecture), seed: preset.seed, initializer: preset.initializer });
    this.emit({ type: "start", name, preset: preset.name, epochs: plan.epochs });
    let sum = { loss: 0, accuracy: 0, steps: 0 }, lastSeconds = 0, epochStart = 0;
    const epochs = [];
    this.worker.onProgress = (p) => {
      sum.loss += p.loss * p.steps; sum.accuracy += p.accuracy * p.steps; sum.steps += p.steps;
      const epoch = Math.min(plan.epochs, Math.ceil(p.step / p.stepsPerEpoch));
      const chunkSeconds = p.seconds - lastSeconds;
      lastSeconds = p.seconds;
      this.emit({ type: "progress", name, epoch, epochs: plan.epochs, step: p.step - (epoch - 1) * p.stepsPerEpoch, steps: p.stepsPerEpoch,
                  samplesPerSecond: chunkSeconds > 0 ? p.steps * plan.batchSize / chunkSeconds : 0 });
      if (p.testAccuracy !== undefined) {
        const e = { type: "epoch", name, epoch, epochs: plan.epochs, trainLoss: sum.loss / sum.steps, trainAccuracy: sum.accuracy / sum.steps,
                    testLoss: p.testLoss, testAccuracy: p.testAccuracy, seconds: p.seconds - epochStart };
        epochs.push(e);
        this.emit(e);
        sum = { loss: 0, accuracy: 0, steps: 0 };
        epochStart = p.seconds;
      }
    };
    const r = await this.worker.call("train", { name, dataset, test: "test", plan, seed: preset.seed, every: 20 });
    this.worker.onProgress = () => {};
    if (r.stopped) {
      await this.worker.call("freeModel", { name });
      this.emit({ type: "stopped", message: `Stopped at step ${r.step}: ${name} was not kept.` });
      return;
    }
    const testAccuracy = epochs.at(-1)?.testAccuracy ?? null;
    this.lastRun = { name, preset: preset.name, trainDigits: count, epochs: plan.epochs, seconds: r.seconds,
                     epochSeconds: epochs.map((e) => e.seconds), testAccuracy };
    this.known.set(name, { name, preset: preset.name, testAccuracy });
    this.use(name);
    await this.keep(name);
    this.emit({ type: "done", name, testAccuracy, seconds: r.seconds });
  }

  async stop() {
    if (!this.running) throw new Error("no training is running");
    await this.worker.call("stop");
    return {};
  }

  // MARK: Examples and teaching

  async examples() {
    const all = await this.store.all();
    return { count: all.length, examples: all };
  }

  addExample(label, prepared) { return this.store.add(label, prepared); }

  clearExamples() { return this.store.clear(); }

  async examplesCSV() { return examplesCSV(await this.store.all()); }

  /// What the studio's Teach does (DigitsServer's FineTuning): 300 steps of Adam (learning rate
  /// 2e-4, batches of 32 drawn with replacement, seed 1) on every tenth MNIST training digit
  /// mixed with your examples repeated to about a quarter of the mix; a new model, `NAME-mine`.
  async finetune() {
    if (this.running) throw new Error("a training run is going: wait for it or stop it");
    const examples = await this.store.all();
    const n = examples.length;
    if (!n) throw new Error("there are no examples to learn from yet: correct a reading first");
    this.running = true;
    try {
      const train = await this.set("train");
      await this.set("test");
      const from = this.current;
      const mnistCount = Math.ceil(train.count / 10), repeats = Math.max(1, Math.floor(Math.floor(mnistCount / 3) / n));
      const pixels = new Uint8Array((mnistCount + repeats * n) * 784), labels = new Uint8Array(mnistCount + repeats * n);
      for (let i = 0, k = 0; i < train.count; i += 10, k++) {
        pixels.set(train.images.subarray(i * 784, (i + 1) * 784), k * 784);
        labels[k] = train.labels[i];
      }
      const examplePixels = new Uint8Array(n * 784);
      examples.forEach((e, i) => examplePixels.set(e.pixels, i * 784));
      for (let r = 0; r < repeats; r++) {
        pixels.set(examplePixels, (mnistCount + r * n) * 784);
        examples.forEach((e, i) => { labels[mnistCount + r * n + i] = e.label; });
      }
      await this.worker.call("dataset", { name: "mix", pixels, labels });
      const base = from.endsWith("-mine") ? from : `${from}-mine`;
      const name = this.freeName(base.slice(0, 60));
      // The copy drops the flag threshold: it was tuned on the certainties of the network before
      // fine-tuning (as `digits finetune` and the server's fine-tuning drop it).
      const { bytes } = await this.worker.call("save", { name: from, metadata: { flag_below: null, flag_views_disagree: null } });
      await this.worker.call("loadModel", { name, bytes });
      const readings = async () => {
        const { probabilities } = await this.worker.call("readBatch", { name, pixels: examplePixels, count: n });
        return examples.map((_, i) => { const p = probabilities.subarray(i * 10, i * 10 + 10); let b = 0; for (let j = 1; j < 10; j++) if (p[j] > p[b]) b = j; return [b, p[b]]; });
      };
      const before = await readings();
      const start = performance.now();
      const plan = { batchSize: 32, batching: "with-replacement", optimizer: { kind: "adam" }, learningRate: 2e-4, schedule: { kind: "constant" },
                     loss: "ce", steps: 300 };
      this.worker.onProgress = () => {};
      await this.worker.call("train", { name, dataset: "mix", plan, seed: 1, every: 50 });
      const seconds = (performance.now() - start) / 1000;
      const after = await readings();
      const { accuracy } = await this.worker.call("evaluate", { name, dataset: "test" });
      this.known.set(name, { name, preset: this.known.get(from)?.preset ?? null, testAccuracy: accuracy });
      this.use(name);
      await this.keep(name);
      const correct = (r) => r.filter(([d], i) => d === examples[i].label).length;
      return {
        model: name, from, examples: n, beforeCorrect: correct(before), afterCorrect: correct(after), steps: 300, seconds, testAccuracy: accuracy,
        readings: examples.map((e, i) => ({ label: e.label, before: before[i][0], beforeCertainty: before[i][1], after: after[i][0], afterCertainty: after[i][1] })),
      };
    } finally {
      this.running = false;
    }
  }

  // MARK: The test set

  /// The current model's reading of every test digit (computed once per model).
  async testReadings() {
    const test = await this.set("test");
    if (!this.predictions.has(this.current)) {
      const { predictions } = await this.worker.call("evaluate", { name: this.current, dataset: "test" });
      this.predictions.set(this.current, predictions);
    }
    return { test, predictions: this.predictions.get(this.current) };
  }

  /// Test digits `indices` with their readings, as the server lists them.
  async listed(indices, total) {
    const test = await this.set("test");
    const pixels = new Uint8Array(indices.length * 784);
    indices.forEach((i, k) => pixels.set(test.images.subarray(i * 784, (i + 1) * 784), k * 784));
    const { probabilities } = indices.length ? await this.worker.call("readBatch", { name: this.current, pixels, count: indices.length }) : { probabilities: [] };
    return {
      total, digits: indices.map((index, k) => {
        const p = probabilities.subarray(k * 10, k * 10 + 10);
        let d = 0;
        for (let j = 1; j < 10; j++) if (p[j] > p[d]) d = j;
        return { index, label: test.labels[index], digit: d, certainty: p[d], pixels: test.images.subarray(index * 784, (index + 1) * 784) };
      }),
    };
  }

  async random(count) {
    const test = await this.set("test");
    const picked = new Set();
    while (picked.size < Math.min(count, test.count)) picked.add(Math.floor(Math.random() * test.count));
    return this.listed([...picked], test.count);
  }

  async where(keep) {
    const { test, predictions } = await this.testReadings();
    const all = [];
    for (let i = 0; i < test.count; i++) if (keep(test.labels[i], predictions[i])) all.push(i);
    return this.listed(all.slice(0, 120), all.length);
  }

  wrong() { return this.where((label, read) => label !== read); }

  cell(label, predicted) { return this.where((l, read) => l === label && read === predicted); }

  async confusion() {
    const { test, predictions } = await this.testReadings();
    const matrix = Array.from({ length: 10 }, () => new Array(10).fill(0));
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      matrix[test.labels[i]][predictions[i]]++;
      if (test.labels[i] === predictions[i]) correct++;
    }
    return { model: this.current, accuracy: correct / test.count, total: test.count, matrix };
  }

  /// The site's model read here against the readings `digits web` made natively
  /// (reference.json): how many read the same digit (or, where not, with a top-two margin under
  /// 1e-4 in both), the largest probability difference, and the time per digit.
  async compareWithNative() {
    const [test, reference] = await Promise.all([this.set("test"), fetch("reference.json").then((r) => {
      if (!r.ok) throw new Error(`reference.json: HTTP ${r.status}`);
      return r.json();
    })]);
    const n = reference.count;
    const start = performance.now();
    const { probabilities } = await this.worker.call("readBatch", { name: SITE_MODEL, pixels: test.images.slice(0, n * 784), count: n });
    const ms = performance.now() - start;
    const top = (p) => { let a = 0; for (let j = 1; j < 10; j++) if (p[j] > p[a]) a = j; let b = a ? 0 : 1; for (let j = 0; j < 10; j++) if (j !== a && p[j] > p[b]) b = j; return [a, p[a] - p[b]]; };
    let same = 0, agree = 0, maxDiff = 0;
    for (let i = 0; i < n; i++) {
      const ours = probabilities.subarray(i * 10, i * 10 + 10), theirs = reference.probabilities[i];
      for (let j = 0; j < 10; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j] - theirs[j]));
      const [a, ma] = top(ours), [b, mb] = top(theirs);
      if (a === b) same++;
      if (a === b || (ma < 1e-4 && mb < 1e-4)) agree++;
    }
    return { count: n, same, agree, maxDiff, msPerDigit: ms / n, nativeMsPerDigit: reference.seconds * 1000 / n };
  }
}
