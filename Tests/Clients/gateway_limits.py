#!/usr/bin/env python3
"""The gateway's limits over a real socket (Python's `websockets`), against two servers:
one with a rate limit of 5 payloads per minute, one with a 400 ms heartbeat interval,
no rate limit (so the heartbeats that keep a slow READY alive are not counted) and a
resume history of one dispatch per session.

Usage: gateway_limits.py URL_RATE_LIMITED URL_FAST_HEARTBEAT TOKEN
Exits 0 when every check held; otherwise prints the failed check and exits 1.
"""
import asyncio
import json

import websockets

from gateway_checks import check, closed_with, receive, run


async def ready_while_beating(ws):
    """Heartbeats every 250 ms (the interval is 400) until READY arrives, so a slow
    READY on a busy machine does not end the session first; returns READY."""
    async def beat():
        while True:
            await ws.send(json.dumps({"op": 1, "d": None}))
            await asyncio.sleep(0.25)
    beating = asyncio.create_task(beat())
    try:
        while True:
            message = await receive(ws)
            if message.get("t") == "READY":
                return message
            check(message["op"] == 11, f"expected READY or HEARTBEAT_ACK: {message}")
    finally:
        beating.cancel()


async def main(limited, url, token):
    # 4008: the sixth payload within a minute.
    ws = await websockets.connect(limited)
    await receive(ws)
    for _ in range(6):
        await ws.send(json.dumps({"op": 1, "d": None}))
    await closed_with(ws, 4008)

    # 4009: identified, then silent for more than 1.5 heartbeat intervals (whether
    # READY came first or not: on a busy machine it may take longer than that).
    ws = await websockets.connect(url)
    check((await receive(ws))["d"]["heartbeat_interval"] == 400, "HELLO interval")
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    await closed_with(ws, 4009, timeout=5)

    # 4007: RESUME of a known session with a seq it never reached.
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    session = (await ready_while_beating(ws))["d"]["session_id"]
    await ws.close()
    await asyncio.sleep(0.2)
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 6, "d": {"token": token, "session_id": session, "seq": 99}}))
    await closed_with(ws, 4007)
    # INVALID_SESSION (d false): a RESUME asking for dispatches no longer kept (the
    # second server keeps only each session's newest dispatch).
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    session = (await ready_while_beating(ws))["d"]["session_id"]
    for _ in range(3):  # three REQUEST_ERROR dispatches (no such channel): seq 2, 3, 4
        await ws.send(json.dumps({"op": 101, "d": {"channel_id": "1", "message_id": "2"}}))
    seen = 1
    while seen < 4:
        message = await receive(ws)
        if message["op"] == 0:
            seen = message["s"]
    await ws.close()
    await asyncio.sleep(0.2)
    ws = await websockets.connect(url)
    await receive(ws)
    await ws.send(json.dumps({"op": 6, "d": {"token": token, "session_id": session, "seq": 1}}))
    invalid = await receive(ws)
    check(invalid["op"] == 9 and invalid["d"] is False, f"INVALID_SESSION for a gap: {invalid}")
    await ws.close()
    print("gateway limits: all checks passed")


if __name__ == "__main__":
    run(main, 3)
