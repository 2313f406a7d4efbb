#!/usr/bin/env python3
"""A client that stops reading is disconnected; the user's other session is served on.

Usage: gateway_slow_reader.py URL TOKEN CHANNEL [never]
Session X (tiny receive buffer) identifies and then never reads; session Y, the same
user, sends BULK_ACKs whose MESSAGE_ACKs go to both. The server must close X once its
backlog passes the limit, while Y receives every one of its MESSAGE_ACKs. Then X reads
and finds 4000; with "never", X never reads again and the server must let go of its
connection anyway (`gateway_connections` on /metrics back to 1, Y's) once its close
deadline passed. Prints "slow reader: all checks passed" and exits 0 when that held.
"""
import asyncio
import json
import socket
import sys
import time
import urllib.request

import websockets

from gateway_checks import check, closed_with, receive, run


def open_connections(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("gateway_connections "):
                return float(line.split()[1])
    return None


async def main(url, token, channel, mode=""):
    port = int(url.split(":")[2].split("/")[0])
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    x = await websockets.connect(url, sock=raw, max_queue=1)
    await x.recv()
    await x.send(json.dumps({"op": 2, "d": {"token": token}}))
    await x.recv()  # READY; from now on X reads nothing

    y = await websockets.connect(url)
    await y.recv()
    await y.send(json.dumps({"op": 2, "d": {"token": token}}))
    await y.recv()
    message = int(channel)
    for _ in range(400):
        items = []
        for _ in range(100):
            message += 1
            items.append({"channel_id": channel, "message_id": str(message)})
        await y.send(json.dumps({"op": 102, "d": {"read_states": items}}))
        for _ in range(100):
            event = await receive(y, 10)
            check(event["t"] == "MESSAGE_ACK", f"Y expected MESSAGE_ACK, got {event}")
    if mode == "never":
        # X still reads nothing: its close frame can never go out, and the server drops
        # the connection once the close deadline passed (the test sets it to 2 s).
        deadline = time.monotonic() + 20
        while open_connections(port) != 1:
            check(time.monotonic() < deadline, f"the server still holds {open_connections(port)} connections")
            await asyncio.sleep(0.2)
    else:
        # X, reading at last, finds what was queued before the server gave up on it, then 4000.
        await closed_with(x, 4000, timeout=10, after=" for the session that stopped reading")
    print("slow reader: all checks passed")


if __name__ == "__main__":
    run(main, 4 if len(sys.argv) > 4 else 3)
