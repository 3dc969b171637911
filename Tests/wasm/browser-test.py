#!/usr/bin/env python3
"""The static studio of `digits web` in a real browser (headless Chromium through Selenium).

    python3 Tests/wasm/browser-test.py SITE_DIR [--digits BIN] [--cnn-digits N] [--screenshots DIR]

Serves SITE_DIR (made by `digits web --out SITE_DIR`) on a free local port, with no Digits server
behind it, and in the page:
  1. draws a 7 with a pen and checks it is read as 7, in the browser (WebAssembly), and a picked
     photo of a 4 as 4;
  2. says it was a 7 (an example kept in the browser's storage), reloads the page and finds it
     still there, exports the examples as CSV, and has `digits train --extra FILE` and
     `digits finetune --extra FILE` read the file;
  3. compares the module's readings of the reference test digits with the native ones;
  4. trains the `mlp` preset one epoch on all 60,000 digits and checks its test accuracy is within
     0.3 points of `digits train --preset mlp --epochs 1` (same seed), then the `fast` CNN one
     epoch on the first N digits (default 10,000); prints both timings; downloads the CNN and has
     `digits eval --model` score it the same;
  5. teaches the model the example (fine-tuning in the browser) and opens the test set; after a
     reload the models trained here are still listed (IndexedDB), and one deleted stays deleted;
  6. at 390 px wide (a phone), checks that nothing scrolls sideways.
With --screenshots DIR, saves the page at 1280×800 and 390×844. Exits 1 on any failure.
"""
import argparse
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from selenium.webdriver.common.by import By

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from studio_page import browser, draw_seven, final_reading, panel_shot, ready, shoot, sideways, wait_text  # noqa: E402


