#!/usr/bin/env python3
"""The static studio of `digits web` in a real browser (headless Chromium through Selenium).

    python3 Tests/wasm/browser-test.py SITE_DIR [--train-epochs N]

Serves SITE_DIR (made by `digits web --out SITE_DIR`) on a free local port, opens the page, draws
a 7 with the mouse and checks the reading, compares the module's readings of the reference test
digits with the native ones, trains the `mlp` preset for N epochs (default 1) in the browser, and
prints the timings the page reports. Exits 1 on any failure.
"""
import argparse
import functools
import http.server
import re
import shutil
import sys
import threading
import time

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By


def serve(directory):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(driver, element_id, pattern, timeout):
    """The text of `element_id` once it matches `pattern` (a regex)."""
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        text = driver.find_element(By.ID, element_id).text
        if re.search(pattern, text):
            return text
        if "error" in (driver.find_element(By.ID, "status").get_attribute("class") or ""):
            raise SystemExit(f"page error: {driver.find_element(By.ID, 'status').text}")
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for #{element_id} to match {pattern!r}; it says {text!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("site")
    parser.add_argument("--train-epochs", type=int, default=1)
    args = parser.parse_args()

    server = serve(args.site)
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    # The system's chromedriver (Debian's chromium-driver): nothing is downloaded.
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get(f"http://127.0.0.1:{server.server_port}/index.html")
        print(wait_for(driver, "status", r"^Ready", 60))

        # Draw a 7 with the mouse, as a person would.
        pad = driver.find_element(By.ID, "pad")
        chain = ActionChains(driver, duration=10)
        chain.move_to_element_with_offset(pad, -80, -90).click_and_hold()
        for x, y in [(-20, -92), (40, -94), (80, -95), (50, -40), (20, 10), (0, 60), (-15, 100)]:
            chain.move_to_element_with_offset(pad, x, y)
        chain.release().perform()
        time.sleep(0.5)
        guess = wait_for(driver, "guess", r"^\d$", 10)
        print(f"drawn 7 read as {guess}; {driver.find_element(By.ID, 'certainty').text}; "
              f"{driver.find_element(By.ID, 'timing').text}")
        if guess != "7":
            raise SystemExit(f"the drawn 7 was read as {guess}")

        # The reference test digits, against the native readings.
        driver.find_element(By.ID, "check").click()
        check = wait_for(driver, "checkResult", r"read the same", 120)
        print(check)
        same, total = map(int, re.search(r"(\d+) of (\d+) read the same", check).groups())
        diff = float(re.search(r"difference ([0-9.e+-]+)", check).group(1))
        if same != total or diff >= 1e-4:
            raise SystemExit("the module's readings differ from the native ones")

        # Train the mlp preset in the browser.
        driver.find_element(By.ID, "epochs").clear()
        driver.find_element(By.ID, "epochs").send_keys(str(args.train_epochs))
        driver.find_element(By.ID, "train").click()
        status = wait_for(driver, "trainStatus", r"\(done\)|\(stopped\)|rror", 600)
        print(status)
        accuracy = re.search(r"test accuracy ([0-9.]+)%", status)
        if not accuracy or float(accuracy.group(1)) < 90:
            raise SystemExit("in-browser training did not reach 90%")
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
