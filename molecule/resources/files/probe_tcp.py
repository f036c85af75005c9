"""Try a TCP connection to each HOST:PORT=EXPECTED argument at once (EXPECTED: open or blocked).

Prints {"seen": {"HOST:PORT": "open" | why not}, "wrong": ["HOST:PORT: expected .., seen .."]}.
Runs with any python3: inside the containers under test, on the target, on the LAN neighbour.
A dropped packet shows as "timeout", a closed port as "refused"; both count as blocked.
"""

import concurrent.futures
import json
import socket
import sys


def probe(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except TimeoutError:
        return target, "timeout"
    except ConnectionRefusedError:
        return target, "refused"
    except OSError as exc:
        return target, exc.strerror or type(exc).__name__
    return target, "open"


expected = dict(arg.rsplit("=", 1) for arg in sys.argv[1:])
with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
    seen = dict(pool.map(probe, expected))
wrong = [
    f"{target}: expected {want}, seen {seen[target]}"
    for target, want in expected.items()
    if (seen[target] == "open") != (want == "open")
]
print(json.dumps({"seen": seen, "wrong": wrong}))