def serve(directory):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm", ".js": "text/javascript"}

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def model_names(driver):
    """The names in the model list (each entry's first button; the second, if any, deletes it)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#models .model > button:first-child')].map((b) => b.textContent)")


def reload_and_list_models(driver):
    """Reloads the page and returns the models its Train panel lists (once fast-mine is there)."""
    driver.refresh()
    ready(driver)
    driver.find_element(By.ID, "tab-train").click()
    wait_text(driver, "models", r"fast-mine", 30)
    return model_names(driver)


def train(driver, preset, epochs, count, timeout):
    driver.find_element(By.ID, "tab-train").click()
    driver.execute_script(f"const p = document.getElementById('preset'); p.value = '{preset}'; p.dispatchEvent(new Event('change')); "
                          f"document.getElementById('train-count').value = '{count}'")
    driver.find_element(By.ID, "epochs").clear()
    driver.find_element(By.ID, "epochs").send_keys(str(epochs))
    driver.find_element(By.ID, "train-start").click()
    status = wait_text(driver, "train-status", r"^Done|rror|topped", timeout)
    run = driver.execute_script("return window.studio.local.lastRun")
    if not status.startswith("Done") or not run or run["preset"] != preset:
        raise SystemExit(f"training {preset} in the browser failed: {status}")
    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("site")
    parser.add_argument("--digits", default=os.path.join(ROOT, ".build/release/digits"), help="the native digits, for --extra and the accuracy to match")
    parser.add_argument("--cnn-digits", type=int, default=10000, help="training digits for the CNN's epoch (60000, 10000 or 2000)")
    parser.add_argument("--screenshots", help="directory for laptop and phone screenshots")
    args = parser.parse_args()
    args.digits, args.site = os.path.abspath(args.digits), os.path.abspath(args.site)

    server = serve(args.site)
    work = tempfile.mkdtemp(prefix="digits-static-test-")
    url = f"http://127.0.0.1:{server.server_port}/"
    failures = []
    driver = browser(1280, 800, work)
    try:
        driver.get(url)
        print(ready(driver))

        # 1. A drawn 7, read in the page.
        draw_seven(driver)
        digit, source = final_reading(driver)
        print(f"drawn 7 read as {digit} ({source}): {driver.find_element(By.ID, 'certainty').text}; "
              f"{driver.find_element(By.ID, 'reading-model').text}")
        if digit != "7" or source != "browser":
            failures.append(f"the drawn 7 was read as {digit} by the {source}")
        layers = len(driver.find_elements(By.CSS_SELECTOR, "#layers .layer"))
        if layers < 3:
            failures.append(f"only {layers} layer views")
        # A picked photo (a 4 on lined paper), decoded by the browser and prepared in the module.
        driver.find_element(By.ID, "file").send_keys(os.path.join(ROOT, "docs", "photo-of-a-4.jpg"))
        photo = wait_text(driver, "digit", r"^4$", 30)
        print(f"the photo of a 4 read as {photo} ({driver.find_element(By.ID, 'digit').get_attribute('data-source')})")
        driver.find_element(By.ID, "clear").click()
        draw_seven(driver)
        final_reading(driver)
        # The time of a reading (prepare + forward, in the worker), the drawing read 20 times more.
        times = driver.execute_async_script("""
            const done = arguments[arguments.length - 1], s = window.studio, times = [];
            (async () => {
                for (let i = 0; i < 20; i++) {
                    const { data, width, height } = s.padRGBA();
                    const r = await s.worker.call('read', { name: s.reader.name, pixels: data, width, height, channels: 4 });
                    times.push([r.prepareMs, r.readMs]);
                }
                done(times);
            })();""")
        median = lambda xs: sorted(xs)[len(xs) // 2]
        prepare, forward = median([t[0] for t in times]), median([t[1] for t in times])
        print(f"reading the 280x280 drawing in the page: prepare {prepare:.1f} ms + forward {forward:.1f} ms (median of 20)")

        # 2. An example kept in the browser, across a reload, then exported and read natively.
        driver.find_element(By.CSS_SELECTOR, "#correct-buttons button[data-digit='7']").click()
        print(wait_text(driver, "correct-note", r"Kept as example", 10))
        driver.refresh()
        ready(driver)
        driver.find_element(By.ID, "tab-teach").click()
        count = wait_text(driver, "example-count", r"\(\d+\)", 10)
        if count != "(1)":
            failures.append(f"after a reload the page holds {count} examples, expected (1)")
        driver.find_element(By.ID, "export-examples").click()
        exported = os.path.join(work, "digits-examples.csv")
        deadline = time.time() + 10
        while not os.path.exists(exported) and time.time() < deadline:
            time.sleep(0.1)
        if not os.path.exists(exported):
            failures.append("Export as CSV wrote no digits-examples.csv")
        else:
            rows = open(exported).read().splitlines()
            print(f"exported {len(rows)} example(s), {len(rows[0].split(','))} fields a row")
            if len(rows) != 1 or not rows[0].startswith("7,") or len(rows[0].split(",")) != 785:
                failures.append(f"the exported CSV is wrong: {len(rows)} rows")
            model = os.path.join(args.site, "model.safetensors")
            for command in (["train", "--extra", exported, "--steps", "2", "--save", os.path.join(work, "m.safetensors"), "--no-progress"],
                            ["finetune", "--extra", exported, "--model", model, "--save", os.path.join(work, "tuned.safetensors"), "--steps", "2"]):
                r = subprocess.run([args.digits] + command, capture_output=True, text=True, cwd=work)
                print(f"digits {command[0]} --extra: exit {r.returncode}; {(r.stdout.splitlines() or [''])[0]}")
                if r.returncode != 0 or "60,001 training" not in r.stdout and command[0] == "train":
                    failures.append(f"digits {command[0]} --extra refused the export: {r.stderr.strip()}")

        # 3. The reference test digits against the native readings.
        driver.find_element(By.ID, "tab-test").click()
        driver.find_element(By.ID, "check").click()
        check = wait_text(driver, "check-result", r"read the same|rror|HTTP", 300)
        print(check)
        # Again: the first long run may go through the browser's baseline compiler.
        driver.execute_script("document.getElementById('check-result').textContent = ''")
        driver.find_element(By.ID, "check").click()
        print("again:", wait_text(driver, "check-result", r"read the same|rror|HTTP", 300))
        m = re.search(r"(\d+) of (\d+) read the same as natively \((\d+) agree", check)
        diff = re.search(r"difference ([0-9.e+-]+)", check)
        if not m or int(m.group(3)) != int(m.group(2)) or not diff or float(diff.group(1)) >= 1e-4:
            failures.append(f"the module's readings differ from the native ones: {check}")

        # 4. Training in the browser: the mlp preset, one epoch, against the native run; the CNN.
        mlp = train(driver, "mlp", 1, 60000, 900)
        native = subprocess.run([args.digits, "train", "--preset", "mlp", "--epochs", "1", "--json", "--no-progress",
                                 "--save", os.path.join(work, "mlp.safetensors")], capture_output=True, text=True, cwd=work)
        reports = [json.loads(l) for l in native.stdout.splitlines() if l.startswith("{")]
        native_accuracy = next((r["test_accuracy"] for r in reports if "test_accuracy" in r), None)
        print(f"mlp, one epoch of 60,000 in Chromium: {mlp['seconds']:.2f} s, test accuracy {mlp['testAccuracy'] * 100:.2f}%; "
              f"natively {native_accuracy * 100 if native_accuracy else float('nan'):.2f}%")
        if native_accuracy is None or abs(mlp["testAccuracy"] - native_accuracy) > 0.003:
            failures.append(f"mlp accuracy {mlp['testAccuracy']} here, {native_accuracy} natively: more than 0.3 points apart")
        cnn = train(driver, "fast", 1, args.cnn_digits, 1800)
        print(f"fast CNN, one epoch of {cnn['trainDigits']:,} in Chromium: {cnn['seconds']:.2f} s, test accuracy {cnn['testAccuracy'] * 100:.2f}%")
        if cnn["testAccuracy"] < 0.9:
            failures.append(f"the CNN trained in the browser reaches only {cnn['testAccuracy']}")
        if args.screenshots:
            panel_shot(driver, args.screenshots, "train", "static-train")
        # The CNN trained here, downloaded, scores the same natively.
        driver.find_element(By.ID, "download-model").click()
        model_file = os.path.join(work, "fast.safetensors")
        deadline = time.time() + 15
        while not os.path.exists(model_file) and time.time() < deadline:
            time.sleep(0.1)
        if not os.path.exists(model_file):
            failures.append("Download the model in use wrote no fast.safetensors")
        else:
            time.sleep(0.5)
            r = subprocess.run([args.digits, "eval", "--model", model_file, "--json"], capture_output=True, text=True, cwd=work)
            scored = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
            accuracy = scored[0].get("test_accuracy") if scored else None
            print(f"the downloaded CNN: digits eval reads it, {accuracy} natively, {cnn['testAccuracy']} in the page")
            if accuracy is None or abs(accuracy - cnn["testAccuracy"]) > 2e-4:
                failures.append(f"the downloaded model scores {accuracy} natively, {cnn['testAccuracy']} in the page ({r.stderr.strip()})")

        # 5. Teach (fine-tuning here) and the test set.
        driver.find_element(By.ID, "tab-teach").click()
        driver.find_element(By.ID, "teach").click()
        print(wait_text(driver, "teach-status", r"^Done|rror|no examples", 300))
        if args.screenshots:
            panel_shot(driver, args.screenshots, "teach", "static-teach")
        driver.find_element(By.ID, "tab-test").click()
        print(wait_text(driver, "confusion-note", r"of 10,000", 300))
        if sideways(driver) > 0:
            failures.append(f"at 1280 px the page scrolls {sideways(driver)} px sideways")
        if args.screenshots:
            shoot(driver, args.screenshots, "static-laptop", 1280, 800)

        # 6. A phone.
        driver.set_window_size(390, 844)
        # The models trained here are kept in the browser's storage, across the reload.
        kept = reload_and_list_models(driver)
        print(f"after a reload the page lists the models {kept}")
        for name in ("mlp", "fast", "fast-mine"):
            if name not in kept:
                failures.append(f"after a reload the model {name} trained here is gone")
        # Deleting one: gone from the list and, after another reload, from the browser's storage;
        # the site's own model (in use after a reload) has no delete button.
        if driver.find_elements(By.CSS_SELECTOR, '#models button.delete[aria-label="Delete model.safetensors"]'):
            failures.append("the site's own model, in use, can be deleted")
        driver.find_element(By.CSS_SELECTOR, '#models button.delete[aria-label="Delete mlp"]').click()
        driver.switch_to.alert.accept()
        deadline = time.time() + 10
        while "mlp" in model_names(driver) and time.time() < deadline:
            time.sleep(0.1)
        after = reload_and_list_models(driver)
        print(f"after deleting mlp and a reload the page lists {after}")
        if "mlp" in after or "fast" not in after:
            failures.append(f"deleting the model mlp left {after}")
        draw_seven(driver)
        digit, source = final_reading(driver)
        for tab in ("inside", "train", "teach", "test"):
            driver.find_element(By.ID, f"tab-{tab}").click()
            time.sleep(0.2)
            if sideways(driver) > 0:
                failures.append(f"at 390 px the {tab} panel scrolls {sideways(driver)} px sideways")
        driver.find_element(By.ID, "tab-inside").click()
        if args.screenshots:
            shoot(driver, args.screenshots, "static-phone", 390, 844)
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
        if severe:
            failures.append(f"errors in the console: {severe}")
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("static studio browser test passed")


if __name__ == "__main__":
    main()
