#!/usr/bin/env python3
"""A client that stops reading is disconnected; the user's other session is served on.

Usage: gateway_slow_reader.py URL TOKEN CHANNEL
Session X (tiny receive buffer) identifies and then never reads; session Y, the same
user, sends BULK_ACKs whose MESSAGE_ACKs go to both. The server must close X once its
backlog passes the limit, while Y receives every one of its MESSAGE_ACKs. Prints
"slow reader: all checks passed" and exits 0 when that held.
"""
import asyncio
import json
import socket
import sys

import websockets


async def main(url, token, channel):
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
    received = 0
    for _ in range(400):
        items = []
        for _ in range(100):
            message += 1
            items.append({"channel_id": channel, "message_id": str(message)})
        await y.send(json.dumps({"op": 102, "d": {"read_states": items}}))
        for _ in range(100):
            event = json.loads(await asyncio.wait_for(y.recv(), 10))
            assert event["t"] == "MESSAGE_ACK", event
            received += 1
    assert received == 40000, received
    print("slow reader: all checks passed")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
