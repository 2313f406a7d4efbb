#!/usr/bin/env python3
"""The cluster's figures for BENCHMARKS.md, on one machine: nodes of `readstates serve
--cluster` (one service thread each), a Redis and a PostgreSQL started by the project's
scripts, and `readstates loadgen`.

    scripts/cluster-figures.py [--readstates .build/release/readstates] [hop] [scale] [heal]

- hop: the latency a node hop adds. Two nodes, 1,000 sessions in channels of two,
  messages only (each mentions the other member): with `--placement seed` every session
  is on node 1 (the recipient on the sender's node), with `--placement spread` the two
  members of each channel are on different nodes (every MESSAGE_CREATE crosses Redis).
  Alternated, RUNS times each. Also the ack hop: `--ack-share 0.5` with spread
  placement, read from cluster_request_seconds (a request to the owner until its reply).
- scale: events/s with 1, 2 and 3 nodes (sessions on their users' owners) at several
  rates; each line gives p50/p99, events lost, and the CPU seconds of all nodes and of
  Redis per event (from /proc/PID/stat over the load generator's run).
- heal: how long a node's death takes to heal: kill -9 of the node that owns a user
  whose state was written; time until a survivor serves READY with that state.

Everything shares the machine's cores with the load generator: the figures say what
the cluster costs here, not what more machines would give.
"""
import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def http(port, method, path, token=None, body=None, timeout=10):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    if token:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Cluster:
    """Redis, PostgreSQL and N nodes in a temporary directory; torn down on exit."""

    def __init__(self, binary, nodes, base_port):
        self.binary, self.base_port = binary, base_port
        self.dir = tempfile.mkdtemp(prefix="readstates-cluster-figures-")
        os.chmod(self.dir, 0o755)  # PostgreSQL runs as its own user when this is root
        self.redis_port, self.pg_port = base_port + 90, base_port + 91
        subprocess.run([f"{SCRIPTS}/redis-server.sh", "start", f"{self.dir}/redis", str(self.redis_port)], check=True)
        subprocess.run([f"{SCRIPTS}/postgres-server.sh", "start", f"{self.dir}/pg", str(self.pg_port)], check=True)
        self.postgres = subprocess.run([f"{SCRIPTS}/postgres-server.sh", "url", str(self.pg_port)],
                                       capture_output=True, text=True, check=True).stdout.strip()
        self.secret = f"{self.dir}/secret"
        with open(self.secret, "w") as file:
            file.write(os.urandom(32).hex())
        self.processes = {}
        for index in range(nodes):
            self.start_node(index)
        for index in range(nodes):
            self.wait_healthy(index, nodes)

    def port(self, index):
        return self.base_port + index

    def url(self, index):
        return f"ws://127.0.0.1:{self.port(index)}/gateway"

    def start_node(self, index):
        log = open(f"{self.dir}/node{index}.log", "a")
        self.processes[index] = subprocess.Popen(
            [self.binary, "serve", "--cluster", f"redis://127.0.0.1:{self.redis_port}", "--store", "postgres",
             "--postgres-url", self.postgres, "--port", str(self.port(index)), "--node-id", f"n{index}",
             "--secret-file", self.secret, "--threads", "1", "--rate-limit", "0", "--flush-delay", "1s"],
            stdout=subprocess.DEVNULL, stderr=log)

    def wait_healthy(self, index, members, within=30):
        deadline = time.time() + within
        while time.time() < deadline:
            try:
                status, body = http(self.port(index), "GET", "/health")
                health = json.loads(body) if status == 200 else {}
                if health.get("cluster") == "ok" and len(health.get("members", [])) == members:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"node {index} not healthy with {members} members")

    def redis_pid(self):
        with open(f"{self.dir}/redis/redis.pid") as file:
            return int(file.read())

    def token(self, user):
        return subprocess.run([self.binary, "token", "--user", str(user), "--secret-file", self.secret],
                              capture_output=True, text=True, check=True).stdout.strip()

    def loadgen(self, *arguments):
        """Runs loadgen against node 0; returns its summary lines and the CPU seconds the
        nodes and Redis spent meanwhile."""
        pids = [process.pid for process in self.processes.values()]
        before = [cpu_seconds(pid) for pid in pids], cpu_seconds(self.redis_pid())
        run = subprocess.run([self.binary, "loadgen", "--url", self.url(0), "--secret-file", self.secret, *arguments],
                             capture_output=True, text=True)
        after = [cpu_seconds(pid) for pid in pids], cpu_seconds(self.redis_pid())
        nodes_cpu = sum(after[0]) - sum(before[0])
        redis_cpu = after[1] - before[1]
        lines = [line for line in run.stdout.splitlines()
                 if line.startswith(("placement", "summary", "  latency", "  errors", "setup"))]
        if run.returncode != 0:
            lines.append(f"loadgen exited {run.returncode}: {run.stderr[-500:]}")
        return lines, nodes_cpu, redis_cpu

    def close(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run([f"{SCRIPTS}/redis-server.sh", "stop", f"{self.dir}/redis"])
        subprocess.run([f"{SCRIPTS}/postgres-server.sh", "stop", f"{self.dir}/pg"], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", self.dir])


def events_of(lines):
    for line in lines:
        match = re.search(r"(\d+) events sent in (\d+) s", line)
        if match:
            return int(match.group(1))
    return 0


def request_quantiles(cluster, indices):
    """p50 and p99 (bucket upper bounds, ms) of cluster_request_seconds over `indices`."""
    buckets = {}
    for index in indices:
        _, text = http(cluster.port(index), "GET", "/metrics")
        for le, count in re.findall(r'cluster_request_seconds_bucket\{le="([^"]+)"\} ([0-9.e+]+)', text):
            buckets[le] = buckets.get(le, 0) + float(count)
    ordered = sorted(((float("inf") if le == "+Inf" else float(le), count) for le, count in buckets.items()))
    total = ordered[-1][1] if ordered else 0
    def quantile(q):
        for bound, count in ordered:
            if count >= q * total:
                return bound * 1000
        return float("nan")
    return total, quantile(0.5), quantile(0.99)


def hop(binary, runs):
    print("== hop: MESSAGE_CREATE to a member on the sender's node (seed) vs on the other node (spread)")
    print("   2 nodes, 1,000 sessions in channels of 2, messages only, 2,000 events/s, 15 s after 3 s warm-up")
    for run in range(runs):
        for placement in ("seed", "spread"):
            cluster = Cluster(binary, 2, 19100)
            try:
                lines, nodes_cpu, redis_cpu = cluster.loadgen(
                    "--sessions", "1000", "--channel-members", "2", "--ack-share", "0", "--rate", "2000",
                    "--seconds", "15", "--warmup", "3", "--placement", placement)
                print(f"-- run {run + 1}, placement {placement}")
                for line in lines:
                    print("   " + line.strip())
            finally:
                cluster.close()
    print("== ack hop: acks by sessions not on their user's owner (spread, channels of 5, ack share 0.5, 2,000 events/s)")
    for run in range(runs):
        cluster = Cluster(binary, 2, 19100)
        try:
            lines, _, _ = cluster.loadgen("--sessions", "1000", "--channel-members", "5", "--ack-share", "0.5",
                                          "--rate", "2000", "--seconds", "15", "--warmup", "3", "--placement", "spread")
            total, p50, p99 = request_quantiles(cluster, [0, 1])
            print(f"-- run {run + 1}: {int(total)} requests to owners: p50 <= {p50:g} ms, p99 <= {p99:g} ms (histogram bucket bounds)")
            for line in lines:
                if "latency" in line:
                    print("   all events: " + line.strip())
        finally:
            cluster.close()


def scale(binary, rates):
    print("== scale: 1, 2, 3 nodes (one service thread each), sessions on their owners, 1,000 sessions in channels of 5,")
    print("   ack share 0.5, 15 s after 3 s warm-up; CPU of all nodes and of Redis per event over the load generator's run")
    for nodes in (1, 2, 3):
        for rate in rates:
            cluster = Cluster(binary, nodes, 19200)
            try:
                lines, nodes_cpu, redis_cpu = cluster.loadgen(
                    "--sessions", "1000", "--channel-members", "5", "--ack-share", "0.5", "--rate", str(rate),
                    "--seconds", "15", "--warmup", "3")
                events = events_of(lines) or 1
                print(f"-- {nodes} node(s), {rate} events/s planned")
                for line in lines:
                    print("   " + line.strip())
                print(f"   CPU: nodes {nodes_cpu:.2f} s ({nodes_cpu / events * 1e6:.1f} us/event), "
                      f"Redis {redis_cpu:.2f} s ({redis_cpu / events * 1e6:.1f} us/event) over the whole run")
            finally:
                cluster.close()


async def identify(url, token, timeout=5):
    async with websockets.connect(url, max_queue=None) as ws:
        json.loads(await asyncio.wait_for(ws.recv(), timeout))
        await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        return frame["d"] if frame.get("t") == "READY" else None


def heal(binary, trials):
    print("== heal: kill -9 of a user's owner (its state written) until a survivor serves READY with that state")
    print("   3 nodes, heartbeat 1 s, TTL 3 s")
    cluster = Cluster(binary, 3, 19300)
    admin = subprocess.run([binary, "token", "--admin", "--secret-file", cluster.secret],
                           capture_output=True, text=True, check=True).stdout.strip()
    try:
        for trial in range(trials):
            victim = trial % 3
            user = None
            for candidate in range(90_000_000_000_000_000 + trial * 1000, 90_000_000_000_000_000 + trial * 1000 + 500):
                status, body = http(cluster.port((victim + 1) % 3), "GET", "/api/gateway", cluster.token(candidate))
                if json.loads(body)["url"] == cluster.url(victim):
                    user = candidate
                    break
            token = cluster.token(user)
            channel = 190_000_000_000_000_000 + trial
            http(cluster.port(0), "POST", "/api/channels", admin, {"id": str(channel), "name": f"h{trial}", "members": [str(user)]})
            message = 190_000_000_000_100_000 + trial
            http(cluster.port(victim), "POST", f"/api/channels/{channel}/messages/{message}/ack", token)
            time.sleep(2.0)  # the flush delay (1 s) writes it
            survivor = (victim + 1) % 3
            killed = time.time()
            cluster.processes[victim].send_signal(signal.SIGKILL)
            cluster.processes[victim].wait()
            served = None
            while time.time() - killed < 30:
                try:
                    ready = asyncio.run(identify(cluster.url(survivor), token, timeout=3))
                    states = {e["id"]: e for e in ready["read_state"]["entries"]} if ready else {}
                    if states.get(str(channel), {}).get("last_message_id") == str(message):
                        served = time.time() - killed
                        break
                except (OSError, asyncio.TimeoutError, websockets.ConnectionClosed, KeyError, TypeError):
                    pass
                time.sleep(0.02)
            print(f"-- trial {trial + 1}: node n{victim} killed; its user served by n{survivor} after "
                  + (f"{served:.2f} s" if served is not None else "more than 30 s"))
            cluster.start_node(victim)
            for index in range(3):
                cluster.wait_healthy(index, 3)
    finally:
        cluster.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readstates", default=os.path.join(ROOT, ".build/release/readstates"))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rates", default="5000,10000,20000")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("parts", nargs="*", default=["hop", "scale", "heal"])
    arguments = parser.parse_args()
    print(f"# scripts/cluster-figures.py {' '.join(sys.argv[1:])}")
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()} CPUs, {arguments.readstates}")
    sys.stdout.flush()
    if "hop" in arguments.parts:
        hop(arguments.readstates, arguments.runs)
    if "scale" in arguments.parts:
        scale(arguments.readstates, [int(rate) for rate in arguments.rates.split(",")])
    if "heal" in arguments.parts:
        heal(arguments.readstates, arguments.trials)


if __name__ == "__main__":
    main()
