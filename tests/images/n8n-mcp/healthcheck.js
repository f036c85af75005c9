// healthcheck [URL]: exit 0 when URL answers 2xx within 4 s (the image has no curl or wget).
// Default URL: $HEALTHCHECK_URL, else http://127.0.0.1:${PORT:-3000}/health.
const url = process.argv[2] || process.env.HEALTHCHECK_URL ||
  `http://127.0.0.1:${process.env.PORT || 3000}/health`;
fetch(url, { signal: AbortSignal.timeout(4000) })
  .then((r) => process.exit(r.ok ? 0 : 1))
  .catch((e) => { console.error(`unhealthy: ${url}: ${e.message}`); process.exit(1); });
