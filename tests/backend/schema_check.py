"""A small JSON Schema checker (the subset /openapi.json uses), since jsonschema is not a dependency."""

from __future__ import annotations

from typing import Any

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref."""
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def type_ok(value: Any, name: str) -> bool:
    """JSON Schema type test (bool is not a number)."""
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def errors(value: Any, schema: dict[str, Any], document: dict[str, Any], path: str = "$") -> list[str]:
    """Every violation of a schema by a value, as readable strings."""
    schema = resolve(schema, document)
    found: list[str] = []
    if "oneOf" in schema:
        matching = [option for option in schema["oneOf"] if not errors(value, option, document, path)]
        if len(matching) != 1:
            found.append(f"{path}: matches {len(matching)} of the oneOf schemas, not exactly 1")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, name) for name in names):
            return [f"{path}: {value!r} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        found += [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found += errors(item, properties[key], document, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: unexpected property {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(item, schema["additionalProperties"], document, f"{path}.{key}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{path}: more than {schema['maxItems']} items")
        for index, item in enumerate(value):
            if "items" in schema:
                found += errors(item, schema["items"], document, f"{path}[{index}]")
    return found


def response_schema(document: dict[str, Any], path: str, method: str, status: str, mimetype: str) -> dict[str, Any]:
    """The schema an OpenAPI document gives a response."""
    return document["paths"][path][method]["responses"][status]["content"][mimetype]["schema"]
