"""`lead-ai serve`: the API on http://127.0.0.1, like `sam local start-api` but without Docker.

It binds its port first (a busy port is a one-line error at once), then starts the embedded stack
unless AWS_ENDPOINT_URL points at one, and answers each HTTP request through the gateway
(lead_ai_dev/local/gateway.py): route, API key, proxy event, the handler in-process, the response.

The functions share this process. They may run side by side (one request at a time each) only while
their environments from the template agree, since the environment is the process's; when they
differ, requests run one at a time in all. Powertools' logger and metrics are process-wide too: a log
line written while two functions run may carry the other one's request id.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from lead_ai_dev.local.gateway import Gateway, HttpRequest
from lead_ai_dev.local.invoke import invoke, resolve_environment
from lead_ai_dev.local.stack import PortInUseError
from lead_ai_dev.local.template import Template

DEFAULT_PORT = 3000  # sam local start-api's
API_KEY_VARIABLE = "LEAD_AI_LOCAL_API_KEY"
# `--quiet`: the functions' INFO logs and EMF metrics off (a test, or a user who only wants answers).
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def bind_server(host: str, port: int, gateway: Gateway) -> ThreadingHTTPServer:
    try:
        server = _Server((host, port), _handler_class(gateway))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on {host} is in use (another lead-ai serve?): stop it or pick one with --port"
            ) from exc
        raise
    return server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _handler_class(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lead-ai-serve"

        def _serve(self) -> None:
            started = time.monotonic()
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._write(411, [("Content-Type", "text/plain")], b"send a Content-Length\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            split = urlsplit(self.path)
            request = HttpRequest(
                method=self.command,
                path=split.path,
                query=parse_qsl(split.query, keep_blank_values=True),
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            response = gateway.handle(request)
            self._write(response.status, response.headers, response.body)
            who = response.function or "gateway"
            elapsed = (time.monotonic() - started) * 1000
            print(f"{self.command} {split.path} -> {who} {response.status} ({elapsed:.0f} ms)", flush=True)

        def _write(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                # A client that stopped waiting (its timeout) leaves the answer nobody to go to.
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the gateway (TRACE, PROPFIND, …), which answers as API Gateway does.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # _serve prints one line per request

    return Handler


class Overrides(NamedTuple):
    """Environment values that replace the template's, as `sam local start-api --env-vars` takes them:
    {"Parameters": {...}} for every function, {"<LogicalId>": {...}} for one."""

    every: dict[str, str]
    by_function: dict[str, dict[str, str]]

    def of(self, logical_id: str) -> dict[str, str]:
        return self.every | self.by_function.get(logical_id, {})


def read_env_vars(path: Path) -> Overrides:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"--env-vars {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f'--env-vars {path}: expected {{"Parameters": {{...}}, "<Function>": {{...}}}}')
    as_text = {name: {k: str(v) for k, v in values.items()} for name, values in data.items()}
    every = as_text.pop("Parameters", {})
    return Overrides(every, as_text)


NO_OVERRIDES = Overrides({}, {})


def function_environment(template: Template, overrides: Overrides) -> tuple[dict[str, str], bool]:
    """The environment every function runs with, and whether they all agree on it."""
    merged: dict[str, str] = {}
    agree = True
    for logical_id in template.function_ids():
        env = resolve_environment(template, template.function(logical_id)) | overrides.of(logical_id)
        for name, value in env.items():
            agree = agree and merged.get(name, value) == value
            merged.setdefault(name, value)
    return merged, agree


def build_gateway(
    template: Template, api_key: str | None, overrides: Overrides = NO_OVERRIDES, *, threaded: bool = True
) -> Gateway:
    """A gateway whose functions run in this process.

    `threaded` (a server): the functions' environment is set once for the process, since each
    invocation's own setting and restoring of it would race with another function's."""
    gateway = Gateway(template, lambda fid, event: invoke(template, fid, event, overrides.of(fid)), api_key)
    if threaded:
        environment, agree = function_environment(template, overrides)
        os.environ.update(environment)
        if not agree:
            gateway.share_one_lock()
    return gateway


@contextmanager
def stack_for(template_path: Path) -> Iterator[str]:
    """The stack the functions use: AWS_ENDPOINT_URL's if set, else an embedded one for this run."""
    from lead_ai_dev.local.stack import running_stack

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        yield f"the stack at {endpoint} (AWS_ENDPOINT_URL)"
        return
    with running_stack(template_path) as stack:
        yield f"an embedded local stack (moto) on {stack.endpoint}; its data live as long as this server"


def run_serve(
    template_path: Path, host: str, port: int, *, quiet: bool = False, env_vars: Path | None = None
) -> int:
    template = Template(template_path)
    api_key = os.environ.get(API_KEY_VARIABLE) or secrets.token_urlsafe(24)
    try:
        overrides = read_env_vars(env_vars) if env_vars else NO_OVERRIDES
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if quiet:
        overrides = overrides._replace(every=QUIET | overrides.every)
    try:
        server = bind_server(host, port, _placeholder_gateway(template))
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # SIGTERM (a test, a process manager) stops the server as Ctrl-C does: the stack is stopped cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with stack_for(template_path) as where:
            gateway = build_gateway(template, api_key, overrides)
            server.RequestHandlerClass = _handler_class(gateway)
            base = f"http://{_display_host(host)}:{server.server_address[1]}"
            _print_banner(base, api_key, where, gateway)
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _placeholder_gateway(template: Template) -> Gateway:
    # The port is bound before the stack starts (fail fast); requests are only served once it runs.
    return Gateway(template, lambda fid, event: None, api_key=None)


def _display_host(host: str) -> str:
    if host in {"0.0.0.0", ""}:
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def _print_banner(base: str, api_key: str, where: str, gateway: Gateway) -> None:
    print(f"lead_ai API on {base}  (functions in-process; AWS: {where})")
    print(f"API key: {api_key}   (send it as the x-api-key header; set your own with {API_KEY_VARIABLE})")
    for route in gateway.routes:
        print(f"  {route.method:<5} {base}{route.path}  -> {route.function}")
    print("in another shell:")
    print(f"  export LEAD_AI_API_URL={base} LEAD_AI_API_KEY={api_key}")
    print(
        '  curl -s -X POST "$LEAD_AI_API_URL/series/demo/observations" -H "x-api-key: $LEAD_AI_API_KEY" '
        "-H 'Content-Type: text/csv' --data-binary @leads.csv"
    )
    print("Ctrl-C stops it", flush=True)
