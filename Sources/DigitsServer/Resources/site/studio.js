// Digits Studio: the page. Plain JavaScript, no framework, one page for two homes:
//
// - served by `digits serve`: the page loads Digits' own Swift core compiled to WebAssembly
//   (digits.wasm, in a Web Worker) and the model in use (GET /api/model/file), and reads every
//   stroke itself, prepared exactly as `digits predict` prepares a picture; the server trains,
//   fine-tunes and keeps examples and models. If the module cannot load (or cannot run the
//   model), each reading goes to POST /api/predict instead.
// - written by `digits web` (<html data-mode="static">): no server at all. local.js answers
//   what the server would, with the same module: training, fine-tuning, the test set, and the
//   examples kept in the browser's storage (IndexedDB), exportable as a CSV file that
//   `digits train --extra` and `digits finetune --extra` read.

const $ = (id) => document.getElementById(id);
const isStatic = document.documentElement.dataset.mode === "static";
const api = async (path, options = {}) => {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
};
const postJSON = (path, value) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) });
const pct = (x) => `${(x * 100).toFixed(1)} %`;

/// What the page asks of its home: the server's JSON API, or local.js in a static site.
const serverBackend = {
  model: () => api("/api/model"),
  models: () => api("/api/models"),
  select: (name) => postJSON("/api/models/select", { name }),
  remove: (name) => postJSON("/api/models/delete", { name }),
  presets: () => api("/api/presets"),
  train: (body) => postJSON("/api/train", body),
  stop: () => api("/api/train/stop", { method: "POST" }),
  trainingStatus: () => api("/api/train"),
  listen(handler) { new EventSource("/api/train/events").onmessage = (m) => handler(JSON.parse(m.data)); },
  examples: () => api("/api/examples"),
  addExample: (label, prepared) => postJSON("/api/examples", { label, prepared: Array.from(prepared) }),
  finetune: () => postJSON("/api/finetune", {}),
  random: (count) => api(`/api/testset/random?count=${count}`),
  wrong: () => api("/api/testset/digits?wrong=1&limit=120"),
  cell: (label, predicted) => api(`/api/testset/digits?label=${label}&predicted=${predicted}&limit=120`),
  confusion: () => api("/api/testset/confusion"),
};
let backend = serverBackend;

// MARK: - The module (digits.wasm in a Web Worker)

/// The worker with the module loaded, or null if it cannot load. `reader`: whether the page reads
/// itself, with which of the worker's models (`name`), shown as `label`.
let worker = null;
/// The certainty below which a reading is flagged: the model file's `flag_below` (tuned by
/// `digits calibrate --flag`, as the shipped reader has), else 60 % (`Prediction.lowConfidence`),
/// as `digits predict` and the server flag.
const LOW_CERTAINTY = 0.6;
function flagBelowOf(metadata) {
  const text = metadata?.flag_below;
  // Only a plain decimal number, as Swift's Float(text) reads it ("", " 0.5 ", "0b1" are not).
  if (typeof text !== "string" || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return LOW_CERTAINTY;
  const x = Number(text);
  return x >= 0 && x <= 1 ? x : LOW_CERTAINTY;
}
const reader = { ready: false, name: null, label: null, problem: "", flagBelow: LOW_CERTAINTY };

/// Loads the module into a worker. Returns it, or null (the page then reads through the server).
async function startModule() {
  try {
    const { DigitsWorker } = await import("./digits.js");
    const w = new DigitsWorker(new URL("digits-worker.js", import.meta.url));
    await w.call("load", { wasm: new URL("digits.wasm", import.meta.url).href });
    return w;
  } catch (error) {
    reader.problem = `the WebAssembly module did not load (${error.message})`;
    return null;
  }
}

/// The server's model in use, loaded into the module (after every change of model).
async function loadServedModel() {
  if (!worker || isStatic) return;
  reader.ready = false;
  try {
    // A server reading with test-time augmentation (`digits serve --tta`, or the model file's
    // option: several views averaged) reads differently from the module, which reads the image
    // alone: then the page asks the server, so that both read the same.
    const { metadata } = await api("/api/model");
    if (metadata?.tta) {
      reader.problem = "the server reads with test-time augmentation (views averaged), which the module does not";
      return;
    }
    const response = await fetch("/api/model/file", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const name = response.headers.get("X-Digits-Model") || "model";
    const bytes = await response.arrayBuffer();
    const m = await worker.call("loadModel", { name: "served", bytes }, [bytes]);
    // The threshold of the file actually loaded (a model may change between the two requests).
    reader.flagBelow = flagBelowOf(m.metadata);
    reader.name = "served"; reader.label = name; reader.ready = true; reader.problem = "";
  } catch (error) {
    reader.problem = `the module cannot read with this model (${error.message})`;
  }
}

// MARK: - Pictures

/** Draws grey values (0 … 255, 0 black) into a canvas of w×h. */
function drawGrey(canvas, values, w, h) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = values[i];
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v; image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** A colour for an activation scaled to 0 … 1 (dark blue → teal → yellow). */
function heat(t) {
  t = Math.max(0, Math.min(1, t));
  const stops = [[13, 8, 60], [38, 90, 150], [33, 160, 140], [120, 205, 90], [250, 230, 60]];
  const x = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
}
/** Blue for negative, white for zero, red for positive (t in -1 … 1). */
function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  return t < 0 ? [Math.round(255 * (1 + t)), Math.round(255 * (1 + t * 0.6)), 255]
               : [255, Math.round(255 * (1 - t * 0.6)), Math.round(255 * (1 - t))];
}
function drawColours(canvas, values, w, h, colour) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const [r, g, b] = colour(values[i]);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}
function thumb(pixels, lines, wrong) {
  const box = document.createElement("div");
  box.className = "thumb" + (wrong ? " wrong" : "");
  const c = document.createElement("canvas");
  drawGrey(c, pixels, 28, 28);
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", lines.map((l) => l.text).join(", "));
  box.append(c);
  for (const line of lines) {
    const s = document.createElement("span");
    s.textContent = line.text;
    if (line.className) s.className = line.className;
    box.append(s);
  }
  return box;
}

