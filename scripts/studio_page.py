"""What the two browser tests share: driving the studio page in headless Chromium.

scripts/browser-test.py runs the page served by `digits serve`; Tests/wasm/browser-test.py runs
the static site `digits web` writes. Both open the same page (Sources/DigitsServer/Resources/site),
so drawing on it, waiting for its readings and taking its screenshots are written once, here.
The browser is Debian's chromium with its chromedriver: nothing is downloaded.
"""
import os
import re
import shutil
import time

from selenium import webdriver
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By


def browser(width, height, downloads=None):
    """Headless Chromium at width×height, keeping the console log; files it downloads go to
    `downloads` when given."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def wait_text(driver, element_id, pattern, timeout=15):
    """The text of `element_id` once it matches `pattern` (a regex); exits with the page's
    console log if it does not within `timeout` seconds."""
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        text = driver.find_element(By.ID, element_id).get_attribute("textContent")
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    logs = "\n".join(str(e) for e in driver.get_log("browser"))
    raise SystemExit(f"timed out waiting for #{element_id} to match {pattern!r}; it says {text!r}\n{logs}")


def ready(driver):
    """Waits for the page to show its model; returns that line."""
    wait_text(driver, "model-line", r"parameters|needs", 90)
    line = driver.find_element(By.ID, "model-line").text
    if "parameters" not in line:
        raise SystemExit(f"the page did not start: {line}")
    return line


def draw_seven(driver):
    """A 7 drawn with a pen (pointer events): the top bar, then the slanted stem, one stroke."""
    pad = driver.find_element(By.ID, "pad")
    size = pad.size["width"]
    # Offsets from the pad's centre, in fractions of its side.
    path = [(-0.25, -0.3), (0.0, -0.3), (0.25, -0.3), (0.18, -0.1), (0.1, 0.1), (0.03, 0.3)]
    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_PEN, "pen"), duration=15)
    p = actions.pointer_action
    p.move_to(pad, int(path[0][0] * size), int(path[0][1] * size)).pointer_down()
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        for t in (0.25, 0.5, 0.75, 1.0):
            p.move_to(pad, int((ax + (bx - ax) * t) * size), int((ay + (by - ay) * t) * size), pressure=0.5)
    p.pointer_up()
    actions.perform()


def final_reading(driver, timeout=30):
    """The reading made when the pen was lifted (it carries the layer outputs): the digit shown
    and who read it ("browser" or "server")."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        digit = driver.find_element(By.ID, "digit")
        if digit.get_attribute("data-final") == "yes":
            return digit.text, digit.get_attribute("data-source")
        time.sleep(0.1)
    raise SystemExit(f"no reading after the pen was lifted: {driver.find_element(By.ID, 'certainty').text} "
                     f"{driver.find_element(By.ID, 'warning').text}")


def sideways(driver):
    """How many pixels the page scrolls sideways (0 when it fits)."""
    return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")


def shoot(driver, directory, name, width, height):
    """Screenshots of the page at width×height: its top as `name.png`, then up to three more
    windows further down."""
    os.makedirs(directory, exist_ok=True)
    driver.set_window_size(width, height)
    time.sleep(0.3)
    driver.execute_script("window.scrollTo(0, 0)")
    path = os.path.join(directory, f"{name}.png")
    driver.save_screenshot(path)
    print("screenshot:", path)
    total = driver.execute_script("return document.documentElement.scrollHeight")
    for i, y in enumerate(range(height, min(total, 4 * height), height - 60)):
        driver.execute_script(f"window.scrollTo(0, {y})")
        time.sleep(0.2)
        driver.save_screenshot(os.path.join(directory, f"{name}-{i + 2}.png"))
    driver.execute_script("window.scrollTo(0, 0)")


def panel_shot(driver, directory, tab, name):
    """A screenshot of the panel of `tab` (already open), scrolled into view, as `name.png`."""
    os.makedirs(directory, exist_ok=True)
    driver.execute_script(f"document.getElementById('tab-{tab}').scrollIntoView()")
    time.sleep(0.3)
    path = os.path.join(directory, f"{name}.png")
    driver.save_screenshot(path)
    print("screenshot:", path)
