#!/usr/bin/env python3
"""Digits Studio in a real browser (headless Chromium driven by selenium).

Starts `digits serve` on a free loopback port with the test fixture model and a fresh data
directory, then: loads the page, draws a 7 with pointer events, checks that the page read it
itself (WebAssembly, no round trip) and that POST /api/predict reads the same pixels the same
way (same digit, probabilities within 1e-4), checks the prepared 28x28 on the page, corrects the
reading and checks that the example is stored on disk as an IDX pair; then blocks the module
and checks that the page falls back to the server; serves a copy of the model whose
`flag_below` is 0.35 and checks that the page flags by it, as the server does. At 390 px wide nothing may scroll sideways.
With --screenshots DIR, saves the page at laptop and phone sizes.

    python3 scripts/browser-test.py --digits .build/release/digits [--screenshots out/]
"""
import argparse, json, os, re, shutil, struct, subprocess, sys, tempfile, time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from studio_page import browser, draw_seven, final_reading, panel_shot, ready, shoot, sideways, wait_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests/DigitsAppTests/Fixtures/best-model.safetensors")


def start_server(digits, data_dir, extra=(), model=MODEL):
    server = subprocess.Popen([digits, "serve", "--model", model, "--port", "0", "--data-dir", data_dir, *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        print("server:", line.rstrip())
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            return server, m.group(1)
    server.kill()
    sys.exit("the server did not print its URL")


def tour(driver, directory):
    """The other panels, for looking at: training, teaching, the test set."""
    driver.find_element(By.ID, "tab-train").click()
    driver.execute_script("document.getElementById('preset').value = 'mlp'")
    driver.find_element(By.ID, "epochs").send_keys("3")
    driver.find_element(By.ID, "train-start").click()
    wait_text(driver, "train-status", r"^Done|rror", 120)
    panel_shot(driver, directory, "train", "studio-train")
    # Teach: store two more examples of what was drawn, then teach.
    for d in ("7", "7"):
        driver.find_element(By.CSS_SELECTOR, f"#correct-buttons button[data-digit='{d}']").click()
        time.sleep(0.3)
    driver.find_element(By.ID, "tab-teach").click()
    driver.find_element(By.ID, "teach").click()
    wait_text(driver, "teach-status", r"^Done|rror", 120)
    panel_shot(driver, directory, "teach", "studio-teach")
    driver.find_element(By.ID, "tab-test").click()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#confusion button"))
    driver.find_elements(By.CSS_SELECTOR, "#confusion button")[4 * 10 + 9].click()
    time.sleep(1)
    panel_shot(driver, directory, "test", "studio-test")


def server_reads_the_same(driver):
    """The drawing's 280x280 pixels, sent to POST /api/predict as a PNG, against the page's own
    reading: returns None if they agree, else what differs."""
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const ours = window.studio.lastReading;
        const pad = document.getElementById('pad'), c = document.createElement('canvas');
        c.width = c.height = 280;
        const g = c.getContext('2d'); g.imageSmoothingQuality = 'high'; g.drawImage(pad, 0, 0, 280, 280);
        c.toBlob(async (png) => {
            const r = await fetch('/api/predict', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png });
            const theirs = await r.json();
            done({ ours: { digit: ours.digit, probabilities: Array.from(ours.probabilities), prepared: Array.from(ours.prepared) },
                   theirs: { digit: theirs.digit, probabilities: theirs.probabilities, prepared: theirs.prepared } });
        }, 'image/png');""")
    ours, theirs = result["ours"], result["theirs"]
    diff = max(abs(a - b) for a, b in zip(ours["probabilities"], theirs["probabilities"]))
    print(f"in the page: {ours['digit']}; the server, same pixels: {theirs['digit']}; largest probability difference {diff:.1e}")
    if ours["prepared"] != theirs["prepared"]:
        return "the page prepared the drawing differently from the server"
    if ours["digit"] != theirs["digit"] or diff > 1.5e-4:   # the server rounds to 1e-4
        return f"the page read {ours['digit']}, the server {theirs['digit']} (difference {diff})"
    return None


def server_reads_the_seven(url, case, blocked=()):
    """Draws a 7 on the page at `url` (with `blocked` URLs not loading) and checks it is read as
    7 by the server, not in the page; returns what went wrong, or None."""
    driver = browser(1280, 900)
    try:
        if blocked:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(blocked)})
        driver.get(url)
        ready(driver)
        draw_seven(driver)
        digit, source = final_reading(driver)
        print(f"{case}: read {digit} ({source})")
        if digit != "7" or source != "server":
            return f"{case} the 7 was read as {digit} by the {source}, not by the server"
        return None
    finally:
        driver.quit()


def with_flag_below(source, destination, flag_below):
    """A copy of the model file `source` whose metadata says `flag_below` (the certainty below
    which a reading is flagged, as `digits calibrate --flag` writes it)."""
    with open(source, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    header.setdefault("__metadata__", {})["flag_below"] = flag_below
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(destination, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data[8 + size:])


def page_flags_by_the_file(digits):
    """The page flags a reading by the served file's `flag_below`, as the server does: with a
    file that says 0.35 the page's threshold is 0.35 (not its default 60 %), and the page and the
    server agree on whether the drawn 7 is flagged; with the threshold raised above any
    certainty, the warning shows. Returns what
    went wrong, or None."""
    directory = tempfile.mkdtemp(prefix="digits-browser-test-flag-")
    model = os.path.join(directory, "tuned.safetensors")
    with_flag_below(MODEL, model, "0.35")
    server, url = start_server(digits, os.path.join(directory, "data"), model=model)
    driver = None
    try:
        driver = browser(1280, 900)
        driver.get(url)
        ready(driver)
        draw_seven(driver)
        digit, source = final_reading(driver)
        threshold = driver.execute_script("return window.studio.reader.flagBelow")
        ours = driver.execute_script("const r = window.studio.lastReading; return [r.certainty, r.uncertain]")
        theirs = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const pad = document.getElementById('pad'), c = document.createElement('canvas');
            c.width = c.height = 280;
            const g = c.getContext('2d'); g.imageSmoothingQuality = 'high'; g.drawImage(pad, 0, 0, 280, 280);
            c.toBlob(async (png) => {
                const r = await fetch('/api/predict', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png });
                done(await r.json());
            }, 'image/png');""")
        print(f"flag_below 0.35: the page's threshold {threshold}; read {digit} ({source}) at {ours[0]:.4f}, "
              f"flagged: {ours[1]}; the server: {theirs.get('certainty')}, uncertain: {theirs.get('uncertain')}")
        if source != "browser":
            return f"with flag_below 0.35 the drawing was read by the {source}, not in the page"
        if abs(threshold - 0.35) > 1e-6:
            return f"the page flags below {threshold}, not the file's 0.35"
        if ours[1] != (ours[0] < 0.35) or theirs.get("uncertain") != ours[1]:
            return f"flagging disagrees: page {ours}, server {theirs.get('uncertain')}"
        # The warning itself: a threshold above any certainty flags the next reading.
        driver.execute_script("window.studio.reader.flagBelow = 2")
        driver.find_element(By.TAG_NAME, "body").send_keys("\ue00c")
        wait_text(driver, "digit", r"^\?$")
        draw_seven(driver)
        final_reading(driver)
        warning = driver.find_element(By.ID, "warning")
        if not (warning.is_displayed() and "low certainty" in warning.text):
            return "a reading below the threshold did not show the low-certainty warning"
        return None
    finally:
        if driver:
            driver.quit()
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def idx_labels(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    assert magic == 2049, magic
    return list(data[8:8 + count])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--digits", default=os.path.join(ROOT, ".build/release/digits"))
    parser.add_argument("--screenshots", help="directory for laptop and phone screenshots")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="digits-browser-test-")
    server, url = start_server(args.digits, data_dir)
    failures = []
    try:
        sizes = [("laptop", 1280, 900), ("phone", 390, 844)]
        for name, width, height in sizes:
            driver = browser(width, height)
            try:
                driver.get(url)
                ready(driver)
                draw_seven(driver)
                digit, source = final_reading(driver)
                certainty = driver.find_element(By.ID, "certainty").text
                print(f"{name}: read {digit} ({source}), {certainty}; {driver.find_element(By.ID, 'reading-model').text}")
                if digit != "7":
                    failures.append(f"{name}: the drawn 7 was read as {digit}")
                if driver.execute_script("return window.studio.reader.flagBelow") != 0.6:
                    failures.append(f"{name}: the page's threshold is not 60 % for a file without flag_below")
                if driver.find_element(By.ID, "warning").is_displayed():
                    failures.append(f"{name}: the drawn 7 was flagged ({certainty}), below the fixture's 60 %")
                if source != "browser":
                    failures.append(f"{name}: the drawing was read by the {source}, not in the page")
                else:
                    problem = server_reads_the_same(driver)
                    if problem:
                        failures.append(f"{name}: {problem}")
                # The prepared 28x28 is drawn on the page: some bright ink, mostly dark background.
                bright, dark = driver.execute_script("""
                    const d = document.getElementById('prepared').getContext('2d').getImageData(0, 0, 28, 28).data;
                    let bright = 0, dark = 0;
                    for (let i = 0; i < 784; i++) { if (d[4 * i] > 128) bright++; if (d[4 * i] < 10) dark++; }
                    return [bright, dark];""")
                if not (30 <= bright <= 300 and dark >= 400):
                    failures.append(f"{name}: the prepared image looks wrong ({bright} bright, {dark} dark pixels)")
                # A view of every layer's output, as many as the model summary lists.
                layers = len(driver.find_elements(By.CSS_SELECTOR, "#layers .layer"))
                listed = len(driver.find_elements(By.CSS_SELECTOR, "#summary li"))
                if layers < 3 or layers != listed:
                    failures.append(f"{name}: {layers} layer views for {listed} layers")
                if name == "laptop":
                    # Say it was a 1 (to check the correction path), then see it stored.
                    driver.find_element(By.CSS_SELECTOR, "#correct-buttons button[data-digit='1']").click()
                    note = wait_text(driver, "correct-note", r"Kept as example")
                    print(f"{name}: {note}")
                    labels = idx_labels(os.path.join(data_dir, "examples", "labels-idx1-ubyte"))
                    if labels != [1]:
                        failures.append(f"stored labels are {labels}, expected [1]")
                    # A picked picture (a photo of a 4) is read the same way.
                    driver.find_element(By.ID, "file").send_keys(os.path.join(ROOT, "docs", "photo-of-a-4.jpg"))
                    wait_text(driver, "digit", r"^4$")
                    print(f"{name}: the photo of a 4 read as 4")
                    # Escape clears the pad (keyboard).
                    driver.find_element(By.TAG_NAME, "body").send_keys("\ue00c")
                    wait_text(driver, "digit", r"^\?$")
                    draw_seven(driver)
                    if final_reading(driver)[0] != "7":
                        failures.append("after Esc and a new 7, the reading is not 7")
                if name == "phone":
                    for tab in ("inside", "train", "teach", "test"):
                        driver.find_element(By.ID, f"tab-{tab}").click()
                        time.sleep(0.3)
                        wide = sideways(driver)
                        if wide > 0:
                            failures.append(f"phone: the {tab} panel scrolls {wide} px sideways")
                    driver.find_element(By.ID, "tab-inside").click()
                if args.screenshots:
                    shoot(driver, args.screenshots, f"studio-{name}", width, height)
                    if name == "laptop":
                        tour(driver, args.screenshots)
            finally:
                driver.quit()
        # The page's warning follows the file's threshold.
        problem = page_flags_by_the_file(args.digits)
        if problem:
            failures.append(problem)
        # Without the module (blocked, as if it could not load) the page reads through the server.
        problem = server_reads_the_seven(url, "without the module", blocked=["*/digits.js", "*/digits.wasm"])
        if problem:
            failures.append(problem)
        # A server reading with test-time augmentation (`serve --tta`): the module reads the image
        # alone, so the page reads through the server, and both agree.
        tta_server, tta_url = start_server(args.digits, tempfile.mkdtemp(prefix="digits-browser-test-tta-"), ["--tta"])
        try:
            problem = server_reads_the_seven(tta_url, "with serve --tta")
            if problem:
                failures.append(problem)
        finally:
            tta_server.terminate()
            tta_server.wait(timeout=10)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            failures.append("the server did not stop within 10 s of SIGTERM")
        shutil.rmtree(data_dir, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("browser test passed")


if __name__ == "__main__":
    main()
