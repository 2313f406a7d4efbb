#!/usr/bin/env python3
"""`readstates serve --threads 2` driven by Python's `websockets`: one user's sessions
spread over both service threads (which thread a connection landed on is read from
`/metrics`), MESSAGE_ACK and MESSAGE_CREATE reaching every session with `s` in order
and without gaps (also under a burst sent from sessions on both threads), RESUME on
the other thread (replaying what was missed), and a RESUME on the other thread taking
over a connection still open there.

Usage: threads_check.py READSTATES_EXECUTABLE DATA_DIR PORT
Prints "threads: all checks passed".
"""
import asyncio
import json
import os
import re
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_checks import check, receive, run  # noqa: E402
from serve_process import ServeProcess  # noqa: E402

ALICE, BOB = "80351110224678913", "80351110224678912"
GENERAL, RANDOM = "175928847299117063", "175928847299117064"


def thread_connections(serve):
    text = serve.request("GET", "/metrics")[2].decode()
    return {int(t): float(v) for t, v in re.findall(r'gateway_thread_connections\{thread="(\d+)"\} ([0-9.]+)', text)}


class Session:
    def __init__(self, ws, thread):
        self.ws, self.thread, self.sequence, self.session_id = ws, thread, 0, None
        self.events = []

    async def next_dispatch(self, name, timeout=5):
        """Reads until dispatch `name`; every dispatch's s must follow the last one."""
        while True:
            frame = await receive(self.ws, timeout)
            if frame["op"] != 0:
                continue
            check(frame["s"] == self.sequence + 1, f"s {frame['s']} after {self.sequence} ({frame['t']}) on thread {self.thread}")
            self.sequence = frame["s"]
            if frame["t"] == name:
                return frame["d"]


async def connect(serve, url):
    """A new connection after HELLO, and the service thread it landed on."""
    before = thread_connections(serve)
    ws = await websockets.connect(url, max_size=None)
    hello = await receive(ws)
    check(hello["op"] == 10, f"HELLO: {hello}")
    for _ in range(100):
        after = thread_connections(serve)
        grown = [t for t in after if after[t] > before.get(t, 0)]
        if grown:
            return ws, grown[0]
        await asyncio.sleep(0.02)
    check(False, "the new connection shows on no thread in /metrics")


async def identify(serve, url, token):
    ws, thread = await connect(serve, url)
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    session = Session(ws, thread)
    ready = await session.next_dispatch("READY")
    session.session_id = ready["session_id"]
    return session


async def connect_on(serve, url, thread, tries=60):
    """A new connection that landed on `thread` (others are closed)."""
    for _ in range(tries):
        ws, landed = await connect(serve, url)
        if landed == thread:
            return ws
        await ws.close()
    check(False, f"no connection landed on thread {thread} in {tries} tries")