// MARK: - Drawing

const pad = $("pad"), padCtx = pad.getContext("2d");
let strokes = [], current = null, droppedFile = null;

function paintPad() {
  padCtx.fillStyle = "#fff";
  padCtx.fillRect(0, 0, pad.width, pad.height);
  padCtx.strokeStyle = "#111"; padCtx.fillStyle = "#111";
  padCtx.lineCap = "round"; padCtx.lineJoin = "round";
  for (const s of strokes) {
    padCtx.lineWidth = s.width;
    if (s.points.length === 1) {
      padCtx.beginPath(); padCtx.arc(s.points[0][0], s.points[0][1], s.width / 2, 0, Math.PI * 2); padCtx.fill();
      continue;
    }
    padCtx.beginPath();
    padCtx.moveTo(s.points[0][0], s.points[0][1]);
    for (const [x, y] of s.points.slice(1)) padCtx.lineTo(x, y);
    padCtx.stroke();
  }
}
function padPoint(event) {
  const r = pad.getBoundingClientRect();
  return [(event.clientX - r.left) * pad.width / r.width, (event.clientY - r.top) * pad.height / r.height];
}
pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  if (droppedFile) { droppedFile = null; strokes = []; }
  current = { width: Number($("pen").value) * pad.width / 280, points: [padPoint(event)] };
  strokes.push(current);
  paintPad();
});
pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  event.preventDefault();
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of (events.length ? events : [event])) current.points.push(padPoint(e));
  paintPad();
  scheduleReading(180);
});
const penUp = () => { if (current) { current = null; scheduleReading(0); } };
pad.addEventListener("pointerup", penUp);
pad.addEventListener("pointercancel", penUp);
// No scrolling or zooming while the pen is on the pad (touch-action: none does most of it).
pad.addEventListener("touchmove", (e) => e.preventDefault(), { passive: false });

function clearPad() { strokes = []; droppedFile = null; paintPad(); showEmpty(); }
function undo() { if (droppedFile) return clearPad(); strokes.pop(); paintPad(); strokes.length ? scheduleReading(0) : showEmpty(); }
$("clear").addEventListener("click", clearPad);
$("undo").addEventListener("click", undo);
document.addEventListener("keydown", (event) => {
  const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement?.tagName || "");
  if (typing) return;
  if (event.key === "Escape") { clearPad(); }
  else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); undo(); }
  else if (event.key === "t" || event.key === "T") { if (!event.ctrlKey && !event.metaKey) { selectTab("teach"); teach(); } }
});

