#!/usr/bin/env bash
# Load test of Digits Studio's POST /api/predict on loopback, with wrk (Debian's `wrk` package).
#
#   scripts/load-test.sh [SECONDS] [MODEL]     (defaults: 30 s; the fast model, trained once if missing)
#   WRK_THREADS=1 CONNECTIONS=4 scripts/load-test.sh 60
#
# 1. SECONDS of valid requests: a 280×280 RGBA PNG of an anti-aliased drawn 7, opaque white page
#    (what the studio page's canvas sends), WRK_THREADS wrk threads (default 1: wrk shares the
#    machine's CPUs with the server), CONNECTIONS connections (default 4: by Little's law the mean
#    latency is connections / rate, so 16 connections at 1,000 requests/s would already mean 16 ms
#    on average whatever the server does; 4 keep both CPUs busy, two requests being prepared and
#    two on their way, and mean 4 ms at 1,000/s); prints requests/s,
#    latency percentiles, errors, the server's resident memory before, during (every 5 s) and
#    after, and the CPU time the server and wrk used: the server's CPU time per request is what a
#    machine of this kind can serve, wrk's is what the test itself took from the server.
# 2. SECONDS of a mix: valid PNGs, garbage bytes, malformed JSON, JSON with the wrong pixel count,
#    and 6 MB bodies (over the 5 MB limit); counts every status (each bad one must be 4xx, no
#    socket errors, every request answered).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
threads=${WRK_THREADS:-1}
connections=${CONNECTIONS:-4}
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

# The request bodies: the drawing as a canvas encodes it (RGBA, opaque, anti-aliased edges).
python3 - "$work" <<'PY'
import math, struct, sys, zlib
work = sys.argv[1]
W = H = 280
ink = bytearray(W * H)  # coverage 0-255
def segment(x0, y0, x1, y1, r=11):
    for y in range(max(0, int(min(y0, y1) - r - 2)), min(H, int(max(y0, y1) + r + 3))):
        for x in range(max(0, int(min(x0, x1) - r - 2)), min(W, int(max(x0, x1) + r + 3))):
            dx, dy = x1 - x0, y1 - y0
            t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)))
            d = math.hypot(x - (x0 + t * dx), y - (y0 + t * dy))
            c = int(255 * max(0.0, min(1.0, r + 0.5 - d)))
            ink[y * W + x] = max(ink[y * W + x], c)
segment(70, 60, 210, 60); segment(210, 60, 130, 230)
rows = []
for y in range(H):
    row = bytearray([0])
    for x in range(W):
        g = 255 - (255 - 17) * ink[y * W + x] // 255
        row += bytes((g, g, g, 255))
    rows.append(bytes(row))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b"")
open(f"{work}/seven.png", "wb").write(png)
PY

"$bin" serve --model "$model" --port 0 --data-dir "$work/data" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "http://" "$work/server.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log")
echo "server $url (pid $server), model $model"
curl -sf --data-binary @"$work/seven.png" -H 'Content-Type: image/png' "$url/api/predict" | head -c 120; echo
rss() { ps -o rss= -p "$server" | tr -d ' '; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }   # user + system, in clock ticks
hz=$(getconf CLK_TCK)
# Runs wrk ($@) while sampling the server's RSS every 5 s; then prints the server's and wrk's CPU time.
measure() {
    local before after samples=() sampler
    before=$(cpu_ticks)
    ( while sleep 5; do echo "$(rss)"; done ) > "$work/rss.log" & sampler=$!
    /usr/bin/time -f "%U %S" -o "$work/wrk.time" wrk "$@" | tee "$work/wrk.out"
    kill "$sampler" 2>/dev/null || true
    after=$(cpu_ticks)
    local requests; requests=$(grep -oE '^ +[0-9]+ requests in' "$work/wrk.out" | grep -oE '[0-9]+')
    echo "server RSS every 5 s (kB): $(tr '\n' ' ' < "$work/rss.log")"
    awk -v b="$before" -v a="$after" -v hz="$hz" -v n="$requests" -v s="$seconds" '{
        server = (a - b) / hz; client = $1 + $2
        printf "CPU: server %.1f s (%.2f ms per request, %.0f%% of one CPU), wrk %.1f s (%.0f%% of one CPU), machine: %s\n",
               server, 1000 * server / n, 100 * server / s, client, 100 * client / s, load
    }' load="$(cut -d' ' -f1-3 /proc/loadavg) load average, $(nproc) CPUs" "$work/wrk.time"
}

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

echo "== valid requests, ${seconds} s, $threads wrk thread(s), $connections connections; load average $(cut -d' ' -f1-3 /proc/loadavg); server RSS before: $(rss) kB"
measure -t"$threads" -c"$connections" -d"${seconds}s" --timeout 5s --latency -s "$work/predict.lua" "$url/api/predict"
echo "server RSS after: $(rss) kB"
echo "== mixed valid, malformed and 6 MB requests, ${seconds} s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
measure -t"$threads" -c"$connections" -d"${seconds}s" --timeout 5s -s "$work/mixed.lua" "$url/api/predict"
echo "server RSS after: $(rss) kB"
curl -sf "$url/healthz"; echo
