"""healthcheck [URL]: exit 0 when URL answers 2xx within 4 s (the image has no curl or wget).
Default URL: $HEALTHCHECK_URL, else http://127.0.0.1:${MCP_PORT:-8080}/healthz."""

import os
import sys
import urllib.request

default = "http://127.0.0.1:%s/healthz" % (os.environ.get("MCP_PORT") or "8080")
url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HEALTHCHECK_URL") or default
# No proxy for a local probe, whatever the environment says.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(url, timeout=4) as r:
        sys.exit(0 if 200 <= r.status < 300 else 1)
except Exception as exc:
    print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    sys.exit(1)
