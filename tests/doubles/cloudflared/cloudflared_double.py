# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""A TEST DOUBLE of the cloudflared CLI for homelab.mcp_edge tests. NOT Cloudflare's cloudflared.

It implements only what the ``cloudflared`` role calls, offline:

* ``--version`` / ``version``
* ``tunnel --config FILE ingress validate`` and ``tunnel --config FILE ingress rule URL``:
  ingress_model.py, written from cloudflared's own Go source and the real binary's verdicts;
  it shares no code with the collection's plugins/ (an independent second opinion)
* ``tunnel [--config FILE] run [NAME]`` (locally managed: credentials file) and
  ``tunnel [--config FILE] run --token-file FILE`` / ``--token TOKEN`` (remote managed):
  a long-running process that checks its credentials, logs cloudflared-like lines to stderr,
  tells systemd READY=1 (Type=notify), serves ``/ready`` and ``/metrics`` on the metrics address
  and exits cleanly on SIGTERM. It never connects anywhere.

Built into ONE executable zipapp by build.py (bundling ingress_model.py and PyYAML's pure-Python code).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ingress_model
import yaml

VERSION = "2026.0.0-test-double"
BANNER = f"cloudflared version {VERSION} (NOT Cloudflare's cloudflared: a test double for homelab.mcp_edge tests)"
VALUE_FLAGS = {
    "config",
    "token",
    "token-file",
    "metrics",
    "loglevel",
    "protocol",
    "credentials-file",
    "cred-file",
    "logfile",
    "edge-ip-version",
    "grace-period",
}
BOOL_FLAGS = {"no-autoupdate", "version", "v", "V", "help", "h"}
HA_CONNECTIONS = 4


class UsageError(Exception):
    pass


def log(level, message, **fields):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    extra = "".join(f" {key}={value}" for key, value in fields.items())
    sys.stderr.write(f"{stamp} {level} {message}{extra}\n")
    sys.stderr.flush()


def parse_args(argv):
    flags = {}
    positionals = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg.startswith("-") and arg not in ("-", "--"):
            name, sep, value = arg.lstrip("-").partition("=")
            if name in VALUE_FLAGS:
                if not sep:
                    index += 1
                    if index >= len(argv):
                        raise UsageError(f"flag needs an argument: --{name}")
                    value = argv[index]
                flags[name] = value
            elif name in BOOL_FLAGS:
                flags[name] = value.lower() != "false" if sep else True
            else:
                raise UsageError(f"flag provided but not defined: -{name}")
        else:
            positionals.append(arg)
        index += 1
    return flags, positionals


def load_config(path):
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise UsageError(f"Cannot read configuration from {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"Cannot parse configuration {path}: {exc}") from None
    return data if data is not None else {}


def read_config_bytes(path):
    """The config file's bytes, as cloudflared opens it (its error when it cannot)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None


def emit(result):
    """Print an ingress_model.cli_* result: (exit code, stdout lines, stderr lines)."""
    code, out, err = result
    for line in out:
        print(line)
    for line in err:
        print(line, file=sys.stderr)
    return code


def cmd_ingress_validate(path):
    return emit(ingress_model.cli_validate(read_config_bytes(path), path))


def cmd_ingress_rule(path, url):
    return emit(ingress_model.cli_rule(read_config_bytes(path) if path else "", path or "", url))


def read_secret_file(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"Cannot read {what} {path}: {exc.strerror}") from None


def decode_token(token):
    text = token.strip()
    text += "=" * (-len(text) % 4)
    try:
        data = json.loads(base64.b64decode(text, altchars=b"-_" if "-" in text or "_" in text else None))
    except (binascii.Error, ValueError):
        raise UsageError("Provided Tunnel token is not valid.") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) and data[key] for key in "ats"):
        raise UsageError("Provided Tunnel token is not valid.")
    return data


def check_credentials(path, tunnel):
    raw = read_secret_file(path, "tunnel credentials file")
    try:
        data = json.loads(raw)
    except ValueError:
        raise UsageError(f"Failed to parse tunnel credentials file {path}: not JSON") from None
    for key in ("AccountTag", "TunnelSecret", "TunnelID"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise UsageError(f"Tunnel credentials file {path} lacks {key}")
    try:
        if len(base64.b64decode(data["TunnelSecret"], validate=True)) < 32:
            raise ValueError
    except (binascii.Error, ValueError):
        raise UsageError(f"Tunnel credentials file {path} holds a malformed TunnelSecret") from None
    if tunnel and tunnel != data["TunnelID"]:
        raise UsageError(f"Tunnel credentials file {path} is for tunnel {data['TunnelID']}, not {tunnel}")
    return data["TunnelID"]


def sd_notify(message):
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message.encode("utf-8"))
    return True


def make_handler(tunnel_id, connector_id, started, connected):
    class Handler(BaseHTTPRequestHandler):
        server_version = "cloudflared-test-double"

        def _send(self, code, body, content_type):
            payload = body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            if self.path == "/ready":
                # As cloudflared: 503 with no ready connection until the first one is registered.
                count = HA_CONNECTIONS if connected.is_set() else 0
                code = 200 if count else 503
                body = {"status": code, "readyConnections": count, "connectorId": connector_id}
                self._send(code, json.dumps(body), "application/json")
            elif self.path == "/metrics":
                lines = [
                    "# HELP build_info Build and version information",
                    "# TYPE build_info gauge",
                    f'build_info{{goversion="none",type="test-double",revision="test-double",version="{VERSION}"}} 1',
                    "# HELP cloudflared_tunnel_ha_connections Number of active ha connections",
                    "# TYPE cloudflared_tunnel_ha_connections gauge",
                    f"cloudflared_tunnel_ha_connections {HA_CONNECTIONS}",
                    "# HELP cloudflared_tunnel_total_requests Amount of requests proxied through all the tunnels",
                    "# TYPE cloudflared_tunnel_total_requests counter",
                    "cloudflared_tunnel_total_requests 0",
                    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
                    "# TYPE process_start_time_seconds gauge",
                    f"process_start_time_seconds {started:.2f}",
                ]
                self._send(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4")
            else:
                self._send(404, "404 page not found\n", "text/plain")

        def log_message(self, format, *args):
            return

    return Handler


def cmd_run(flags, positionals, config):
    token = flags.get("token") or os.environ.get("TUNNEL_TOKEN")
    token_file = flags.get("token-file") or os.environ.get("TUNNEL_TOKEN_FILE")
    if token is None and token_file:
        token = read_secret_file(token_file, "tunnel token file")
    if token is not None:
        data = decode_token(token)
        tunnel_id = data["t"]
        mode = "remote"
    else:
        if "ingress" in config:
            path = flags["config"]  # a config with ingress rules came from --config
            valid, errors, _warnings = ingress_model.validate_config(read_config_bytes(path), path)
            if not valid:
                raise UsageError("Invalid ingress configuration: " + errors[0])
        tunnel = positionals[0] if positionals else config.get("tunnel")
        if not tunnel:
            raise UsageError('"cloudflared tunnel run" requires the ID or name of the tunnel to run')
        credentials = flags.get("credentials-file") or flags.get("cred-file") or config.get("credentials-file")
        if not credentials:
            raise UsageError(f"Tunnel credentials file not found for tunnel {tunnel} (set credentials-file)")
        tunnel_id = check_credentials(credentials, tunnel)
        mode = "local"

    metrics = flags.get("metrics") or config.get("metrics") or "127.0.0.1:0"
    host, _sep, port = metrics.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    connector_id = str(uuid.uuid4())
    started = time.time()
    log("INF", f"Starting tunnel tunnelID={tunnel_id}", mode=mode)
    log("INF", f"Version {VERSION} (NOT Cloudflare's cloudflared: a test double, it connects nowhere)")
    log("INF", "Generated Connector ID: " + connector_id)
    try:
        connected = threading.Event()
        server = ThreadingHTTPServer((host, int(port or 0)), make_handler(tunnel_id, connector_id, started, connected))
    except (OSError, ValueError) as exc:
        log("ERR", f'Error opening metrics server listener error="{exc}"')
        return 1
    address = "%s:%d" % server.server_address[:2]
    log("INF", f"Starting metrics server on {address}/metrics")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    protocol = config.get("protocol", "auto")
    stop = threading.Event()

    def on_signal(signum, _frame):
        log("INF", f"Initiating graceful shutdown due to signal {signal.Signals(signum).name.lower()} ...")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Test knob, not a cloudflared setting: how long registering the first connection takes (the real
    # binary needs a moment, and forever without network). Until then /ready says 503 and systemd
    # hears no READY=1, as with cloudflared; the tests use it to hold a host's health gate.
    if stop.wait(connect_delay()):
        return stopped(server)
    for index in range(HA_CONNECTIONS):
        log(
            "INF",
            "Registered tunnel connection",
            connIndex=index,
            connection=str(uuid.uuid4()),
            event=0,
            ip=f"192.0.2.{10 + index}",
            location="test-double",
            protocol="quic" if protocol == "auto" else protocol,
        )
    connected.set()
    sd_notify("READY=1\nSTATUS=Serving 4 test-double connections")
    while not stop.wait(3600):
        pass
    return stopped(server)


def connect_delay():
    """Seconds from CLOUDFLARED_DOUBLE_CONNECT_DELAY (default 0); a bad value is a usage error."""
    raw = os.environ.get("CLOUDFLARED_DOUBLE_CONNECT_DELAY", "0")
    try:
        delay = float(raw)
    except ValueError:
        raise UsageError(f"CLOUDFLARED_DOUBLE_CONNECT_DELAY must be a number of seconds, got {raw!r}") from None
    if delay > 0:
        log("INF", f"Test double: registering the first connection takes {delay:g} s")
    return max(delay, 0.0)


def stopped(server):
    sd_notify("STOPPING=1")
    server.shutdown()
    server.server_close()
    log("INF", "Tunnel server stopped")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        flags, positionals = parse_args(argv)
        if flags.get("version") or flags.get("v") or flags.get("V") or positionals[:1] == ["version"]:
            print(BANNER)
            return 0
        if positionals[:1] != ["tunnel"]:
            raise UsageError(
                "this test double implements only: --version, tunnel ingress validate|rule, tunnel run "
                f"(got {' '.join(positionals) or 'no command'})"
            )
        rest = positionals[1:]
        config_path = flags.get("config")
        if rest[:2] == ["ingress", "validate"]:
            if not config_path:
                raise UsageError("No configuration file given (use --config FILE)")
            return cmd_ingress_validate(config_path)
        if rest[:2] == ["ingress", "rule"]:
            if len(rest) > 3:
                raise UsageError('"cloudflared tunnel ingress rule" takes one URL')
            return cmd_ingress_rule(config_path, rest[2] if len(rest) == 3 else "")
        config = load_config(config_path)
        if not isinstance(config, dict):
            raise UsageError(f"Configuration {config_path} must be a YAML mapping")
        if rest[:1] == ["run"]:
            return cmd_run(flags, rest[1:], config)
        raise UsageError(f"unsupported tunnel subcommand {' '.join(rest) or '(none)'}")
    except UsageError as exc:
        log("ERR", str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
