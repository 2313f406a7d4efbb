#!/usr/bin/env python3
"""The gateway's limits over a real socket (Python's `websockets`), against a server
started with a rate limit of 5 payloads per minute and a 400 ms heartbeat interval.

Usage: gateway_limits.py URL TOKEN
Exits 0 when every check held; otherwise prints the failed check and exits 1.
"""
import asyncio
import json
import sys

import websockets


class CheckFailed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise CheckFailed(what)


async def receive(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def closed_with(ws, code, timeout=5):
    try:
        while True:
            await receive(ws, timeout)
    except websockets.ConnectionClosed as closed:
        check(closed.rcvd is not None and closed.rcvd.code == code, f"expected close {code}, got {closed.rcvd}")


async def main(url, token):
    # 4008: the sixth payload within a minute.
    ws = await websockets.connect(url)
    check((await receive(ws))["d"]["heartbeat_interval"] == 400, "HELLO interval")
    for _ in range(6):
        await ws.send(json.dumps({"op": 1, "d": None}))
    await closed_with(ws, 4008)

    # 4009: identified, then silent for more than 1.5 heartbeat intervals.
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    ready = await receive(ws)
    check(ready["t"] == "READY", f"READY: {ready}")
    await closed_with(ws, 4009, timeout=5)

    # 4007: RESUME of a known session with a seq it never reached.
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    session = (await receive(ws))["d"]["session_id"]
    await ws.close()
    await asyncio.sleep(0.2)
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 6, "d": {"token": token, "session_id": session, "seq": 99}}))
    await closed_with(ws, 4007)
    print("gateway limits: all checks passed")


if __name__ == "__main__":
    try:
        asyncio.run(main(*sys.argv[1:3]))
    except CheckFailed as failed:
        print(f"check failed: {failed}", file=sys.stderr)
        sys.exit(1)