// Pictures: picked or dropped.
function usePicture(file) {
  if (!file) return;
  droppedFile = file; strokes = [];
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    paintPad();
    const s = Math.min(pad.width / img.width, pad.height / img.height);
    padCtx.drawImage(img, (pad.width - img.width * s) / 2, (pad.height - img.height * s) / 2, img.width * s, img.height * s);
    URL.revokeObjectURL(url);
  };
  img.onerror = () => URL.revokeObjectURL(url);
  img.src = url;
  scheduleReading(0);
}
$("file").addEventListener("change", (e) => { usePicture(e.target.files[0]); e.target.value = ""; });
const wrap = $("pad-wrap");
wrap.addEventListener("dragover", (e) => { e.preventDefault(); wrap.classList.add("dragging"); });
wrap.addEventListener("dragleave", () => wrap.classList.remove("dragging"));
wrap.addEventListener("drop", (e) => { e.preventDefault(); wrap.classList.remove("dragging"); usePicture(e.dataTransfer.files[0]); });

// MARK: - Reading

let timer = null, inFlight = false, again = false, lastReading = null;
function scheduleReading(delay) {
  clearTimeout(timer);
  timer = setTimeout(read, delay);
}
async function read() {
  if (!strokes.length && !droppedFile) return;
  if (inFlight) { again = true; return; }
  inFlight = true;
  try {
    // Layer outputs (a few hundred kB for a CNN) only when the pen is up, not while drawing.
    const layers = !current;
    const reading = reader.ready && !(droppedFile && !isStatic) ? await readHere(layers) : await readOnServer(layers);
    if (strokes.length || droppedFile) showReading(reading);
  } catch (error) {
    showProblem(error.message);
  } finally {
    inFlight = false;
    if (again) { again = false; read(); }
  }
}

/// The reading made by the server (POST /api/predict), the drawing sent as a PNG.
async function readOnServer(layers) {
  if (isStatic) throw new Error(reader.problem || "the module is still loading");
  const body = droppedFile || await padPNG();
  const type = droppedFile ? (droppedFile.type || "application/octet-stream") : "image/png";
  const reading = await api(layers ? "/api/predict?layers=1" : "/api/predict", { method: "POST", headers: { "Content-Type": type }, body });
  return { ...reading, source: "server" };
}

/// The reading made here by the module: the same pixels the server would get (the 280×280
/// drawing, or the picture), the same preparation and the same network, in Swift.
async function readHere(layers) {
  const { data, width, height } = droppedFile ? await pictureRGBA(droppedFile) : padRGBA();
  const r = await worker.call("read", { name: reader.name, pixels: data, width, height, channels: 4, layers });
  if (!r.prepared) throw new Error("no ink found: draw a digit, or pick a picture of one");
  const certainty = r.probabilities[r.digit];
  const uncertain = certainty < reader.flagBelow;
  return {
    digit: r.digit, probabilities: Array.from(r.probabilities), certainty, uncertain,
    warning: uncertain ? "low certainty: this may not be a digit the network knows, or it may be drawn unusually" : null,
    prepared: r.prepared, model: reader.label ?? reader.name, source: "browser", ms: r.prepareMs + r.readMs,
    layers: r.layers?.map((l, index) => ({ index, name: l.summary, shape: l.shape, values: l.values })),
  };
}

/** The drawing at 280×280: enough for a 20×20 digit, and a quarter of the pad's pixels to
    prepare. The server gets these pixels as a PNG; the module gets them as they are. */
const sendCanvas = document.createElement("canvas");
sendCanvas.width = sendCanvas.height = 280;
function drawSendCanvas() {
  const ctx = sendCanvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(pad, 0, 0, 280, 280);
  return ctx;
}
function padPNG() {
  drawSendCanvas();
  return new Promise((resolve) => sendCanvas.toBlob(resolve, "image/png"));
}
function padRGBA() { return drawSendCanvas().getImageData(0, 0, 280, 280); }

/** A picked picture's pixels, decoded by the browser (at most 2048 pixels a side). */
async function pictureRGBA(file) {
  const bitmap = await createImageBitmap(file).catch(() => { throw new Error(`${file.name} is not a picture this browser can open`); });
  const s = Math.min(1, 2048 / Math.max(bitmap.width, bitmap.height));
  const c = document.createElement("canvas");
  c.width = Math.max(1, Math.round(bitmap.width * s)); c.height = Math.max(1, Math.round(bitmap.height * s));
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0, c.width, c.height);
  return ctx.getImageData(0, 0, c.width, c.height);
}

