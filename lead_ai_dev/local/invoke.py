"""`lead-ai invoke`: run a function's handler in-process, the way `sam local invoke` would, without Docker.

The handler module is imported from the function's CodeUri with the environment template.yaml
declares (Globals merged with the function's own), `!Ref`s resolved to the local stack's names.
A module stays imported between invocations, like a warm Lambda container.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from lead_ai_dev.local.stack import patched_environ, physical_name
from lead_ai_dev.local.template import FunctionDefinition, Template


@dataclass
class LocalLambdaContext:
    """The attributes Powertools and handlers read from a real Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 1024
    timeout_seconds: int = 900
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def resolve_environment(template: Template, function: FunctionDefinition) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, value in function.environment.items():
        resolved[name] = _resolve_value(template, name, value)
    return resolved


def _resolve_value(template: Template, name: str, value: Any) -> str:
    if isinstance(value, str | int | float | bool):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        ref = value["Ref"]
        resource = template.resources.get(ref)
        if resource is not None:
            return physical_name(ref, resource.get("Type", ""))
        default = template.parameter_default(ref)
        if default is not None:
            return str(default)
    raise ValueError(f"cannot resolve environment variable {name} = {value!r} locally")


_loaded: dict[str, ModuleType] = {}


def load_handler_module(function: FunctionDefinition) -> ModuleType:
    """Import the handler's module under a unique name (every function's module is called `app`)."""
    if function.logical_id in _loaded:
        return _loaded[function.logical_id]
    module_name, _ = function.handler.rsplit(".", 1)
    path = function.code_uri / f"{module_name.replace('.', '/')}.py"
    unique = f"lead_ai_local_{function.logical_id}_{module_name.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    _loaded[function.logical_id] = module
    return module


def forget_loaded_handlers() -> None:
    """Drop imported handler modules: the next invocation is a cold start."""
    for module in _loaded.values():
        sys.modules.pop(module.__name__, None)
    _loaded.clear()


def invoke(
    template: Template, logical_id: str, event: dict[str, Any], overrides: dict[str, str] | None = None
) -> Any:
    """Invoke a function; the process must already point at a stack (AWS_ENDPOINT_URL).

    `overrides` replace template values, as `sam local invoke --env-vars` does.
    """
    from lead_ai.config import get_settings

    function = template.function(logical_id)
    environment = resolve_environment(template, function) | (overrides or {})
    # The function's environment holds for its invocation only: the caller's is restored after.
    with patched_environ(environment):
        if function.logical_id not in _loaded:
            get_settings.cache_clear()  # a cold start reads the environment again
        module = load_handler_module(function)
        _, attribute = function.handler.rsplit(".", 1)
        handler = getattr(module, attribute)
        # The function's own timeout, as Lambda gives it: each request's time budget is derived from it.
        context = LocalLambdaContext(function_name=logical_id, timeout_seconds=function.timeout_seconds)
        return handler(event, context)
