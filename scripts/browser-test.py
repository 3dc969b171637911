#!/usr/bin/env python3
"""Digits Studio in a real browser (headless Chromium driven by selenium).

Starts `digits serve` on a free loopback port with the test fixture model and a fresh data
directory, then: loads the page, draws a 7 with pointer events, checks the reading and the
prepared 28x28 on the page, corrects the reading and checks that the example is stored on disk
as an IDX pair. With --screenshots DIR, saves the page at laptop and phone sizes.

    python3 scripts/browser-test.py --digits .build/release/digits [--screenshots out/]
"""
import argparse, os, re, shutil, struct, subprocess, sys, tempfile, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests/DigitsAppTests/Fixtures/best-model.safetensors")


def start_server(digits, data_dir):
    server = subprocess.Popen([digits, "serve", "--model", MODEL, "--port", "0", "--data-dir", data_dir],
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


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars"]:
        options.add_argument(arg)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def draw_seven(driver, kind="pen"):
    """A 7 drawn with a pen (pointer events): the top bar, then the slanted stem, one stroke."""
    pad = driver.find_element(By.ID, "pad")
    size = pad.size["width"]
    # Offsets from the pad's centre, in fractions of its side.
    path = [(-0.25, -0.3), (0.0, -0.3), (0.25, -0.3), (0.18, -0.1), (0.1, 0.1), (0.03, 0.3)]
    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_PEN, "pen"))
    p = actions.pointer_action
    p.move_to(pad, int(path[0][0] * size), int(path[0][1] * size)).pointer_down()
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        for t in (0.25, 0.5, 0.75, 1.0):
            p.move_to(pad, int((ax + (bx - ax) * t) * size), int((ay + (by - ay) * t) * size), duration=15)
    p.pointer_up()
    actions.perform()


def wait_text(driver, element_id, predicate, seconds=15):
    WebDriverWait(driver, seconds).until(lambda d: predicate(d.find_element(By.ID, element_id).text))
    return driver.find_element(By.ID, element_id).text


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
        sizes = [("laptop", 1280, 900)] + ([("phone", 390, 844)] if args.screenshots else [])
        for name, width, height in sizes:
            driver = browser(width, height)
            try:
                driver.get(url)
                wait_text(driver, "model-line", lambda t: "parameters" in t)
                draw_seven(driver)
                digit = wait_text(driver, "digit", lambda t: t not in ("", "?"))
                certainty = driver.find_element(By.ID, "certainty").text
                print(f"{name}: read {digit}, {certainty}")
                if digit != "7":
                    failures.append(f"{name}: the drawn 7 was read as {digit}")
                # The prepared 28x28 is drawn on the page: ink in the middle, background at the edges.
                ink, edge = driver.execute_script("""
                    const c = document.getElementById('prepared'), d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
                    let ink = 0, edge = 0;
                    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
                        const v = d[4 * (y * 28 + x)];
                        if (x < 2 || y < 2 || x > 25 || y > 25) edge += v; else ink += v;
                    }
                    return [ink, edge];""")
                if not (ink > 20 * 255 and edge == 0):
                    failures.append(f"{name}: the prepared image looks wrong (ink {ink}, edge {edge})")
                layers = driver.find_elements(By.CSS_SELECTOR, "#layers .layer")
                if len(layers) < 5:
                    failures.append(f"{name}: only {len(layers)} layer views")
                if name == "laptop":
                    # Say it was a 1 (to check the correction path), then see it stored.
                    driver.find_element(By.CSS_SELECTOR, "#correct-buttons button[data-digit='1']").click()
                    note = wait_text(driver, "correct-note", lambda t: "Kept as example" in t)
                    print(f"{name}: {note}")
                    labels = idx_labels(os.path.join(data_dir, "examples", "labels-idx1-ubyte"))
                    if labels != [1]:
                        failures.append(f"stored labels are {labels}, expected [1]")
                    # Escape clears the pad (keyboard).
                    driver.find_element(By.TAG_NAME, "body").send_keys("\ue00c")
                    wait_text(driver, "digit", lambda t: t == "?")
                    draw_seven(driver)
                    wait_text(driver, "digit", lambda t: t == "7")
                if args.screenshots:
                    os.makedirs(args.screenshots, exist_ok=True)
                    driver.set_window_size(width, height)
                    path = os.path.join(args.screenshots, f"studio-{name}.png")
                    driver.save_screenshot(path)
                    total = driver.execute_script("return document.documentElement.scrollHeight")
                    driver.set_window_size(width, total + 100)
                    driver.save_screenshot(os.path.join(args.screenshots, f"studio-{name}-full.png"))
                    print("screenshot:", path)
            finally:
                driver.quit()
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