const bars = $("bars"), correctButtons = $("correct-buttons");
for (let d = 0; d < 10; d++) {
  const row = document.createElement("div");
  row.className = "bar"; row.setAttribute("role", "listitem");
  row.innerHTML = `<span class="d">${d}</span><div class="track"><div class="fill"></div></div><span class="pct">–</span>`;
  bars.append(row);
  const b = document.createElement("button");
  b.type = "button"; b.textContent = d; b.dataset.digit = d;
  b.setAttribute("aria-label", `It is a ${d}: keep this drawing as an example of ${d}`);
  b.addEventListener("click", () => storeExample(d));
  correctButtons.append(b);
}

function showEmpty() {
  lastReading = null;
  $("digit").textContent = "?"; $("digit").classList.remove("uncertain"); $("digit").dataset.final = "no";
  $("certainty").textContent = "Draw a digit to start.";
  $("warning").hidden = true;
  drawGrey($("prepared"), new Array(784).fill(0), 28, 28);
  bars.querySelectorAll(".bar").forEach((row) => {
    row.classList.remove("best"); row.querySelector(".fill").style.width = "0"; row.querySelector(".pct").textContent = "–";
  });
  $("layers").innerHTML = "";
  $("correct-note").textContent = "";
}
function showProblem(message) {
  lastReading = null;
  $("digit").textContent = "?";
  $("certainty").textContent = "No reading";
  $("warning").hidden = false; $("warning").textContent = message;
}
function showReading(r) {
  lastReading = r;
  const digit = $("digit");
  digit.textContent = r.digit;
  digit.dataset.final = r.layers ? "yes" : "no";   // the pen-up reading carries the layers
  digit.classList.toggle("uncertain", r.uncertain);
  digit.setAttribute("aria-label", `Read as ${r.digit}`);
  $("certainty").textContent = `${pct(r.certainty)} certain`;
  $("warning").hidden = !r.warning; $("warning").textContent = r.warning || "";
  digit.dataset.source = r.source;
  $("reading-model").textContent = `model ${r.model} · ` + (r.source === "browser"
    ? `read here in ${r.ms < 10 ? r.ms.toFixed(1) : Math.round(r.ms)} ms (WebAssembly)` : "read by the server");
  drawGrey($("prepared"), r.prepared, 28, 28);
  $("prepared").dataset.ink = r.prepared.reduce((a, b) => a + b, 0);
  bars.querySelectorAll(".bar").forEach((row, d) => {
    row.classList.toggle("best", d === r.digit);
    row.querySelector(".fill").style.width = `${(r.probabilities[d] * 100).toFixed(1)}%`;
    row.querySelector(".pct").textContent = pct(r.probabilities[d]);
  });
  $("correct-note").textContent = "";
  if (r.layers) showLayers(r.layers);
}

async function storeExample(label) {
  const note = $("correct-note");
  if (!lastReading) { note.style.color = "var(--warn)"; note.textContent = "Draw a digit first."; return; }
  try {
    const stored = await backend.addExample(label, lastReading.prepared);
    note.style.color = ""; note.textContent = `Kept as example #${stored.index + 1} (a ${label}); ${stored.count} in all${isStatic ? ", in this browser" : ""}. Teach uses them.`;
    note.dataset.count = stored.count;
    loadExamples();
  } catch (error) { note.style.color = "var(--bad)"; note.textContent = error.message; }
}

// MARK: - Inside the network

