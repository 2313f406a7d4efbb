#!/usr/bin/env python3
"""A third-party client against the readstates gateway: Python's `websockets`.

Usage: gateway_scenario.py URL TOKEN_A TOKEN_A_AGAIN TOKEN_B CHANNEL_A_ONLY MESSAGE CHANNEL_A_AND_B USER_B

Runs the session rules end to end (HELLO, IDENTIFY, READY, HEARTBEAT, ACK and
MESSAGE_ACK fan-out, close codes) and exits 0 when every check held; otherwise it
prints the first failed check and exits 1. The test suite runs it (GatewayTests).
"""
import asyncio
import json
import urllib.error
import urllib.request

import websockets

from gateway_checks import check, closed_with, receive, run


async def identify(url, token):
    ws = await websockets.connect(url, max_size=2**20)
    hello = await receive(ws)
    check(hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250, f"HELLO: {hello}")
    await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
    ready = await receive(ws)
    check(ready["op"] == 0 and ready["t"] == "READY" and ready["s"] == 1, f"READY: {ready}")
    return ws, ready["d"]


async def expect_close(url, frames, code):
    async with websockets.connect(url) as ws:
        await receive(ws)  # HELLO
        for frame in frames:
            await ws.send(frame)
        await closed_with(ws, code, after=f" after {frames}")


