#!/usr/bin/env python3
"""Figures and the screenshot of the web client, in headless Chromium (Debian's
chromium + chromium-driver, selenium from PyPI; `scripts/install-deps.sh --test`
installs them, Pillow is installed from PyPI when missing).

Usage: scripts/web-figures.py [--executable .build/release/readstates] [--runs 5]
                              [--screenshot docs/web-client.png]

- The page's weight: bytes of every file the page loads (HTML, JS modules, CSS, icon).
- Load to READY: milliseconds from the page's navigation to the first READY shown
  (`data-ready-ms`, set by the page), for a user with 10 and with 1,000 read states
  (channels created and acked over HTTP first), median of --runs loads.
- The screenshot: alice and bob of `serve --demo` side by side after a few messages.
Starts its own `serve` on a free port in a temporary directory and stops it.
"""
import argparse
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Clients"))
from serve_process import ServeProcess  # noqa: E402

ALICE, BOB = "80351110224678912", "80351110224678913"
GENERAL, RANDOM, PAIR = "175928847299117063", "175928847299117064", "175928847299117065"
FILES = ["/", "/app.js", "/gateway.js", "/readstates.js", "/style.css", "/favicon.svg"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server(ServeProcess):
    def __init__(self, executable):
        super().__init__(executable, tempfile.mkdtemp(prefix="readstates-web-figures-"), free_port(),
                         ["--demo", "--rate-limit", "0"], wait=30)
        self.start()

    def request(self, method, path, token=None, body=None):
        status, _, body = super().request(method, path, token, body)
        return status, body


def browser(width, height):
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--hide-scrollbars"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def user_with_read_states(server, user, count):
    """Channels of `user` (and nobody else) with one acked message each."""
    admin = server.token("--admin")
    token = server.token("--user", user)
    for index in range(count):
        status, body = server.request("POST", "/api/channels", admin, {"name": f"c{index:04d}", "members": [user]})
        if status != 201:
            raise SystemExit(f"channel: {status} {body}")
        channel = json.loads(body)["id"]
        status, body = server.request("POST", f"/api/channels/{channel}/messages/{(index + 1) << 22}/ack", token,
                                      {"manual": True, "mention_count": index % 3})
        if status != 200:
            raise SystemExit(f"ack: {status} {body}")
    return token


def load_to_ready(server, token, runs):
    driver = browser(1100, 700)
    try:
        times = []
        for _ in range(runs):
            driver.get("about:blank")
            driver.get(f"http://127.0.0.1:{server.port}/#token={token}")
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.documentElement.dataset.readyMs"))
            times.append(int(driver.execute_script("return document.documentElement.dataset.readyMs")))
            driver.execute_script("sessionStorage.clear()")
        return times
    finally:
        driver.quit()


def screenshot(server, path):
    try:
        from PIL import Image
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pillow"], check=True)
        from PIL import Image
    alice_token, bob_token = server.token("--user", ALICE), server.token("--user", BOB)
    alice, bob = browser(640, 520), browser(640, 520)
    try:
        for driver, token in ((alice, alice_token), (bob, bob_token)):
            driver.get(f"http://127.0.0.1:{server.port}/#token={token}")
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'li[data-channel-id="{PAIR}"]'))
        alice.find_element(By.CSS_SELECTOR, f'li[data-channel-id="{PAIR}"]').click()
        bob.find_element(By.CSS_SELECTOR, f'li[data-channel-id="{PAIR}"]').click()
        for sender, channel, content in [
            (bob_token, PAIR, f"hi <@{ALICE}>, lunch?"),
            (alice_token, PAIR, "sure, 12:30"),
            (bob_token, GENERAL, f"<@{ALICE}> the deploy is done"),
            (bob_token, GENERAL, "@everyone standup in 5"),
            (alice_token, RANDOM, f"<@{BOB}> look at this"),
        ]:
            server.request("POST", f"/api/channels/{channel}/messages", sender, {"content": content})
        time.sleep(1)
        shots = []
        for name, driver in (("alice", alice), ("bob", bob)):
            file = os.path.join(server.data, f"{name}.png")
            driver.save_screenshot(file)
            shots.append(Image.open(file))
        gap = 16
        canvas = Image.new("RGB", (sum(s.width for s in shots) + gap, max(s.height for s in shots)), "#c9ccd1")
        canvas.paste(shots[0], (0, 0))
        canvas.paste(shots[1], (shots[0].width + gap, 0))
        canvas.save(path, optimize=True)
    finally:
        alice.quit()
        bob.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--executable", default=".build/release/readstates")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshot")
    options = parser.parse_args()

    server = Server(options.executable)
    try:
        weight = 0
        for path in FILES:
            status, body = server.request("GET", path)
            print(f"{path:16} {status} {len(body):6d} bytes")
            weight += len(body)
        print(f"page weight: {weight} bytes in {len(FILES)} files (uncompressed; no framework, no build step)")
        for count, user in ((10, "80351110224679000"), (1000, "80351110224679001")):
            token = user_with_read_states(server, user, count)
            times = load_to_ready(server, token, options.runs)
            print(f"load to READY shown, {count} read states: median {statistics.median(times)} ms "
                  f"(min {min(times)}, max {max(times)}; {options.runs} loads: {times})")
        if options.screenshot:
            screenshot(server, options.screenshot)
            print(f"screenshot: {options.screenshot}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