const readout = $("readout");
function showLayers(layers) {
  const host = $("layers");
  host.innerHTML = "";
  for (const layer of layers) {
    const box = document.createElement("div");
    box.className = "layer";
    const values = layer.values;
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const span = hi - lo || 1;
    box.innerHTML = `<h4>${layer.index}: ${layer.name} <span>→ ${layer.shape.join("×")} · ${lo.toFixed(2)} … ${hi.toFixed(2)}</span></h4>`;
    if (layer.shape.length === 3) {
      const [c, h, w] = layer.shape;
      const maps = document.createElement("div");
      maps.className = "maps";
      for (let k = 0; k < Math.min(c, 64); k++) {
        const canvas = document.createElement("canvas");
        const part = values.slice(k * h * w, (k + 1) * h * w);
        drawColours(canvas, part, w, h, (v) => heat((v - lo) / span));
        canvas.title = `map ${k}`;
        canvas.addEventListener("pointermove", (e) => {
          const r = canvas.getBoundingClientRect();
          const x = Math.min(w - 1, Math.floor((e.clientX - r.left) / r.width * w));
          const y = Math.min(h - 1, Math.floor((e.clientY - r.top) / r.height * h));
          readout.textContent = `layer ${layer.index} (${layer.name}), map ${k}, row ${y}, column ${x}: ${part[y * w + x].toFixed(3)}`;
        });
        maps.append(canvas);
      }
      box.append(maps);
    } else {
      const n = values.length;
      const canvas = document.createElement("canvas");
      canvas.className = "strip";
      drawColours(canvas, values, n, 1, (v) => heat((v - lo) / span));
      canvas.addEventListener("pointermove", (e) => {
        const r = canvas.getBoundingClientRect();
        const i = Math.min(n - 1, Math.floor((e.clientX - r.left) / r.width * n));
        readout.textContent = `layer ${layer.index} (${layer.name}), unit ${i}: ${values[i].toFixed(3)}`;
      });
      box.append(canvas);
    }
    host.append(box);
  }
}

async function loadSummary() {
  try {
    const s = await backend.model();
    const acc = s.testAccuracy != null ? pct(s.testAccuracy) : "not measured";
    $("model-line").textContent = `Model ${s.name}${s.preset ? ` (${s.preset})` : ""} · ${s.parameters.toLocaleString()} parameters · test accuracy ${acc}` +
      (isStatic ? " · running in this browser" : reader.ready ? " · reading in this browser" : "");
    const summary = $("summary");
    summary.innerHTML = "";
    const add = (label, value) => { const d = document.createElement("div"); d.innerHTML = `${label} <b></b>`; d.querySelector("b").textContent = value; summary.append(d); };
    add("Model", s.name); add("Parameters", s.parameters.toLocaleString()); add("Test accuracy", acc);
    add("Input", s.inputShape.join("×"));
    const list = document.createElement("ol");
    list.start = 0;
    for (const l of s.layers) { const li = document.createElement("li"); li.textContent = `${l.name} → ${l.shape.join("×")}${l.parameters ? ` (${l.parameters.toLocaleString()})` : ""}`; list.append(li); }
    summary.append(list);
    const weights = $("weights");
    weights.innerHTML = "";
    if (s.weights) {
      s.weights.images.forEach((img, k) => {
        // Each picture on its own scale, so that every unit's pattern shows.
        const m = img.reduce((a, v) => Math.max(a, Math.abs(v)), 0) || 1;
        const c = document.createElement("canvas");
        drawColours(c, img, s.weights.width, s.weights.height, (v) => diverging(v / m));
        c.title = `${s.weights.kind === "conv" ? "kernel" : "unit"} ${k}`;
        c.addEventListener("pointermove", (e) => {
          const r = c.getBoundingClientRect(), w = s.weights.width, h = s.weights.height;
          const x = Math.min(w - 1, Math.floor((e.clientX - r.left) / r.width * w));
          const y = Math.min(h - 1, Math.floor((e.clientY - r.top) / r.height * h));
          readout.textContent = `${s.weights.layer}, ${c.title}, row ${y}, column ${x}: weight ${img[y * w + x].toFixed(3)}`;
        });
        weights.append(c);
      });
    }
  } catch (error) { $("model-line").textContent = error.message; }
}

// MARK: - Tabs

const tabs = ["inside", "train", "teach", "test"];
function selectTab(name) {
  for (const t of tabs) {
    $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
    $(`tab-${t}`).tabIndex = t === name ? 0 : -1;
    $(`panel-${t}`).hidden = t !== name;
  }
  if (name === "test" && !$("confusion").childElementCount) loadConfusion();
}
tabs.forEach((t, i) => {
  $(`tab-${t}`).addEventListener("click", () => selectTab(t));
  $(`tab-${t}`).addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    selectTab(next); $(`tab-${next}`).focus();
  });
});

// MARK: - Training

