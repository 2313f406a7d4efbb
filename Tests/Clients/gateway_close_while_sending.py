#!/usr/bin/env python3
"""Close codes reach a client that is still sending (RFC 6455 7.1.1: the server keeps
reading until the client's close frame before it closes the TCP connection).

Usage: gateway_close_while_sending.py URL TOKEN TRIES

Against a server with the default rate limit (120 payloads a minute), each try:
- identifies, then sends 200 heartbeats one frame per send without reading: 4008;
- sends a frame over the 16 KiB limit, then 50 heartbeats: 4002;
- identifies with a refused token, then keeps sending 100 heartbeats: 4004.
A try that ends in a reset, a broken pipe or without the close code fails the run.
Exits 0 when every try got its code; otherwise prints them and exits 1.
"""
import asyncio
import json
import sys

import websockets

HEARTBEAT = json.dumps({"op": 1, "d": None})


async def flood(url, opening, frames):
    """Sends `opening` then `frames`, one send each, never reading in between; then
    reads until the server's close. Returns the close code received, or what failed."""
    try:
        ws = await asyncio.wait_for(websockets.connect(url), 10)
    except Exception as error:  # noqa: BLE001 - reported as the try's outcome
        return f"connect failed: {error!r}"
    try:
        for frame in opening:
            await ws.send(frame)
        for frame in frames:
            await ws.send(frame)
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None:
            return f"no close frame received ({closed!r})"
        return closed.rcvd.code
    except (ConnectionError, OSError) as error:
        return f"transport error: {error!r}"
    except asyncio.TimeoutError:
        return "no close within 10 s"
    finally:
        await ws.close()


async def main(url, token, tries):
    failures = []
    cases = [
        ("flood after IDENTIFY", 4008, [json.dumps({"op": 2, "d": {"token": token}})], [HEARTBEAT] * 200),
        ("huge frame", 4002, ["x" * (64 * 1024)], [HEARTBEAT] * 50),
        ("sending after a refused token", 4004, [json.dumps({"op": 2, "d": {"token": "forged.token"}})], [HEARTBEAT] * 100),
    ]
    for name, expected, opening, frames in cases:
        outcomes = [await flood(url, opening, frames) for _ in range(int(tries))]
        got = sum(1 for outcome in outcomes if outcome == expected)
        print(f"{name}: close {expected} in {got} of {tries}", flush=True)
        if got != int(tries):
            failures.append(f"{name}: {[o for o in outcomes if o != expected][:3]}")
    if failures:
        print("check failed: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("close while sending: all checks passed")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
