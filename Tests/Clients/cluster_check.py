#!/usr/bin/env python3
"""Three (then four) `readstates serve --cluster` nodes on one Redis and one PostgreSQL,
driven by Python's `websockets`:

- a channel created over HTTP on node A is known on B and C;
- a message sent on A that mentions a user T owned by C, with T's sessions on B and C:
  MESSAGE_CREATE on both, the mention counted once (READY on A shows it);
- an ACK of T's on B reaches T's sessions on A and C as MESSAGE_ACK;
- GET /api/gateway names T's owner;
- kill -9 of the owner: T's state (written before) is served by a survivor once the
  TTL has run out, and T's sessions on the dead node are disconnected;
- a fourth node joins while messages with mentions and acks flow: no marker goes
  back, no mention is lost or counted twice (final counts against what was sent);
- Redis restarted: every node says "degraded" in /health, then recovers, and
  messages cross nodes again.

Usage: cluster_check.py READSTATES DATA_DIR REDIS_SCRIPT REDIS_DIR REDIS_PORT POSTGRES_URL PORT_A PORT_B PORT_C PORT_D
Prints "cluster: all checks passed".
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_checks import check, receive, run  # noqa: E402

AUTHOR = "80351110224678912"
TTL_SECONDS = 3


class Node:
    def __init__(self, name, executable, data, port, redis, postgres):
        self.name, self.executable, self.data, self.port = name, executable, data, int(port)
        self.redis, self.postgres = redis, postgres
        self.log = os.path.join(data, f"node-{name}.log")
        self.process = None

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/gateway"

    def start(self):
        self.process = subprocess.Popen(
            [self.executable, "serve", "--cluster", self.redis, "--store", "postgres", "--postgres-url", self.postgres,
             "--port", str(self.port), "--node-id", self.name, "--secret-file", os.path.join(self.data, "secret"),
             "--flush-delay", "1s", "--threads", "2", "--rate-limit", "0"],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))

    def wait_healthy(self, members=None, within=20):
        deadline = time.time() + within
        health = None
        while time.time() < deadline:
            try:
                status, body = self.request("GET", "/health")
                if status == 200:
                    health = json.loads(body)
                    if health.get("cluster") == "ok" and (members is None or health.get("members") == members):
                        return health
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"node {self.name} not healthy with {members}: {health}\n" + open(self.log).read()[-3000:])

    def request(self, method, path, token=None, body=None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode())
        if token:
            request.add_header("Authorization", token)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise RuntimeError(f"node {self.name} did not stop on SIGTERM")
        return self.process.returncode if self.process else None


TOKENS = {}


def token(executable, data, *arguments):
    """`readstates token ARGUMENTS` (each asked once: a process start is not free)."""
    if arguments not in TOKENS:
        TOKENS[arguments] = subprocess.run([executable, "token", *arguments, "--secret-file", os.path.join(data, "secret")],
                                           capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    return TOKENS[arguments]


async def identify(url, token_text):
    # An unbounded queue: sessions here read only what they check, and with a full
    # queue the library stops reading, so a close would wait for its timeout.
    ws = await websockets.connect(url, max_size=2**22, max_queue=None)
    hello = await receive(ws)
    check(hello["op"] == 10, f"HELLO: {hello}")
    await ws.send(json.dumps({"op": 2, "d": {"token": token_text}}))
    ready = await receive(ws, 10)
    check(ready["op"] == 0 and ready["t"] == "READY", f"READY on {url}: {ready}")
    return ws, ready["d"]


async def next_dispatch(ws, name, timeout=10):
    while True:
        frame = await receive(ws, timeout)
        if frame["op"] == 0 and frame["t"] == name:
            return frame["d"]


def entries(ready):
    return {e["id"]: e for e in ready["read_state"]["entries"]}


def owner_url(node, token_text):
    status, body = node.request("GET", "/api/gateway", token_text)
    check(status == 200, f"GET /api/gateway: {status} {body}")
    return json.loads(body)["url"]


async def main(executable, data, redis_script, redis_dir, redis_port, postgres, *ports):
    os.makedirs(data, exist_ok=True)
    begun = time.time()

    def phase(text):
        print(f"cluster: {text} ({time.time() - begun:.1f} s)")

    with open(os.path.join(data, "secret"), "w") as secret:
        secret.write(os.urandom(32).hex())
    redis = f"redis://127.0.0.1:{redis_port}"
    a, b, c, d = (Node(name, executable, data, port, redis, postgres) for name, port in zip("abcd", ports))
    nodes = [a, b, c]
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_healthy(["a", "b", "c"])
        phase("three nodes up")

        # A user owned by c (read from /api/gateway: rendezvous over a, b, c).
        target = None
        for candidate in range(80351110224679000, 80351110224679400):
            if owner_url(a, token(executable, data, "--user", str(candidate))) == c.url:
                target = str(candidate)
                break
        check(target is not None, "a user owned by c")
        t_token, author_token = token(executable, data, "--user", target), token(executable, data, "--user", AUTHOR)
        check(owner_url(b, t_token) == c.url, "GET /api/gateway on b names c as the owner")

        # A channel created over HTTP on a, with the users of the join phase below.
        others = [str(80351110224680000 + k) for k in range(6)]
        status, body = a.request("POST", "/api/channels", token(executable, data, "--admin"),
                                 {"name": "cluster", "members": [AUTHOR, target, *others]})
        check(status == 201, f"channel created on a: {status} {body}")
        channel = json.loads(body)["id"]

        # A channel created by the command-line tool in the shared store: the running
        # nodes are told through Redis.
        cli_channel = subprocess.run(
            [executable, "channel", "create", "--store", "postgres", "--postgres-url", postgres, "--name", "from-cli",
             "--members", f"{AUTHOR},{target}", "--cluster", redis],
            capture_output=True, text=True, timeout=30)
        check(cli_channel.returncode == 0 and "3 running nodes told" in cli_channel.stderr, f"channel create --cluster: {cli_channel}")
        cli_channel = cli_channel.stdout.strip()

        # The chat client, told node a's URL, connects to T's owner c (GET /api/gateway).
        chat_log = os.path.join(data, "chat.log")
        chat = subprocess.Popen([executable, "chat", "--url", a.url, "--token", t_token], stdin=subprocess.PIPE,
                                stdout=open(chat_log, "w"), stderr=subprocess.STDOUT, text=True)

        def chat_connected_to(port, within=15):
            deadline = time.time() + within
            while time.time() < deadline:
                if f"connecting to ws://127.0.0.1:{port}/gateway" in open(chat_log).read():
                    return True
                time.sleep(0.05)
            return False

        check(chat_connected_to(c.port), "chat connects to the owner: " + open(chat_log).read())

        author, _ = await identify(a.url, author_token)
        t_on_b, ready_b = await identify(b.url, t_token)
        t_on_c, _ = await identify(c.url, t_token)
        check(channel in {ch["id"] for ch in ready_b["channels"]}, f"b knows the channel created on a: {ready_b['channels']}")
        check(cli_channel in {ch["id"] for ch in ready_b["channels"]}, f"b knows the channel created by the CLI: {ready_b['channels']}")

        # A message on a mentioning T: MESSAGE_CREATE on b and c, the mention counted once.
        await author.send(json.dumps({"op": 100, "d": {"channel_id": channel, "content": f"hi <@{target}>", "nonce": "m1"}}))
        created_b = await next_dispatch(t_on_b, "MESSAGE_CREATE")
        created_c = await next_dispatch(t_on_c, "MESSAGE_CREATE")
        check(created_b["id"] == created_c["id"] and created_b["mentions"][0]["id"] == target, f"MESSAGE_CREATE: {created_b} {created_c}")
        message = created_b["id"]
        t_on_a, ready_a = await identify(a.url, t_token)
        state = entries(ready_a).get(channel)
        check(state is not None and state["mention_count"] == 1, f"READY on a: one mention of T: {state}")

        # An ACK on b: MESSAGE_ACK on a and c (and b).
        await t_on_b.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": message}}))
        for ws, where in ((t_on_a, "a"), (t_on_c, "c"), (t_on_b, "b")):
            ack = await next_dispatch(ws, "MESSAGE_ACK")
            check(ack["message_id"] == message and ack["mention_count"] == 0, f"MESSAGE_ACK on {where}: {ack}")
        phase("message, mention and ack across nodes")

        # kill -9 of the owner, after the flush delay wrote the ack.
        await asyncio.sleep(2.5)
        c.process.send_signal(signal.SIGKILL)
        c.process.wait(10)
        try:
            while True:
                await receive(t_on_c, 10)
        except (websockets.ConnectionClosed, ConnectionError, OSError):
            pass
        started = time.time()
        for node in (a, b):
            node.wait_healthy(["a", "b"], within=TTL_SECONDS + 10)
        survivor_url = owner_url(a, t_token)
        check(survivor_url in (a.url, b.url), f"after c died, the owner is a survivor: {survivor_url}")
        again, ready_again = await identify(survivor_url, t_token)
        state = entries(ready_again).get(channel)
        check(state is not None and state["last_message_id"] == message and state["mention_count"] == 0,
              f"the state written before c died is served by a survivor: {state}")
        phase(f"c killed; its users served again after {time.time() - started:.1f} s")
        # The chat client found the new owner on its own.
        survivor_port = int(survivor_url.split(":")[2].split("/")[0])
        check(chat_connected_to(survivor_port, within=30), "chat reconnects to a survivor: " + open(chat_log).read())
        chat.stdin.write("/quit\n")
        chat.stdin.flush()
        check(chat.wait(15) == 0, "chat exits 0 after /quit: " + open(chat_log).read())
        await again.close()
        for ws in (t_on_a, t_on_b, author):
            await ws.close()

        # A fourth node joins while messages with mentions and acks flow.
        sessions = {}
        for user in others:
            ws, _ = await identify([a, b][int(user) % 2].url, token(executable, data, "--user", user))
            sessions[user] = ws
        author, _ = await identify(a.url, author_token)
        sent = {user: 0 for user in others}
        acked_to = {}
        join_started = False
        for k in range(60):
            if k == 20:
                d.start()
                join_started = True
            mentioned = others[k % len(others)]
            await author.send(json.dumps({"op": 100, "d": {"channel_id": channel, "content": f"n{k} <@{mentioned}>", "nonce": f"j{k}"}}))
            created = await next_dispatch(author, "MESSAGE_CREATE")
            sent[mentioned] += 1
            if k % 10 == 9:
                # Each user acks what it has seen so far: its count goes back to 0.
                for user in others:
                    await sessions[user].send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": created["id"]}}))
                    acked_to[user] = created["id"]
                    sent[user] = 0
            await asyncio.sleep(0.05)
        check(join_started, "d started")
        d.wait_healthy(["a", "b", "d"], within=20)
        await asyncio.sleep(1.5)  # the last mentions reach their owners
        moved_to_d = 0
        for user in others:
            user_token = token(executable, data, "--user", user)
            owner = owner_url(a, user_token)
            moved_to_d += owner == d.url
            status, body = a.request("GET", "/api/users/@me/read-states", user_token)
            check(status == 200, f"read states of {user}: {status} {body}")
            state = {e["id"]: e for e in json.loads(body)["entries"]}.get(channel)
            check(state is not None and state["mention_count"] == sent[user],
                  f"user {user} (owner {owner}): {sent[user]} mentions since the last ack, got {state}")
            check(int(state["last_message_id"]) >= int(acked_to[user]), f"user {user}: marker went back: {state} < {acked_to[user]}")
        phase(f"d joined under load ({moved_to_d} of {len(others)} users moved to it); counts exact, no marker back")
        for ws in list(sessions.values()) + [author]:
            await ws.close()

        phase("join-phase sessions closed")
        # Redis restarted: degraded, then recovered.
        nodes = [a, b, d]
        subprocess.run([redis_script, "stop", redis_dir], check=True, timeout=30)
        phase("Redis stopped")
        for node in nodes:
            deadline = time.time() + 15
            while time.time() < deadline:
                if json.loads(node.request("GET", "/health")[1]).get("cluster") == "degraded":
                    break
                time.sleep(0.05)
            check(json.loads(node.request("GET", "/health")[1]).get("cluster") == "degraded", f"{node.name} says degraded")
        phase("every node degraded")
        subprocess.run([redis_script, "start", redis_dir, str(redis_port)], check=True, timeout=30)
        phase("Redis started again")
        for node in nodes:
            node.wait_healthy(["a", "b", "d"], within=20)
        phase("every node healthy again")
        t_on_b, _ = await identify(b.url, t_token)
        author, _ = await identify(a.url, author_token)
        await author.send(json.dumps({"op": 100, "d": {"channel_id": channel, "content": "after the restart", "nonce": "r1"}}))
        created = await next_dispatch(t_on_b, "MESSAGE_CREATE")
        check(created["content"] == "after the restart", f"a message crosses nodes after Redis restarted: {created}")
        phase("Redis restarted; degraded, then recovered")
        await t_on_b.close()
        await author.close()

        # A clean leave: d stops on SIGTERM after telling its sessions to reconnect (op 7),
        # writes what it owns and leaves at once: a and b drop it well before its TTL
        # and serve its users' latest state.
        d_users = [user for user in others if owner_url(a, token(executable, data, "--user", user)) == d.url]
        check(d_users, "d owns some users")
        leaver_session, _ = await identify(d.url, token(executable, data, "--user", d_users[0]))
        await leaver_session.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": created["id"]}}))
        await next_dispatch(leaver_session, "MESSAGE_ACK")
        stopping = time.time()
        d.process.send_signal(signal.SIGTERM)
        reconnect = None
        try:
            while reconnect is None:
                frame = await receive(leaver_session, 10)
                if frame["op"] == 7:
                    reconnect = frame
        except websockets.ConnectionClosed:
            pass
        check(reconnect is not None, "d's session gets RECONNECT (op 7) before d goes")
        check(d.process.wait(30) == 0, "d exits 0 on SIGTERM")
        a.wait_healthy(["a", "b"], within=1.5)  # half the TTL: the leave is announced
        left_after = time.time() - stopping
        check(owner_url(a, token(executable, data, "--user", d_users[0])) in (a.url, b.url), "d's users have a new owner")
        status, body = a.request("GET", "/api/users/@me/read-states", token(executable, data, "--user", d_users[0]))
        state = {e["id"]: e for e in json.loads(body)["entries"]}.get(channel) if status == 200 else None
        check(state is not None and state["last_message_id"] == created["id"], f"d's last ack, written before it left: {state} ({status} {body[:300]})")
        phase(f"d left cleanly; a and b took its users {left_after:.2f} s after SIGTERM, without waiting for its TTL")
        nodes = [a, b]

        for node in nodes:
            code = node.stop()
            check(code == 0, f"node {node.name} exits 0 on SIGTERM (got {code})")
        print("cluster: all checks passed")
    finally:
        for node in (a, b, c, d):
            if node.process and node.process.poll() is None:
                node.process.kill()


if __name__ == "__main__":
    run(main, 10)
