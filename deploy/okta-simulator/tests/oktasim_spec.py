"""Okta's OpenAPI description, as JSON Schema the tests validate against.

The spec is in the repository: `deploy/okta-simulator/okta-api/` (with its NOTICE).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:okta-users-subset"


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` becomes a JSON Schema type (and enum) allowing null."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _openapi_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and "type" in node:
        converted["type"] = [node["type"], "null"]
        if "enum" in node:
            converted["enum"] = [*node["enum"], None]
    return converted


class OktaSchemas:
    """Okta's own schemas from the spec, as JSON Schema 2020-12 with `$ref`s resolved."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = DRAFT202012.create_resource(_openapi_to_json_schema(spec))
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    def validate(self, pointer: str, body: Any) -> None:
        """Check `body` against the schema at a JSON pointer into the spec."""
        validator = Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        validator.validate(body)

    def response(self, path: str, body: Any) -> None:
        """Check `body` against the 200 response schema of `GET path`."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        self.validate(f"/paths/{escaped}/get/responses/200/content/application~1json/schema", body)

    def error(self, body: Any) -> None:
        self.validate("/components/schemas/Error", body)

    def properties(self, name: str) -> set[str]:
        """The property names a component schema declares, through `allOf`."""
        schema = self.spec["components"]["schemas"][name]
        parts = [schema, *schema.get("allOf", [])]
        return {key for part in parts for key in part.get("properties", {})}

    def link_relations(self, name: str) -> set[str]:
        """The `_links` relations a component schema declares."""
        schemas = self.spec["components"]["schemas"]
        relations: set[str] = set()
        for part in schemas[name]["properties"]["_links"].get("allOf", []):
            if "$ref" in part:
                part = schemas[part["$ref"].rsplit("/", 1)[1]]
            relations |= set(part.get("properties", {}))
        return relations

    def example(self, name: str) -> Any:
        return self.spec["components"]["examples"][name]["value"]
