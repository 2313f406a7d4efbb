#!/usr/bin/env python3
"""The web client in a real headless browser (Debian's chromium and chromium-driver,
driven by selenium), against a real `readstates serve --demo` that this script starts,
restarts and stops.

Usage: web_client_check.py READSTATES_EXECUTABLE DATA_DIR PORT

Two pages of one user (alice) and one of another (bob):
- a mention over REST badges both of alice's pages and the title;
- opening the channel on one page clears it on both and on the server;
- the composer sends, and markup in a message stays text;
- mark unread (Alt+click) reaches the other page and sticks while the channel is open;
- the server restarted, the pages reconnect and a new mention arrives;
- a refused token shows `unauthorized` and the form, with no reconnect loop;
- no console errors; the page has the CSP header and no inline script;
- the sidebar works from the keyboard, and the page fits 320 px.
Exits 0 when every check held; otherwise prints the failed check and exits 1.
Every wait has a deadline (WebDriverWait), and every process it starts is stopped.
"""
import html.parser
import json
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from serve_process import ServeProcess

ALICE, BOB = "80351110224678912", "80351110224678913"
GENERAL, RANDOM = "175928847299117063", "175928847299117064"
WAIT = 20


class CheckFailed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise CheckFailed(what)


class Server(ServeProcess):
    def __init__(self, executable, data, port):
        super().__init__(executable, data, port, ["--demo", "--flush-delay", "1s"], wait=WAIT)

    def token(self, user):
        return super().token("--user", user)

    def request(self, method, path, token=None, body=None, headers=None):
        status, headers, body = super().request(method, path, token, body, headers)
        return status, headers, body.decode()

    def read_state(self, token, channel):
        status, _, body = self.request("GET", "/api/users/@me/read-states", token)
        check(status == 200, f"read-states: {status} {body}")
        entries = {entry["id"]: entry for entry in json.loads(body)["entries"]}
        return entries.get(channel)


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,700", "--disable-background-timer-throttling",
                     "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver from Debian's package: selenium must not try to download one.
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, condition, what):
    try:
        return WebDriverWait(driver, WAIT).until(lambda d: condition(d))
    except TimeoutException:
        raise CheckFailed(f"timed out waiting for {what}")


def sidebar(driver, channel):
    """A channel's badge as the sidebar shows it, read in one script: the sidebar is
    re-rendered as events arrive, so an element handle may go stale between reads."""
    return driver.execute_script(
        "const item = document.querySelector(`li[data-channel-id=\"${arguments[0]}\"]`);"
        "return item && {unread: item.getAttribute('data-unread'),"
        " mentions: item.getAttribute('data-mention-count'), label: item.getAttribute('aria-label')};",
        str(channel))


def messages(driver):
    """The shown messages as (id, text, mentions me), read in one script: the list is
    re-rendered as acks arrive, so element handles would go stale."""
    return driver.execute_script(
        "return [...document.querySelectorAll('li[data-message-id]')]"
        ".map(e => [e.dataset.messageId, e.textContent, e.classList.contains('mentions-me')])")


def shows(driver, text):
    return any(text in shown for _, shown, _ in messages(driver))


def state_of(driver):
    return driver.find_element(By.CSS_SELECTOR, '[data-role="connection"]').get_attribute("data-state")


def wait_badge(driver, channel, unread, mentions, what):
    wait(driver, lambda d: (s := sidebar(d, channel)) and s["unread"] == unread and s["mentions"] == str(mentions),
         f"{what}: unread={unread} mentions={mentions} (now {sidebar(driver, channel)})")


def console_errors(driver, allow=()):
    entries = driver.get_log("browser")
    return [e["message"] for e in entries if e["level"] == "SEVERE" and not any(a in e["message"] for a in allow)]


class InlineScripts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            self.in_script = True
            if "src" not in names:
                self.problems.append("a script without src")
        self.problems += [f"inline handler {name}" for name in names if name.startswith("on")]

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append("inline script text")


