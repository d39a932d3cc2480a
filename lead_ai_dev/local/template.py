"""template.yaml as plain data: CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) become their long form."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


@dataclass(frozen=True)
class FunctionDefinition:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any]
    layers: list[Any]
    memory_size: int = 128  # MB, Lambda's default when neither the function nor Globals set it
    timeout: int = 3  # seconds, likewise
    api_events: tuple[ApiEvent, ...] = ()


@dataclass(frozen=True)
class ApiEvent:
    """One `Type: Api` event of a function: the route API Gateway sends to it."""

    name: str
    path: str  # the resource template, e.g. /series/{series_id}/forecast
    method: str  # upper case; ANY matches every method
    api_key_required: bool


class Template:
    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self.data: dict[str, Any] = yaml.load(path.read_text(), Loader=_TemplateLoader)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("Resources", {}))

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r.get("Type") == resource_type}

    def parameter_default(self, name: str) -> Any:
        return self.data.get("Parameters", {}).get(name, {}).get("Default")

    def function(self, logical_id: str) -> FunctionDefinition:
        resource = self.resources.get(logical_id)
        if resource is None or resource.get("Type") != "AWS::Serverless::Function":
            names = ", ".join(sorted(self.resources_of_type("AWS::Serverless::Function")))
            raise KeyError(f"{logical_id} is not a function in {self.path.name}; functions: {names}")
        props = resource.get("Properties", {})
        globals_ = self.data.get("Globals", {}).get("Function", {})
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        return FunctionDefinition(
            logical_id=logical_id,
            code_uri=(self.path.parent / props.get("CodeUri", globals_.get("CodeUri", "."))).resolve(),
            handler=props.get("Handler", globals_.get("Handler", "")),
            environment=environment,
            layers=list(props.get("Layers", globals_.get("Layers", []))),
            memory_size=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            api_events=self._api_events(props),
        )

    def function_ids(self) -> list[str]:
        return sorted(self.resources_of_type("AWS::Serverless::Function"))

    def api_stage(self) -> str:
        """The stage name of the template's REST API (the deployed URL ends in it)."""
        for api in self.resources_of_type("AWS::Serverless::Api").values():
            stage = api.get("Properties", {}).get("StageName")
            if isinstance(stage, str):
                return stage
        return "Prod"  # SAM's implicit API

    def _api_key_required(self) -> bool:
        for api in self.resources_of_type("AWS::Serverless::Api").values():
            return bool(api.get("Properties", {}).get("Auth", {}).get("ApiKeyRequired", False))
        return False

    def _api_events(self, props: dict[str, Any]) -> tuple[ApiEvent, ...]:
        default_key = self._api_key_required()
        return tuple(
            ApiEvent(
                name=name,
                path=str(event["Properties"]["Path"]),
                method=str(event["Properties"]["Method"]).upper(),
                api_key_required=bool(event["Properties"].get("Auth", {}).get("ApiKeyRequired", default_key)),
            )
            for name, event in props.get("Events", {}).items()
            if event.get("Type") == "Api"
        )


def find_template(given: str | None, start: Path | None = None) -> Path:
    """The template a command means: the path given, else template.yaml here or in a parent directory.

    Raises FileNotFoundError with what to do when there is none (a user in a subdirectory, or elsewhere).
    """
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise FileNotFoundError(f"no template at {given}: pass --template PATH/TO/template.yaml")
        return path
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "template.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no template.yaml in {here} or any parent directory: run lead-ai inside the repository, "
        "or pass --template PATH/TO/template.yaml"
    )