let presets = [], history = [];
async function loadPresets() {
  presets = await backend.presets();
  const select = $("preset");
  select.innerHTML = "";
  for (const p of presets) {
    const o = document.createElement("option");
    o.value = p.name; o.textContent = p.name;
    select.append(o);
  }
  select.value = presets.some((p) => p.name === "mlp") ? "mlp" : presets[0]?.name;
  showPreset();
}
function showPreset() {
  const p = presets.find((x) => x.name === $("preset").value);
  if (!p) return;
  $("preset-summary").textContent = p.summary;
  $("epochs").placeholder = p.epochs ?? "steps"; $("lr").placeholder = Number(Number(p.learningRate).toPrecision(6)); $("batch").placeholder = p.batchSize;
}
$("preset").addEventListener("change", showPreset);
$("train-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { preset: $("preset").value };
  if ($("epochs").value) body.epochs = Number($("epochs").value);
  if ($("lr").value) body.learningRate = Number($("lr").value);
  if ($("batch").value) body.batchSize = Number($("batch").value);
  if ($("train-name").value.trim()) body.name = $("train-name").value.trim();
  try {
    if (isStatic) body.trainCount = Number($("train-count").value);
    const started = await backend.train(body);
    $("train-status").textContent = `Training ${started.name}…`;
  } catch (error) { $("train-status").textContent = error.message; }
});
$("train-stop").addEventListener("click", async () => {
  try { await backend.stop(); $("train-status").textContent = "Stopping…"; }
  catch (error) { $("train-status").textContent = error.message; }
});

function listen() {
  backend.listen((e) => {
    const running = e.type === "start" || e.type === "progress" || e.type === "epoch";
    $("train-start").disabled = running; $("train-stop").disabled = !running;
    if (e.type === "start") {
      history = []; drawCharts();
      $("progress-bar").style.width = "0";
      $("train-status").textContent = `Training ${e.name} (${e.preset}, ${e.epochs} epochs)…`;
    } else if (e.type === "progress") {
      $("progress-bar").style.width = `${(100 * e.step / e.steps).toFixed(1)}%`;
      $("train-status").textContent = `${e.name}: epoch ${e.epoch}/${e.epochs}, step ${e.step}/${e.steps} · ${Math.round(e.samplesPerSecond).toLocaleString()} images/s`;
    } else if (e.type === "epoch") {
      history.push(e); drawCharts();
      $("train-status").textContent = `${e.name}: epoch ${e.epoch}/${e.epochs} · test accuracy ${pct(e.testAccuracy)} · ${e.seconds.toFixed(1)} s`;
    } else if (e.type === "done") {
      $("progress-bar").style.width = "100%";
      $("train-status").textContent = `Done: ${e.name} reaches ${pct(e.testAccuracy)} on the test set` +
        `${e.seconds ? ` after ${e.seconds.toFixed(1)} s of training in this browser` : ""}, and the page now reads with it.`;
      refreshModel();
    } else if (e.type === "stopped" || e.type === "error") {
      $("train-status").textContent = e.message;
    }
  });
}

function drawChart(canvas, series, yMin, yMax, format) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  const left = 54, right = 12, top = 12, bottom = 30;
  ctx.clearRect(0, 0, W, H);
  ctx.font = "12px system-ui, sans-serif"; ctx.fillStyle = "#5b6675"; ctx.strokeStyle = "#e3e7ec"; ctx.lineWidth = 1;
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i) => left + (W - left - right) * (i / (n - 1));
  const y = (v) => top + (H - top - bottom) * (1 - (v - yMin) / (yMax - yMin || 1));
  for (let k = 0; k <= 4; k++) {
    const v = yMin + (yMax - yMin) * k / 4;
    ctx.beginPath(); ctx.moveTo(left, y(v)); ctx.lineTo(W - right, y(v)); ctx.stroke();
    ctx.fillText(format(v), 4, y(v) + 4);
  }
  for (let i = 0; i < n; i++) ctx.fillText(String(i + 1), x(i) - 3, H - 10);
  for (const s of series) {
    if (!s.values.length) continue;
    ctx.strokeStyle = s.colour; ctx.fillStyle = s.colour; ctx.lineWidth = 2.5; ctx.setLineDash(s.dashed ? [6, 4] : []);
    ctx.beginPath();
    s.values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
    ctx.stroke(); ctx.setLineDash([]);
    s.values.forEach((v, i) => { ctx.beginPath(); ctx.arc(x(i), y(v), 3, 0, 7); ctx.fill(); });
  }
}
function drawCharts() {
  const tl = history.map((e) => e.trainLoss), vl = history.map((e) => e.testLoss ?? e.trainLoss);
  const ta = history.map((e) => e.trainAccuracy), va = history.map((e) => e.testAccuracy ?? e.trainAccuracy);
  const maxLoss = Math.max(0.1, ...tl, ...vl) * 1.1;
  drawChart($("chart-loss"), [{ values: tl, colour: "#1d5fbf" }, { values: vl, colour: "#c0392b", dashed: true }], 0, maxLoss, (v) => v.toFixed(2));
  const lo = Math.min(0.9, ...ta, ...va);
  drawChart($("chart-acc"), [{ values: ta, colour: "#1d5fbf" }, { values: va, colour: "#c0392b", dashed: true }],
            Math.floor(lo * 100) / 100, 1, (v) => `${(v * 100).toFixed(1)}%`);
}

