#!/usr/bin/env python3
"""Versioned, partial READY through a real `readstates serve --demo` (SQLite), driven
by Python's `websockets`: exactly the changed entries after acks and a mention, the
same over REST (`?since=`), the full set for a client ahead of the server, partial
READY still right after a clean restart, and the full set after a crash (kill -9)
that lost a change the client had seen.

Usage: partial_ready_check.py READSTATES_EXECUTABLE DATA_DIR PORT
Prints "partial ready: all checks passed".
"""
import asyncio
import json
import os
import signal
import sys

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_checks import check, receive, run  # noqa: E402
from serve_process import ServeProcess  # noqa: E402

ALICE, BOB = "80351110224678913", "80351110224678912"
GENERAL, RANDOM, PAIR = "175928847299117063", "175928847299117064", "175928847299117065"
VERSIONED_READ_STATES = 1 << 2


class Client:
    """One gateway connection: HELLO, IDENTIFY (with a version or not), READY."""

    def __init__(self, url):
        self.url = url

    async def identify(self, token, version=None):
        self.ws = await websockets.connect(self.url, max_size=None)
        await receive(self.ws)
        body = {"token": token}
        if version is not None:
            body["capabilities"] = VERSIONED_READ_STATES
            body["client_state"] = {"read_state_version": version}
        await self.ws.send(json.dumps({"op": 2, "d": body}))
        ready = await receive(self.ws)
        check(ready["t"] == "READY", f"READY, got {ready}")
        return ready["d"]["read_state"]

    async def until(self, event):
        while True:
            frame = await receive(self.ws)
            if frame.get("t") == event:
                return frame["d"]

    async def ack(self, channel, message):
        await self.ws.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": message}}))
        return await self.until("MESSAGE_ACK")

    async def close(self):
        await self.ws.close()


def by_channel(read_state):
    return {entry["id"]: entry for entry in read_state["entries"]}


async def read_state(url, token, version=None):
    client = Client(url)
    state = await client.identify(token, version)
    await client.close()
    return state


async def main(executable, data, port):
    serve = ServeProcess(executable, data, port, ["--demo", "--flush-delay", "1s"])
    serve.start()
    url = f"ws://127.0.0.1:{port}/gateway"
    alice, bob = serve.token("--user", ALICE), serve.token("--user", BOB)
    try:
        # A state in each of Alice's three channels.
        client = Client(url)
        await client.identify(alice)
        for channel, message in [(GENERAL, "175928847299117100"), (RANDOM, "175928847299117100"), (PAIR, "175928847299117100")]:
            await client.ack(channel, message)
        full = await read_state(url, alice)
        check(not full["partial"] and len(full["entries"]) == 3, f"a full READY of 3 states: {full}")
        seen = full["version"]

        # Two changes: an ack of Alice's, and Bob's mention of her in #random.
        acked = await client.ack(GENERAL, "175928847299117200")
        sender = Client(url)
        await sender.identify(bob)
        await sender.ws.send(json.dumps({"op": 100, "d": {"channel_id": RANDOM, "content": f"hi <@{ALICE}>"}}))
        await client.until("MESSAGE_CREATE")
        await sender.close()
        await client.close()

        partial = await read_state(url, alice, seen)
        check(partial["partial"], f"partial: {partial}")
        entries = by_channel(partial)
        check(set(entries) == {GENERAL, RANDOM}, f"exactly the two changed states: {partial}")
        check(entries[GENERAL]["last_message_id"] == "175928847299117200", f"the ack: {entries[GENERAL]}")
        check(entries[RANDOM]["mention_count"] == 1, f"the mention: {entries[RANDOM]}")
        check(partial["version"] > acked["version"] >= seen, f"versions grow: {seen}, {acked}, {partial}")
        latest = partial["version"]

        status, _, body = serve.request("GET", f"/api/users/@me/read-states?since={seen}", alice)
        rest = json.loads(body)
        check(status == 200 and rest["partial"] and set(by_channel(rest)) == {GENERAL, RANDOM}, f"REST since: {status} {rest}")
        check(serve.request("GET", "/api/users/@me/read-states?since=x", alice)[0] == 400, "a bad since is a 400")
        # An encoded '&' stays inside its value: "1&2" is no version, not since=1.
        check(serve.request("GET", "/api/users/@me/read-states?since=1%262", alice)[0] == 400,
              "since=1%262 is one (bad) value")

        ahead = await read_state(url, alice, latest + 1)
        check(not ahead["partial"] and len(ahead["entries"]) == 3, f"a client ahead of the server gets all: {ahead}")
        up_to_date = await read_state(url, alice, latest)
        check(up_to_date["partial"] and up_to_date["entries"] == [], f"nothing changed: {up_to_date}")

        # A clean restart keeps versions and the generation: still partial.
        serve.stop()
        serve.start()
        again = await read_state(url, alice, seen)
        check(again["partial"] and set(by_channel(again)) == {GENERAL, RANDOM}, f"after a restart: {again}")
        check(again["version"] == latest, f"the same version after a restart: {again['version']} vs {latest}")

        # A crash that loses a change the client saw: the client gets the full set.
        serve.stop()
        serve.arguments = ["--demo", "--flush-delay", "30m"]
        serve.start()
        client = Client(url)
        await client.identify(alice)
        lost = await client.ack(PAIR, "175928847299117300")
        await client.close()
        serve.process.send_signal(signal.SIGKILL)
        serve.process.wait(10)
        serve.start()
        after_crash = await read_state(url, alice, lost["version"])
        check(not after_crash["partial"] and len(after_crash["entries"]) == 3, f"full after a crash: {after_crash}")
        check(by_channel(after_crash)[PAIR]["last_message_id"] == "175928847299117100", "the unwritten ack is gone")
        check(after_crash["version"] >> 32 != latest >> 32, "a new generation after the crash")
        # Even a version that was written belongs to the old generation: full.
        older = await read_state(url, alice, latest)
        check(not older["partial"], f"an older generation gets all: {older}")
        # The new generation's versions work as before.
        newest = await read_state(url, alice, after_crash["version"])
        check(newest["partial"] and newest["entries"] == [], f"partial in the new generation: {newest}")
    finally:
        serve.stop()
    print("partial ready: all checks passed", flush=True)


if __name__ == "__main__":
    run(main, 3)