async def main(executable, data, port):
    serve = ServeProcess(executable, data, port, ["--demo", "--threads", "2", "--rate-limit", "0"])
    serve.start()
    url = f"ws://127.0.0.1:{port}/gateway"
    alice, bob = serve.token("--user", ALICE), serve.token("--user", BOB)
    try:
        # At least 8 sessions of Alice, on both threads.
        sessions = []
        while len(sessions) < 8 or len({s.thread for s in sessions}) < 2:
            check(len(sessions) < 40, "40 connections all landed on one thread")
            sessions.append(await identify(serve, url, alice))
        sender = await identify(serve, url, bob)

        # An ack from one session: MESSAGE_ACK on every one, whichever thread.
        await sessions[0].ws.send(json.dumps({"op": 101, "d": {"channel_id": GENERAL, "message_id": "175928847299117100"}}))
        for session in sessions:
            ack = await session.next_dispatch("MESSAGE_ACK")
            check(ack["message_id"] == "175928847299117100", f"the ack on thread {session.thread}: {ack}")

        # A message from Bob: MESSAGE_CREATE on every session of Alice.
        await sender.ws.send(json.dumps({"op": 100, "d": {"channel_id": RANDOM, "content": f"hi <@{ALICE}>", "nonce": "t1"}}))
        for session in sessions:
            created = await session.next_dispatch("MESSAGE_CREATE")
            check(created["nonce"] == "t1", f"the message on thread {session.thread}: {created}")

        # A burst from both threads at once: Bob's messages, and acks from a session of
        # Alice on each thread; every session sees every message in the order sent, s
        # without gaps.
        on_thread = {s.thread: s for s in sessions}
        burst = []
        for k in range(20):
            burst.append(sender.ws.send(json.dumps({"op": 100, "d": {"channel_id": GENERAL, "content": f"burst {k}", "nonce": f"b{k}"}})))
            for thread, session in on_thread.items():
                message = str(175928847299117200 + k * 2 + thread)
                burst.append(session.ws.send(json.dumps({"op": 101, "d": {"channel_id": RANDOM, "message_id": message}})))
        await asyncio.gather(*burst)
        for session in sessions:
            # One sender on one connection: its messages are numbered in the order sent.
            nonces = [(await session.next_dispatch("MESSAGE_CREATE"))["nonce"] for _ in range(20)]
            check(nonces == [f"b{k}" for k in range(20)], f"the burst on thread {session.thread}: {nonces}")

        # RESUME on the other thread, after a dispatch missed while away.
        away = sessions[1]
        await away.ws.close()
        await sender.ws.send(json.dumps({"op": 100, "d": {"channel_id": GENERAL, "content": "while away", "nonce": "w1"}}))
        await sessions[0].next_dispatch("MESSAGE_CREATE")
        other = 1 - away.thread
        ws = await connect_on(serve, url, other)
        await ws.send(json.dumps({"op": 6, "d": {"token": alice, "session_id": away.session_id, "seq": away.sequence}}))
        resumed = Session(ws, other)
        resumed.sequence = away.sequence
        replayed = []
        while True:
            frame = await receive(ws)
            if frame["op"] != 0:
                continue
            check(frame["s"] == resumed.sequence + 1, f"replay s {frame['s']} after {resumed.sequence}")
            resumed.sequence = frame["s"]
            replayed.append(frame["t"])
            if frame["t"] == "RESUMED":
                break
        check("MESSAGE_CREATE" in replayed, f"the missed message replayed on the other thread: {replayed}")
        await sender.ws.send(json.dumps({"op": 100, "d": {"channel_id": GENERAL, "content": "after", "nonce": "a1"}}))
        after = await resumed.next_dispatch("MESSAGE_CREATE")
        check(after["nonce"] == "a1", f"live again after RESUME: {after}")

        # A RESUME on the other thread while the old connection is still open: the old
        # one is closed (4000), the new one carries on.
        still_open = resumed
        ws = await connect_on(serve, url, 1 - still_open.thread)
        await ws.send(json.dumps({"op": 6, "d": {"token": alice, "session_id": away.session_id, "seq": still_open.sequence}}))
        taken = Session(ws, 1 - still_open.thread)
        taken.sequence = still_open.sequence
        await taken.next_dispatch("RESUMED")
        try:
            while True:
                await receive(still_open.ws, 5)
        except websockets.ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 4000, f"the old connection closed with 4000: {closed.rcvd}")
        await sender.ws.send(json.dumps({"op": 100, "d": {"channel_id": GENERAL, "content": "taken", "nonce": "t2"}}))
        check((await taken.next_dispatch("MESSAGE_CREATE"))["nonce"] == "t2", "live on the new connection")

        metrics = serve.request("GET", "/metrics")[2].decode()
        for thread in (0, 1):
            found = re.search(rf'gateway_thread_frames_total{{thread="{thread}",direction="out"}} ([0-9.]+)', metrics)
            check(found is not None and float(found.group(1)) > 0, f"frames sent by thread {thread} on /metrics")
    finally:
        serve.stop()
    print("threads: all checks passed", flush=True)


if __name__ == "__main__":
    run(main, 3)
