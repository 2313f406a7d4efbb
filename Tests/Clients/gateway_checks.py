"""What the gateway client scripts share: checks that stop at the first failure, a
receive with a timeout, waiting for a close code, and the way they exit."""
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


async def expect_silence(ws, what, timeout=0.5):
    """Nothing more arrives within `timeout` (a dispatch that must not exist)."""
    try:
        extra = await receive(ws, timeout)
    except asyncio.TimeoutError:
        return
    check(False, f"{what}: {extra}")


async def closed_with(ws, code, timeout=5, after=""):
    """Reads until the server closes; the close code must be `code`."""
    try:
        while True:
            await receive(ws, timeout)
    except websockets.ConnectionClosed as closed:
        check(closed.rcvd is not None and closed.rcvd.code == code,
              f"expected close {code}{after}, got {closed.rcvd}")


def run(main, argument_count):
    """Runs `main` with the command line's arguments; a failed check exits 1."""
    try:
        asyncio.run(main(*sys.argv[1:1 + argument_count]))
    except CheckFailed as failed:
        print(f"check failed: {failed}", file=sys.stderr)
        sys.exit(1)
