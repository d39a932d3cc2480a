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
    timeout_seconds: int = 3  # Lambda's default when neither the function nor Globals set one


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
            timeout_seconds=int(props.get("Timeout", globals_.get("Timeout", 3))),
        )
