#!/usr/bin/env bash
# Load test of Digits Studio's POST /api/predict on loopback, with wrk (Debian's `wrk` package).
#
#   scripts/load-test.sh [SECONDS] [MODEL]     (defaults: 30 s; the fast model, trained once if missing)
#
# 1. SECONDS of valid requests: a 280×280 PNG of a drawn 7 (what the page sends), 2 threads,
#    32 connections; prints requests/s, latency percentiles, errors, and the server's resident
#    memory before and after.
# 2. SECONDS of a mix: valid PNGs, garbage bytes, malformed JSON, JSON with the wrong pixel count,
#    and 6 MB bodies; counts every status (each bad one must be 4xx, no socket errors).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
bin="$(swift build -c release --product digits --show-bin-path)/digits"
[ -x "$bin" ] || swift build -c release --product digits
work=$(mktemp -d)
server=""
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

model=${2:-}
if [ -z "$model" ]; then
    model=studio-data/models/fast.safetensors
    mkdir -p studio-data/models
    [ -f "$model" ] || "$bin" train --preset fast --save "$model" --no-progress
fi

# The request bodies.
python3 - "$work" <<'PY'
import struct, sys, zlib
work = sys.argv[1]
W = H = 280
px = bytearray([255]) * (W * H)
def dot(x, y, r=11):
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dx * dx + dy * dy <= r * r and 0 <= x + dx < W and 0 <= y + dy < H:
                px[(y + dy) * W + x + dx] = 17
for i in range(101):
    t = i / 100
    dot(int(70 + 140 * t), 60); dot(int(210 - 80 * t), int(60 + 170 * t))
raw = b"".join(b"\x00" + bytes(px[y * W:(y + 1) * W]) for y in range(H))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
open(f"{work}/seven.png", "wb").write(png)
PY

"$bin" serve --model "$model" --port 0 --data-dir "$work/data" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "http://" "$work/server.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log")
echo "server $url (pid $server), model $model"
curl -sf --data-binary @"$work/seven.png" -H 'Content-Type: image/png' "$url/api/predict" | head -c 120; echo
rss() { ps -o rss= -p "$server" | tr -d ' '; }

cat > "$work/predict.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "image/png"
local f = io.open("$work/seven.png", "rb"); wrk.body = f:read("*all"); f:close()
LUA

cat > "$work/mixed.lua" <<LUA
local f = io.open("$work/seven.png", "rb"); local png = f:read("*all"); f:close()
local big = string.rep("A", 6 * 1024 * 1024)
local requests = {
  wrk.format("POST", "/api/predict", {["Content-Type"] = "image/png"}, png),
  wrk.format("POST", "/api/predict", {["Content-Type"] = "image/png"}, "this is not a picture"),
  wrk.format("POST", "/api/predict", {["Content-Type"] = "application/json"}, '{"width": 3, "height":'),
  wrk.format("POST", "/api/predict", {["Content-Type"] = "application/json"}, '{"width":2,"height":2,"pixels":[1]}'),
  wrk.format("POST", "/api/predict", {["Content-Type"] = "image/png"}, big),
}
local i = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function request() i = i + 1; return requests[(i % #requests) + 1] end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("  status %d: %d\n", status, n)) end
end
LUA

echo "== valid requests, ${seconds} s, 2 threads, 32 connections; server RSS before: $(rss) kB"
wrk -t2 -c32 -d"${seconds}s" --timeout 5s --latency -s "$work/predict.lua" "$url/api/predict"
echo "server RSS after: $(rss) kB"
echo "== mixed valid, malformed and 6 MB requests, ${seconds} s"
wrk -t2 -c32 -d"${seconds}s" --timeout 5s -s "$work/mixed.lua" "$url/api/predict"
echo "server RSS after: $(rss) kB"
curl -sf "$url/healthz"; echo
