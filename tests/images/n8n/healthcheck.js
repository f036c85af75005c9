// healthcheck [URL]: exit 0 when URL answers 2xx within 4 s (the image has no curl or wget).
// Default URL: $HEALTHCHECK_URL, else http://127.0.0.1:${N8N_PORT:-5678}/healthz.
const url = process.argv[2] || process.env.HEALTHCHECK_URL ||
  `http://127.0.0.1:${process.env.N8N_PORT || 5678}/healthz`;
fetch(url, { signal: AbortSignal.timeout(4000) })
  .then((r) => process.exit(r.ok ? 0 : 1))
  .catch((e) => { console.error(`unhealthy: ${url}: ${e.message}`); process.exit(1); });