async def main(url, token_a, token_a2, token_b, channel, message, shared, user_b):
    a1, ready = await identify(url, token_a)
    check(ready["v"] == 10 and len(ready["session_id"]) == 32, f"READY fields: {ready}")
    check(ready["resume_gateway_url"].endswith("/gateway"), "resume_gateway_url")
    check(isinstance(ready["user"]["id"], str), "IDs are strings")
    check(ready["read_state"]["partial"] is False, "read_state.partial")
    entries = {e["id"]: e for e in ready["read_state"]["entries"]}
    check(channel in entries and entries[channel]["mention_count"] == 2, f"READY read state: {entries}")
    before = int(entries[channel]["last_message_id"])

    a2, ready_a2 = await identify(url, token_a2)
    b, ready_b = await identify(url, token_b)
    check(ready_b["read_state"]["entries"] == [], "user B sees none of A's read states")
    check([c["id"] for c in ready["channels"]] == sorted([channel, shared], key=int), f"A's channels: {ready['channels']}")
    check([c["id"] for c in ready_b["channels"]] == [shared], f"B's channels: {ready_b['channels']}")

    # Heartbeat answered with op 11.
    await a1.send(json.dumps({"op": 1, "d": 1}))
    check((await receive(a1))["op"] == 11, "HEARTBEAT_ACK")

    # An ack reaches every session of the user, the acking one included.
    await a1.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": message}}))
    for ws in (a1, a2):
        event = await receive(ws)
        check(event["t"] == "MESSAGE_ACK", f"MESSAGE_ACK: {event}")
        check(event["d"]["channel_id"] == channel and event["d"]["message_id"] == message, f"ack body: {event}")
        check(event["d"]["mention_count"] == 0 and event["s"] == 2, f"ack count and seq: {event}")

    # An older ack (another device, late) changes nothing and is not dispatched;
    # the next heartbeat ack proves nothing came before it.
    await a2.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": str(before)}}))
    await a2.send(json.dumps({"op": 1, "d": 2}))
    check((await receive(a2))["op"] == 11, "no MESSAGE_ACK for an older ack")

    # B never sees A's acks.
    await b.send(json.dumps({"op": 1, "d": 1}))
    check((await receive(b))["op"] == 11, "user B got nothing of A's")

    # A message to a channel the user is not in is refused with an error dispatch.
    await b.send(json.dumps({"op": 100, "d": {"channel_id": channel, "content": "hi", "nonce": "n1"}}))
    error = await receive(b)
    check(error["t"] == "REQUEST_ERROR" and error["d"]["op"] == 100 and error["d"]["nonce"] == "n1", f"{error}")
    check(error["d"]["code"] == 50001, f"missing access: {error}")
    # So is an ack there: B's read states stay untouched.
    await b.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": message}}))
    error = await receive(b)
    check(error["t"] == "REQUEST_ERROR" and error["d"]["op"] == 101, f"ack refused: {error}")

    # A message in the shared channel mentioning B: every member's sessions get
    # MESSAGE_CREATE; the author's sessions then get the author's own MESSAGE_ACK.
    await a1.send(json.dumps({"op": 100, "d": {"channel_id": shared, "content": f"hi <@{user_b}>", "nonce": "n2"}}))
    created = None
    for ws in (a1, a2, b):
        event = await receive(ws)
        check(event["t"] == "MESSAGE_CREATE", f"MESSAGE_CREATE: {event}")
        check(event["d"]["mentions"] == [{"id": user_b}] and event["d"]["author"]["id"] == ready["user"]["id"], f"{event}")
        check(event["d"]["nonce"] == "n2" and event["d"]["mention_everyone"] is False, f"{event}")
        created = created or event["d"]["id"]
        check(event["d"]["id"] == created, "one message ID for everyone")
    for ws in (a1, a2):
        event = await receive(ws)
        check(event["t"] == "MESSAGE_ACK" and event["d"]["message_id"] == created, f"author's ack: {event}")

    # RESUME: A's second session drops; an ack made meanwhile on the first is
    # replayed on resume, then RESUMED.
    session_a2 = ready_a2["session_id"]
    # A2 saw READY (1), MESSAGE_ACK (2), MESSAGE_CREATE (3), MESSAGE_ACK (4); it claims
    # to have seen only 3, so 4 and the ack made while away (5) are replayed.
    await a2.close()
    await asyncio.sleep(0.2)
    await a1.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": str(int(message) + 1)}}))
    check((await receive(a1))["t"] == "MESSAGE_ACK", "ack while A2 is away")
    a2 = await websockets.connect(url)
    await receive(a2)  # HELLO
    await a2.send(json.dumps({"op": 6, "d": {"token": token_a2, "session_id": session_a2, "seq": 3}}))
    replayed = [await receive(a2) for _ in range(3)]
    check([e["s"] for e in replayed] == [4, 5, 6], f"replayed seqs: {[e.get('s') for e in replayed]}")
    check(replayed[1]["t"] == "MESSAGE_ACK" and replayed[2]["t"] == "RESUMED", f"replay: {replayed}")
    # An unknown session gets INVALID_SESSION and may IDENTIFY on the same connection.
    stranger = await websockets.connect(url)
    await receive(stranger)
    await stranger.send(json.dumps({"op": 6, "d": {"token": token_b, "session_id": session_a2, "seq": 1}}))
    invalid = await receive(stranger)
    check(invalid["op"] == 9 and invalid["d"] is False, f"INVALID_SESSION: {invalid}")
    await stranger.send(json.dumps({"op": 2, "d": {"token": token_b}}))
    check((await receive(stranger))["t"] == "READY", "IDENTIFY after INVALID_SESSION")
    await stranger.close()

    # A message over HTTP takes the same path: B's session gets MESSAGE_CREATE.
    def post(path, token, body):
        http_url = url.replace("ws://", "http://").replace("/gateway", path)
        request = urllib.request.Request(http_url, method="POST", data=json.dumps(body).encode())
        request.add_header("Authorization", token)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, sent = await asyncio.to_thread(post, f"/api/channels/{shared}/messages", token_a, {"content": "@everyone lunch"})
    check(status == 200 and sent["mention_everyone"] is True and sent["mentions"] == [{"id": user_b}], f"HTTP message: {sent}")
    event = await receive(b)
    check(event["t"] == "MESSAGE_CREATE" and event["d"]["id"] == sent["id"], f"B got the HTTP message: {event}")
    status, _ = await asyncio.to_thread(post, f"/api/channels/{channel}/messages", token_b, {"content": "let me in"})
    check(status == 403, f"HTTP message outside the user's channels: {status}")

    # B was mentioned twice (by name, then @everyone): two unread mentions.
    def get(path, token):
        request = urllib.request.Request(url.replace("ws://", "http://").replace("/gateway", path))
        request.add_header("Authorization", token)
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    states = await asyncio.to_thread(get, "/api/users/@me/read-states", token_b)
    counts = {e["id"]: e["mention_count"] for e in states["entries"]}
    check(counts == {shared: 2}, f"B's mentions: {states}")

    # An ack over HTTP reaches the user's sessions as MESSAGE_ACK too.
    status, acked = await asyncio.to_thread(post, f"/api/channels/{shared}/messages/{sent['id']}/ack", token_b, {})
    check(status == 200 and acked["changed"] is True and acked["mention_count"] == 0, f"HTTP ack: {acked}")
    event = await receive(b)
    check(event["t"] == "MESSAGE_ACK" and event["d"]["message_id"] == sent["id"], f"B's HTTP ack on the socket: {event}")

    for ws in (a1, a2, b):
        await ws.close()

    # Close codes.
    ack = json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": message}})
    identify_a = json.dumps({"op": 2, "d": {"token": token_a}})
    await expect_close(url, [ack], 4003)
    await expect_close(url, [json.dumps({"op": 2, "d": {"token": "bad.token.here"}})], 4004)
    await expect_close(url, [identify_a, identify_a], 4005)
    await expect_close(url, ['{"op": 77, "d": {}}'], 4001)
    await expect_close(url, ["{nope"], 4002)
    await expect_close(url, [json.dumps({"op": 1, "d": None, "pad": "x" * 20000})], 4002)
    print("gateway scenario: all checks passed")


if __name__ == "__main__":
    run(main, 8)
