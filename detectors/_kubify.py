"""What the Kubify detector and component discovery both read of a `kubify.yaml`: which
documents are service configs (`apiVersion: k8.kubify.local/v1`, `kind: Config`), their
`metadata.name` and its line, and their body walked key by key."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from maturity_scan.sdk import Document

CONFIG_API = "k8.kubify.local/v1"
ENV_API = "kubify.kubify.local/v1"
CONFIG_FILES = ("kubify.yaml", "kubify.yml")
DEPENDS_KEYS = ("depends_on", "dependson", "depends-on")


def walk(node: Any, depth: int = 0,
         skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
    """(key, value) for every mapping key at any depth; bare strings in lists as (item, None);
    the subtrees under `skip` keys are not entered."""
    if depth > 40:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str):
                yield k.lower(), v
                if k.lower() in skip:
                    continue
            yield from walk(v, depth + 1, skip)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, str) and v.strip():
                yield v.strip().lower(), None
            else:
                yield from walk(v, depth + 1, skip)


def truthy(value: Any) -> bool:
    if isinstance(value, dict) and value.get("enabled") in (False, "false"):
        return False  # `backup: {enabled: false}`
    return value is not False and value != "false" and value not in ({}, [], "")


def header(d: dict[str, Any]) -> tuple[str, int]:
    """A document's `metadata.name` ("" when absent) and the line that shows it best."""
    meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    line = meta.line_of("name") if name and hasattr(meta, "line_of") else \
        getattr(d, "line", 1) or 1
    return name, line


def is_config(doc: Document) -> bool:
    return doc.name in CONFIG_FILES


def service_configs(doc: Document) -> Iterator[tuple[dict[str, Any], str, int]]:
    """(document, name, line) of each service config of a `kubify.yaml` (ParseError when it
    does not parse)."""
    if not is_config(doc):
        return
    for d in doc.yaml_documents:
        if isinstance(d, dict) and d.get("apiVersion") == CONFIG_API and d.get("kind") == "Config":
            name, line = header(d)
            yield d, name, line


def body(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in ("apiVersion", "kind", "metadata")}


def depends_on(d: dict[str, Any]) -> list[str]:
    """The services a config's `depends_on` names (a list of names, a mapping of names, or one
    name), in order."""
    names: list[str] = []
    for k, v in walk(body(d)):
        if k not in DEPENDS_KEYS or not truthy(v):
            continue
        items = v if isinstance(v, list) else list(v) if isinstance(v, dict) else [v]
        for item in items:
            if isinstance(item, dict):
                item = item.get("name") or item.get("service")
            if isinstance(item, str) and item.strip() and item.strip() not in names:
                names.append(item.strip())
    return names