async function loadModels() {
  const list = await backend.models();
  const host = $("models");
  host.innerHTML = "";
  for (const m of list.models) {
    const item = document.createElement("span");
    item.className = "model"; item.setAttribute("role", "listitem");
    const b = document.createElement("button");
    b.type = "button"; b.textContent = m.name;
    b.setAttribute("aria-pressed", String(m.current));
    b.addEventListener("click", async () => {
      try { await backend.select(m.name); refreshModel(); }
      catch (error) { $("train-status").textContent = error.message; }
    });
    item.append(b);
    // A model can be deleted unless it is in use (or is the file the studio was started with).
    if (m.deletable) {
      const x = document.createElement("button");
      x.type = "button"; x.className = "delete"; x.textContent = "×";
      x.title = `Delete ${m.name}`; x.setAttribute("aria-label", x.title);
      x.addEventListener("click", async () => {
        if (!confirm(`Delete the model ${m.name}? This cannot be undone.`)) return;
        try { await backend.remove(m.name); loadModels(); }
        catch (error) { $("train-status").textContent = error.message; }
      });
      item.append(x);
    }
    host.append(item);
  }
}
async function refreshModel() {
  await loadServedModel();
  loadSummary(); loadModels();
  $("confusion").innerHTML = "";
  if (!$("panel-test").hidden) loadConfusion();
  if (strokes.length || droppedFile) scheduleReading(0);
}

// MARK: - Teaching

async function loadExamples() {
  const list = await backend.examples();
  $("example-count").textContent = `(${list.count})`;
  const host = $("examples");
  host.innerHTML = "";
  for (const e of list.examples.slice().reverse()) host.append(thumb(e.pixels, [{ text: `a ${e.label}` }]));
}
let teaching = false;
async function teach() {
  if (teaching) return;
  teaching = true;
  $("teach").disabled = true;
  $("teach-status").textContent = "Teaching… (a few seconds)";
  try {
    const r = await backend.finetune();
    $("teach-status").textContent = `Done in ${r.seconds.toFixed(1)} s: your examples read right ${r.beforeCorrect}/${r.examples} before, ${r.afterCorrect}/${r.examples} after. MNIST test accuracy ${pct(r.testAccuracy)}. Now reading with ${r.model}.`;
    const host = $("teach-result");
    host.innerHTML = "";
    const row = document.createElement("div");
    row.className = "thumbs";
    const examples = (await backend.examples()).examples;
    const offset = r.examples - examples.length;
    r.readings.slice(offset).forEach((reading, i) => {
      row.append(thumb(examples[i].pixels, [
        { text: `a ${reading.label}` },
        { text: `before ${reading.before}`, className: reading.before === reading.label ? "ok" : "no" },
        { text: `after ${reading.after}`, className: reading.after === reading.label ? "ok" : "no" },
      ], reading.after !== reading.label));
    });
    host.append(row);
    refreshModel();
  } catch (error) { $("teach-status").textContent = error.message; }
  finally { teaching = false; $("teach").disabled = false; }
}
$("teach").addEventListener("click", teach);

// MARK: - The test set

