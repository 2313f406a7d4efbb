#!/usr/bin/env python3
"""A session sees RECONNECT (op 7) and then close 1001 when the server shuts down.

Usage: gateway_shutdown.py URL TOKEN
Prints "identified" once READY arrived (the test then stops the server), and
"shutdown: all checks passed" when op 7 came before a 1001 close.
"""
import asyncio
import json
import sys

import websockets


async def main(url, token):
    ws = await websockets.connect(url)
    await ws.recv()
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    assert json.loads(await ws.recv())["t"] == "READY"
    print("identified", flush=True)
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
    except websockets.ConnectionClosed as closed:
        assert [f["op"] for f in frames] == [7], frames
        assert closed.rcvd is not None and closed.rcvd.code == 1001, closed.rcvd
    print("shutdown: all checks passed", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
