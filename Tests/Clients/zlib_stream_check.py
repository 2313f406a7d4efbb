#!/usr/bin/env python3
"""zlib-stream transport compression, checked with Python's zlib: one session of a user
with `?compress=zlib-stream` and one plain session of the same user go through the same
READY, MESSAGE_CREATE, MESSAGE_ACK and heartbeat; every compressed message is binary,
ends with the sync-flush marker 00 00 ff ff, and inflates (one zlib.decompressobj for
the connection) to the same payloads as the plain stream. An unknown compress value
is refused with close 4002.

Usage: zlib_stream_check.py URL TOKEN_A TOKEN_B CHANNEL USER_A
Prints "zlib-stream: all checks passed".
"""
import asyncio
import json
import zlib

import websockets

from gateway_checks import check, closed_with, receive, run

SUFFIX = b"\x00\x00\xff\xff"


class Compressed:
    """A zlib-stream connection: binary messages inflated by one decompressobj."""

    def __init__(self, ws):
        self.ws, self.inflater, self.messages = ws, zlib.decompressobj(), 0

    async def receive(self, timeout=5):
        buffer = b""
        while True:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
            check(isinstance(message, bytes), f"a binary message, got text {message!r}")
            # The server sends each payload as one message: every one ends with the marker.
            check(message.endswith(SUFFIX), f"message {self.messages + 1} ends with the sync-flush marker")
            self.messages += 1
            buffer += message
            if buffer.endswith(SUFFIX):
                break
        return json.loads(self.inflater.decompress(buffer))


async def session(url, token, compressed):
    ws = await websockets.connect(url + ("?v=10&encoding=json&compress=zlib-stream" if compressed else ""), max_size=None)
    reader = Compressed(ws) if compressed else None
    receive_one = reader.receive if compressed else (lambda: receive(ws))
    hello = await receive_one()
    check(hello["op"] == 10, f"HELLO first: {hello}")
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    ready = await receive_one()
    check(ready["t"] == "READY", f"READY: {ready}")
    return ws, receive_one, [hello, ready], reader


def normalized(payloads):
    """The frames as compared: READY's session ID is each session's own."""
    result = []
    for payload in payloads:
        payload = json.loads(json.dumps(payload))
        if payload.get("t") == "READY":
            payload["d"]["session_id"] = "(session)"
        result.append(payload)
    return result


async def main(url, token_a, token_b, channel, user_a):
    plain_ws, plain_receive, plain, _ = await session(url, token_a, compressed=False)
    zws, z_receive, compressed, reader = await session(url, token_a, compressed=True)
    sender, _, _, _ = await session(url, token_b, compressed=False)

    # MESSAGE_CREATE with a mention of A, then an ack by A (MESSAGE_ACK to both).
    await sender.send(json.dumps({"op": 100, "d": {"channel_id": channel, "content": f"hi <@{user_a}>", "nonce": "z1"}}))
    plain.append(await plain_receive())
    compressed.append(await z_receive())
    message_id = plain[-1]["d"]["id"]
    await plain_ws.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": message_id}}))
    plain.append(await plain_receive())
    compressed.append(await z_receive())
    # A heartbeat each: op 11 on both.
    for ws, receive_one, frames in [(plain_ws, plain_receive, plain), (zws, z_receive, compressed)]:
        await ws.send(json.dumps({"op": 1, "d": None}))
        frames.append(await receive_one())

    check([f.get("t") or f["op"] for f in plain] == [10, "READY", "MESSAGE_CREATE", "MESSAGE_ACK", 11],
          f"the plain stream: {[f.get('t') or f['op'] for f in plain]}")
    check(normalized(compressed) == normalized(plain), f"same payloads:\n{compressed}\n{plain}")
    check(reader.messages == len(compressed), "one binary message per payload")

    # An unknown compression is refused (after HELLO) with 4002.
    refused = await websockets.connect(url + "?compress=zstd-stream")
    await closed_with(refused, 4002, after=" for compress=zstd-stream")
    for ws in (plain_ws, zws, sender):
        await ws.close()
    print("zlib-stream: all checks passed", flush=True)


if __name__ == "__main__":
    run(main, 5)
