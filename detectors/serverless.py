"""Serverless Framework services: `serverless.yml` with `service` and `provider`."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal


class ServerlessDetector:
    id = "serverless"
    description = "Serverless Framework services (serverless.yml with service and provider)"
    kinds = {"serverless": kind("Functions deployed with the Serverless Framework",
                                services="count", providers="set", functions="count",
                                plugins="set")}
    patterns = ("serverless.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        data = doc.yaml
        if not isinstance(data, dict) or "service" not in data or "provider" not in data:
            return
        provider = data["provider"]
        name = provider.get("name") if isinstance(provider, dict) else provider
        plugins = data.get("plugins")
        if isinstance(plugins, dict):  # plugins: {modules: [...]}
            plugins = plugins.get("modules")
        functions = data.get("functions")
        yield signal("serverless", doc.path, getattr(data, "line_of", lambda k: 1)("service"),
                     f"service on {name}", services=1,
                     providers=[str(name)] if isinstance(name, str) else [],
                     functions=len(functions) if isinstance(functions, dict) else 0,
                     plugins=sorted(str(p) for p in plugins) if isinstance(plugins, list) else [])


DETECTOR = ServerlessDetector()
