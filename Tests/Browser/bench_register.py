"""The risk register page with many risks: how long `clustersync app` takes to answer it.

Seeds a fresh replica with N risks through the app's own form (the real path), then times
GET /risks over loopback HTTP. A figure, not a test: nothing is asserted.

    python3 Tests/Browser/bench_register.py [--risks 3000] [--runs 20]
    (uses .build/debug/clustersync, or CLUSTERSYNC_BIN)
"""
import argparse
import http.client
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from conftest import BINARY, RunningApp, init_replica  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--risks", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="clustersync-bench-")
    replica = os.path.join(workdir, "bench.sqlite")
    init_replica(replica, "prestatyn-medical", "Prestatyn Medical", role="cluster-lead")
    app = RunningApp(replica)
    try:
        host, port = re.match(r"http://([\d.]+):(\d+)/", app.address).groups()
        connection = http.client.HTTPConnection(host, int(port))

        def request(method, path, body=None, cookie=None):
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            if cookie:
                headers["Cookie"] = cookie
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response, response.read()

        start = app.link[len(app.address) - 1:]
        response, _ = request("GET", start)
        cookie = response.getheader("Set-Cookie").split(";")[0]
        _, form = request("GET", "/risks/new", cookie=cookie)
        csrf = re.search(rb'name="csrf" value="([^"]+)"', form).group(1).decode()

        began = time.perf_counter()
        for n in range(options.risks):
            fields = {
                "csrf": csrf, "title": f"Risk {n}: service pressure in area {n % 97}",
                "owner": f"Owner {n % 41}", "category": ["clinical", "workforce", "estates", "financial"][n % 4],
                "likelihood": str(n % 5 + 1), "consequence": str((n * 7) % 5 + 1),
                "review_date": f"{n % 28 + 1:02d}/{n % 12 + 1:02d}/{2025 + n % 3}",
                "status": "closed" if n % 10 == 0 else "open",
            }
            response, _ = request("POST", "/risks", urllib.parse.urlencode(fields), cookie)
            assert response.status == 303, f"risk {n} refused: {response.status}"
        seeded = time.perf_counter() - began

        for path in ["/risks", "/risks?status=all&sort=title&dir=asc"]:
            times = []
            size = 0
            for _ in range(options.runs):
                began = time.perf_counter()
                response, body = request("GET", path, cookie=cookie)
                times.append((time.perf_counter() - began) * 1000)
                size = len(body)
                assert response.status == 200
            print(f"GET {path} with {options.risks} risks: median {statistics.median(times):.1f} ms, "
                  f"min {min(times):.1f} ms, max {max(times):.1f} ms over {options.runs} runs ({size:,} bytes)")
        print(f"(seeded {options.risks} risks through the form in {seeded:.1f} s; binary {BINARY})")
    finally:
        app.stop()
        if os.environ.get("KEEP_REPLICA"):
            shutil.copy(replica, os.environ["KEEP_REPLICA"])
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
