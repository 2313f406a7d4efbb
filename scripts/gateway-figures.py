#!/usr/bin/env python3
"""First gateway figures for BENCHMARKS.md: READY build time (server side, from
/metrics) for users with 10, 100 and 1,000 read states, from the store (a miss) and
from the cache; and ack round trips per second on one connection.

    scripts/gateway-figures.py [--readstates .build/release/readstates] [--port 18990]

Starts `readstates serve` on a fresh data directory (SQLite), creates the channels over
HTTP, gives each user its read states with BULK_ACK, restarts the server (so the next
IDENTIFY loads from SQLite), and reads gateway_ready_build_seconds before and after each
IDENTIFY. Needs the `websockets` package (scripts/install-deps.sh --test installs it).
"""
import argparse
import asyncio
import json
import subprocess
import tempfile
import time
import urllib.request

import websockets

FIRST_USER = 90_000_000_000_000_000
FIRST_CHANNEL = 190_000_000_000_000_000


def http(port, method, path, token=None, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if token:
        request.add_header("Authorization", token)
    with urllib.request.urlopen(request) as response:
        return response.read().decode()


def ready_build(port):
    """(sum, count) of gateway_ready_build_seconds."""
    total = count = 0.0
    for line in http(port, "GET", "/metrics").splitlines():
        if line.startswith("gateway_ready_build_seconds_sum"):
            total = float(line.split()[-1])
        elif line.startswith("gateway_ready_build_seconds_count"):
            count = float(line.split()[-1])
    return total, count


def start(binary, port, data_dir):
    # --rate-limit 0: the ack loop below sends far more than 120 payloads a minute.
    server = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data_dir, "--rate-limit", "0"],
                              stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            http(port, "GET", "/health")
            return server
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("serve did not start")


async def identify(url, token):
    ws = await websockets.connect(url, max_size=2**24)
    await ws.recv()
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    ready = json.loads(await ws.recv())
    assert ready["t"] == "READY", ready
    return ws, ready["d"]


async def main(arguments):
    data_dir = tempfile.mkdtemp(prefix="readstates-figures-")
    port = arguments.port
    url = f"ws://127.0.0.1:{port}/gateway"
    token_of = lambda user: subprocess.check_output(
        [arguments.readstates, "token", "--user", str(user), "--data-dir", data_dir]).decode().strip()
    admin = subprocess.check_output([arguments.readstates, "token", "--admin", "--data-dir", data_dir]).decode().strip()
    sizes = [10, 100, 1000]
    server = start(arguments.readstates, port, data_dir)
    channel = FIRST_CHANNEL
    users = {}
    for index, size in enumerate(sizes):
        user = FIRST_USER + index
        users[size] = (user, token_of(user))
        channels = []
        for _ in range(size):
            http(port, "POST", "/api/channels", admin, {"id": str(channel), "name": f"c{channel}", "members": [str(user)]})
            channels.append(channel)
            channel += 1
        ws, _ = await identify(url, users[size][1])
        for start_index in range(0, size, 100):
            chunk = channels[start_index:start_index + 100]
            await ws.send(json.dumps({"op": 102, "d": {"read_states": [
                {"channel_id": str(c), "message_id": str(c + 1000)} for c in chunk]}}))
            for _ in chunk:
                await ws.recv()
        await ws.close()
    server.terminate()
    server.wait()

    server = start(arguments.readstates, port, data_dir)
    print("READY build time, server side (gateway_ready_build_seconds):")
    for size in sizes:
        user, token = users[size]
        for label in ("from SQLite (miss)", "from the cache"):
            before = ready_build(port)
            ws, ready = await identify(url, token)
            assert len(ready["read_state"]["entries"]) == size
            await asyncio.sleep(0.05)
            after = ready_build(port)
            await ws.close()
            print(f"  {size:5} read states, {label}: {(after[0] - before[0]) * 1e6:8.0f} us")

    user, token = users[10]
    ws, ready = await identify(url, token)
    target = ready["read_state"]["entries"][0]["id"]
    message = int(ready["read_state"]["entries"][0]["last_message_id"])
    round_trips = 0
    seconds = 5.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message += 1
        await ws.send(json.dumps({"op": 101, "d": {"channel_id": target, "message_id": str(message)}}))
        event = json.loads(await ws.recv())
        assert event["t"] == "MESSAGE_ACK", event
        round_trips += 1
    print(f"ack round trips on one connection: {round_trips / seconds:.0f}/s ({round_trips} in {seconds:.0f} s)")
    await ws.close()
    server.terminate()
    server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--readstates", default=".build/release/readstates")
    parser.add_argument("--port", type=int, default=18990)
    asyncio.run(main(parser.parse_args()))
