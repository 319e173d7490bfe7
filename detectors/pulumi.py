"""Pulumi projects: `Pulumi.yaml` with a name and a runtime; stacks are `Pulumi.<stack>.yaml`."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal


class PulumiDetector:
    id = "pulumi"
    description = "Pulumi projects (Pulumi.yaml) and their stacks (Pulumi.<stack>.yaml)"
    kinds = {"pulumi": kind("Infrastructure as code with Pulumi", projects="count",
                            stacks="count", runtimes="set", backend="flag")}
    patterns = ("Pulumi.y{a,}ml", "Pulumi.*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        data = doc.yaml
        if not isinstance(data, dict):
            return
        if doc.name.count(".") == 1:  # Pulumi.yaml: the project
            runtime = data.get("runtime")
            name = runtime.get("name") if isinstance(runtime, dict) else runtime
            if not isinstance(data.get("name"), str) or not isinstance(name, str):
                return
            yield signal("pulumi", doc.path, getattr(data, "line_of", lambda k: 1)("runtime"),
                         f"project {data['name']} ({name})", projects=1, runtimes=[name],
                         backend="backend" in data)
            stacks = doc.repo.glob(f"{doc.dir + '/' if doc.dir else '/'}Pulumi.*.y{{a,}}ml")
            for stack in stacks:
                yield signal("pulumi", stack, 1, f"stack {stack.rsplit('/', 1)[-1].split('.')[1]}",
                             stacks=1)


DETECTOR = PulumiDetector()
