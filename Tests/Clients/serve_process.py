"""`readstates serve` as a child process of a Python script (the web client's browser
test, scripts/web-figures.py): start, wait for health, HTTP requests, tokens, stop."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request


class ServeProcess:
    def __init__(self, executable, data, port, arguments=(), wait=20):
        self.executable, self.data, self.port = executable, data, int(port)
        self.arguments, self.wait = list(arguments), wait
        self.process = None
        self.log = os.path.join(data, "serve.log")

    def start(self):
        """Starts serve and returns once /health answers 200 (or raises)."""
        os.makedirs(self.data, exist_ok=True)
        self.process = subprocess.Popen(
            [self.executable, "serve", "--port", str(self.port), "--data-dir", self.data, *self.arguments],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))
        deadline = time.time() + self.wait
        while time.time() < deadline:
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("serve did not start: " + open(self.log).read()[-2000:])

    def stop(self):
        """SIGTERM, and the exit within the deadline (else SIGKILL and raise)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(self.wait)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise RuntimeError("serve did not stop on SIGTERM")

    def token(self, *arguments):
        """`readstates token ARGUMENTS` with this server's secret."""
        return subprocess.run([self.executable, "token", *arguments, "--data-dir", self.data],
                              capture_output=True, text=True, check=True, timeout=self.wait).stdout.strip()

    def request(self, method, path, token=None, body=None, headers=None):
        """(status, headers, body bytes); an HTTP error status is an answer, not an exception."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers=headers or {})
        if token:
            request.add_header("Authorization", token)
        try:
            with urllib.request.urlopen(request, timeout=self.wait) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()
