"""JSON schemas with their `$ref`s to shared definitions inlined and annotations dropped.

jsonschema resolves a `$ref` on every visit (a registry lookup, URL joins and a new validator per
step) and walks every key of every subschema, `description` included. Inlining shares each
definition's (processed) dict between its uses, so the schema does not grow; a definition met again
inside its own expansion (JSONSchemaProps) keeps an absolute `$ref`, which the registry still resolves.
Validation answers, and its messages and instance paths, are unchanged: only keywords that never
validate are dropped (`format` too, as no format checker is used).
"""

from __future__ import annotations

from typing import Any

# Keywords whose value is one subschema, a map of names to subschemas, or a list of subschemas.
_ONE = frozenset({"additionalProperties", "items", "not", "contains", "propertyNames", "if", "then", "else"})
_ONE |= {"unevaluatedProperties", "unevaluatedItems", "additionalItems"}
_MAP = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
# Annotations: they never make an instance invalid (`format` only would, with a format checker).
_ANNOTATIONS = frozenset({"description", "title", "default", "example", "examples", "format", "readOnly"})


def _annotation(key: str) -> bool:
    return key in _ANNOTATIONS or key.startswith("x-")


class Inliner:
    """Inlines `$ref`s into `<definitions_id>#/$defs/<name>` (or `#/$defs/<name>` inside the
    definitions document itself) for one definitions document."""

    def __init__(self, definitions_id: str, definitions: dict[str, Any]) -> None:
        self._id = definitions_id
        self._defs = definitions.get("$defs", {})
        self._done: dict[str, Any] = {}
        self._expanding: set[str] = set()

    def schema(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node  # true / false
        name = self._definition(node.get("$ref"))
        if name is not None and all(_annotation(k) for k in node if k != "$ref"):
            if name in self._expanding:  # recursive: leave a reference the registry resolves
                return {"$ref": f"{self._id}#/$defs/{name}"}
            if name not in self._done:
                self._expanding.add(name)
                self._done[name] = self.schema(self._defs[name])
                self._expanding.discard(name)
            return self._done[name]
        out: dict[str, Any] = {}
        for key, value in node.items():
            if _annotation(key):
                continue
            if key in _ONE:
                out[key] = self.schema(value)
            elif key in _MAP and isinstance(value, dict):
                out[key] = {k: self.schema(v) for k, v in value.items()}
            elif key in _LIST and isinstance(value, list):
                out[key] = [self.schema(v) for v in value]
            elif key == "$ref" and name is not None:  # beside validating keywords: kept, made absolute
                out[key] = f"{self._id}#/$defs/{name}"
            else:
                out[key] = value
        return out

    def _definition(self, ref: Any) -> str | None:
        if not isinstance(ref, str) or "#/$defs/" not in ref:
            return None
        document, _, name = ref.partition("#/$defs/")
        inside_definitions = document == "" and bool(self._expanding)  # "#/..." in the definitions document
        same = inside_definitions or (document != "" and self._id.endswith(document))
        return name if same and name in self._defs else None