function showTestDigits(title, list) {
  $("test-title").textContent = `${title} (${list.digits.length} of ${list.total.toLocaleString()})`;
  const host = $("test-digits");
  host.innerHTML = "";
  for (const d of list.digits) {
    host.append(thumb(d.pixels, [
      { text: `#${d.index} · a ${d.label}` },
      { text: `read ${d.digit} ${pct(d.certainty)}`, className: d.digit === d.label ? "ok" : "no" },
    ], d.digit !== d.label));
  }
}
$("random").addEventListener("click", async () => showTestDigits("Random test digits", await backend.random(24)));
$("wrong").addEventListener("click", async () => showTestDigits("Misclassified", await backend.wrong()));
async function loadConfusion() {
  $("confusion-note").textContent = "reading the 10,000 test digits…";
  const c = await backend.confusion();
  $("confusion-note").textContent = `${c.model}: ${pct(c.accuracy)} of ${c.total.toLocaleString()}`;
  const max = Math.max(...c.matrix.flat().filter((_, i) => i % 11 !== 0), 1);
  const table = document.createElement("table");
  table.innerHTML = `<tr><th></th>${[...Array(10).keys()].map((d) => `<th scope="col">${d}</th>`).join("")}</tr>`;
  c.matrix.forEach((row, label) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<th scope="row">${label}</th>`;
    row.forEach((n, predicted) => {
      const td = document.createElement("td"), b = document.createElement("button");
      b.type = "button"; b.textContent = n;
      b.setAttribute("aria-label", `${n} test digits that are ${label} read as ${predicted}`);
      if (n === 0) b.className = "zero";
      if (label === predicted) { b.style.background = "#e6f4ec"; }
      else if (n > 0) { const t = 0.15 + 0.85 * n / max; b.style.background = `rgba(192, 57, 43, ${t.toFixed(2)})`; if (t > 0.55) b.style.color = "#fff"; }
      b.addEventListener("click", async () => showTestDigits(`${label} read as ${predicted}`, await backend.cell(label, predicted)));
      td.append(b); tr.append(td);
    });
    table.append(tr);
  });
  $("confusion").innerHTML = "";
  $("confusion").append(table);
}

// MARK: - The static site's own buttons

/// local.js's backend in a static site (null when served).
let local = null;

function download(bytes, name, type = "application/octet-stream") {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

$("export-examples").addEventListener("click", async () => {
  try {
    const csv = await local.examplesCSV();
    if (!csv) { $("teach-status").textContent = "No examples yet: correct a reading first."; return; }
    download(csv, "digits-examples.csv", "text/csv");
    $("teach-status").textContent = "Exported digits-examples.csv: train with `digits train --extra digits-examples.csv`.";
  } catch (error) { $("teach-status").textContent = error.message; }
});
$("clear-examples").addEventListener("click", async () => {
  if (!confirm("Forget every example kept in this browser?")) return;
  try { await local.clearExamples(); $("teach-status").textContent = "Forgotten."; loadExamples(); }
  catch (error) { $("teach-status").textContent = error.message; }
});
$("download-model").addEventListener("click", async () => {
  try { const { name, bytes } = await local.modelFile(); download(bytes, `${name}.safetensors`); }
  catch (error) { $("train-status").textContent = error.message; }
});
$("check").addEventListener("click", async () => {
  $("check-result").textContent = "reading the reference digits…";
  try {
    const c = await local.compareWithNative();
    $("check-result").textContent = `${c.same} of ${c.count} read the same as natively (${c.agree} agree, counting near-ties); ` +
      `largest probability difference ${c.maxDiff.toExponential(1)}; ${c.msPerDigit.toFixed(2)} ms a digit here (in batches), ` +
      `${c.nativeMsPerDigit.toFixed(2)} ms natively (one at a time).`;
  } catch (error) { $("check-result").textContent = error.message; }
});

// MARK: - Start

/// For tests and the curious: the last reading and where the page reads.
window.studio = { get lastReading() { return lastReading; }, get local() { return local; }, get worker() { return worker; }, padRGBA, reader, isStatic };

paintPad();
showEmpty();
drawCharts();
(async () => {
  worker = await startModule();
  if (isStatic) {
    try {
      const { LocalBackend } = await import("./local.js");
      if (!worker) throw new Error(reader.problem);
      backend = await LocalBackend.start(worker, { reader, flagBelowOf });
    } catch (error) {
      $("model-line").textContent = `This page needs WebAssembly and a Web Worker: ${error.message}`;
      return;
    }
    local = backend;
  } else {
    await loadServedModel();
  }
  loadSummary();
  loadModels();
  loadPresets().catch(() => {});
  loadExamples().catch(() => {});
  backend.trainingStatus().then((s) => { $("train-start").disabled = s.running; $("train-stop").disabled = !s.running; }).catch(() => {});
  listen();
})();