def main(executable, data, port):
    server = Server(executable, data, int(port))
    drivers = []
    try:
        server.start()
        alice_token, bob_token = server.token(ALICE), server.token(BOB)
        base = f"http://127.0.0.1:{port}/"

        # The page itself: headers and no inline script.
        status, headers, body = server.request("GET", "/")
        check(status == 200 and headers["Content-Type"].startswith("text/html"), f"GET /: {status}")
        policy = headers.get("Content-Security-Policy", "")
        check("script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy,
              f"CSP: {policy!r}")
        check(headers.get("X-Content-Type-Options") == "nosniff", "nosniff")
        parser = InlineScripts()
        parser.feed(body)
        check(not parser.problems, f"index.html: {parser.problems}")
        status, headers, _ = server.request("GET", "/app.js")
        check(status == 200 and headers["Content-Type"].startswith("text/javascript"), f"GET /app.js: {status}")
        etag = headers.get("ETag")
        check(etag and headers.get("Cache-Control") == "no-cache", f"ETag {etag}, Cache-Control {headers.get('Cache-Control')}")
        status, _, _ = server.request("GET", "/app.js", headers={"If-None-Match": etag})
        check(status == 304, f"revalidation with the current ETag: {status}")
        check(server.request("GET", "/../secret")[0] == 404, "no path outside the client")

        alice1, alice2, bob = browser(), browser(), browser()
        drivers += [alice1, alice2, bob]
        for driver, token in ((alice1, alice_token), (alice2, alice_token), (bob, bob_token)):
            driver.get(base + "#token=" + token)
        for driver in (alice1, alice2, bob):
            wait(driver, lambda d: state_of(d) == "connected", "connected")
            wait(driver, lambda d: sidebar(d, GENERAL) is not None, "the sidebar")
            check("token=" not in driver.current_url, "the token left the address bar")
        check(alice1.execute_script("return sessionStorage.getItem('readstates.token')") == alice_token,
              "the token kept in sessionStorage")

        # A mention over REST badges both of alice's pages and the title.
        status, _, body = server.request("POST", f"/api/channels/{GENERAL}/messages", bob_token,
                                         {"content": f"hello <@{ALICE}>"})
        check(status == 200, f"REST message: {status} {body}")
        mention_id = json.loads(body)["id"]
        for driver in (alice1, alice2):
            wait_badge(driver, GENERAL, "true", 1, "a mention badges the page")
            wait(driver, lambda d: d.title.startswith("(1) "), f"title (now {driver.title!r})")
        label = sidebar(alice1, GENERAL)["label"]
        check("unread" in label and "1 mention" in label, f"aria-label: {label!r}")

        # Opening the channel on one page clears it on both and on the server.
        alice1.find_element(By.CSS_SELECTOR, f'li[data-channel-id="{GENERAL}"]').click()
        for driver in (alice1, alice2):
            wait_badge(driver, GENERAL, "false", 0, "opening the channel clears it")
            wait(driver, lambda d: not d.title.startswith("("), "the title without a count")
        state = server.read_state(alice_token, GENERAL)
        check(state and state["last_message_id"] == mention_id and state["mention_count"] == 0, f"server: {state}")

        # The composer sends; markup stays text; a message in the open channel is read at once.
        bob.find_element(By.CSS_SELECTOR, f'li[data-channel-id="{GENERAL}"]').click()
        composer = alice1.find_element(By.CSS_SELECTOR, '[data-role="composer"]')
        wait(alice1, lambda d: composer.is_enabled(), "the composer enabled")
        markup = '<b>bold</b><img src=x onerror="document.title=1">'
        composer.send_keys(markup + Keys.ENTER)
        wait(bob, lambda d: any(text.endswith(markup) for _, text, _ in messages(d)), "bob sees alice's message")
        check(not bob.find_elements(By.CSS_SELECTOR, "#messages b, #messages img"), "markup rendered as elements")
        bob.find_element(By.CSS_SELECTOR, '[data-role="composer"]').send_keys(f"back at you <@{ALICE}>" + Keys.ENTER)
        wait(alice1, lambda d: shows(d, "back at you"), "alice sees bob's message")
        back_id = [id for id, text, _ in messages(alice1) if "back at you" in text][0]
        # Read as it arrived in the open channel: the server has alice's ack of it.
        wait(alice1, lambda d: server.read_state(alice_token, GENERAL)["last_message_id"] == back_id,
             "alice's page acks the message that arrived in the open channel")
        check(any("back at you" in text and mine for _, text, mine in messages(alice1)), "a mention of alice is highlighted")
        wait_badge(alice2, GENERAL, "false", 0, "a message read as it arrives in the open channel")

        # Mark unread (Alt+click on bob's message) reaches the other page and sticks.
        target_id = [id for id, text, _ in messages(alice1) if "back at you" in text][0]
        for attempt in range(5):
            try:
                target = alice1.find_element(By.CSS_SELECTOR, f'li[data-message-id="{target_id}"]')
                ActionChains(alice1).key_down(Keys.ALT).click(target).key_up(Keys.ALT).perform()
                break
            except StaleElementReferenceException:
                continue  # re-rendered between the lookup and the click
        for driver in (alice1, alice2):
            wait_badge(driver, GENERAL, "true", 1, "mark unread")
        state = server.read_state(alice_token, GENERAL)
        check(state and int(state["last_message_id"]) == int(target_id) - 1 and state["mention_count"] == 1,
              f"server after mark unread: {state}")
        server.request("POST", f"/api/channels/{GENERAL}/messages", bob_token, {"content": "after the mark"})
        wait(alice1, lambda d: shows(d, "after the mark"), "a message after the mark")
        # A page that acked would do it within its 1 s ack delay: give it the chance to be wrong.
        time.sleep(2)
        check(sidebar(alice1, GENERAL)["unread"] == "true", "the channel stays unread while open")
        check(server.read_state(alice_token, GENERAL)["mention_count"] == 1, "no ack after the mark")

        errors = [(name, console_errors(d)) for name, d in (("alice1", alice1), ("alice2", alice2), ("bob", bob))]
        check(all(not found for _, found in errors), f"console errors: {errors}")

        # The server restarts: the pages come back by themselves, and a new mention arrives.
        server.stop()
        for driver in (alice1, alice2):
            wait(driver, lambda d: state_of(d) in ("reconnecting", "connecting"), "reconnecting after the restart")
        server.start()
        for driver in (alice1, alice2, bob):
            wait(driver, lambda d: state_of(d) == "connected", "connected again after the restart")
        status, _, _ = server.request("POST", f"/api/channels/{RANDOM}/messages", bob_token, {"content": f"<@{ALICE}> again"})
        check(status == 200, "a mention after the restart")
        for driver in (alice1, alice2):
            wait_badge(driver, RANDOM, "true", 1, "a mention after the restart")
            # What was read and marked before the restart is what the server kept.
            wait_badge(driver, GENERAL, "true", 1, "general as it was before the restart")
        # The only console errors allowed: the browser's own report of the failed
        # connection attempts while the server was down.
        errors = [console_errors(d, allow=("WebSocket connection to",)) for d in (alice1, alice2, bob)]
        check(all(not found for found in errors), f"console errors: {errors}")

        # A refused token: unauthorized, the form, no reconnect loop.
        bob.get(base + "#token=forged.token.value")
        wait(bob, lambda d: state_of(d) == "unauthorized", "unauthorized")
        check(bob.find_element(By.ID, "sign-in").is_displayed(), "the sign-in form")
        before = server.request("GET", "/metrics")[2].count("gateway_closes_total")
        time.sleep(1.5)
        check(state_of(bob) == "unauthorized", "no reconnect after 4004")
        metrics = server.request("GET", "/metrics")[2]
        closes = [line for line in metrics.splitlines() if line.startswith('gateway_closes_total{code="4004"}')]
        check(closes and closes[0].endswith(" 1"), f"one 4004 close: {closes} ({before})")

        # The keyboard: Tab lands on the sidebar's entry, arrows move, Enter opens.
        order = alice2.execute_script("return [...document.querySelectorAll('li[data-channel-id]')].map(e => e.dataset.channelId)")
        check(len(order) == 3, f"alice's channels: {order}")
        alice2.find_element(By.CSS_SELECTOR, f'li[data-channel-id="{order[0]}"]').send_keys(Keys.ARROW_DOWN)
        wait(alice2, lambda d: d.execute_script("return document.activeElement.dataset.channelId") == order[1],
             "the arrow key moves the focus")
        alice2.switch_to.active_element.send_keys(Keys.ENTER)
        wait(alice2, lambda d: d.execute_script("return document.querySelector('li[aria-selected=\"true\"]')?.dataset.channelId")
             == order[1], "Enter opens the focused channel")

        # Narrow screens: the page fits 320 px.
        alice1.set_window_size(320, 640)
        width = alice1.execute_script("return document.documentElement.scrollWidth")
        check(width <= 320, f"scroll width at 320 px: {width}")
        print("web client: all checks passed")
    finally:
        for driver in drivers:
            driver.quit()
        server.stop()


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except CheckFailed as failed:
        print(f"check failed: {failed}", file=sys.stderr)
        sys.exit(1)
