"""AWS CloudFormation and SAM templates: `AWSTemplateFormatVersion`, or `Resources` whose types
are `AWS::…` (YAML with short-form tags such as `!Ref`, or JSON)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, ParseError, Signal, kind, signal

HINT = re.compile(r"AWSTemplateFormatVersion|Type['\"]?\s*:\s*['\"]?AWS::|Transform['\"]?\s*:\s*"
                  r"['\"]?AWS::Serverless")
NESTED = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


class CloudFormationDetector:
    id = "cloudformation"
    description = "AWS CloudFormation and SAM templates"
    kinds = {"cloudformation": kind("Infrastructure as code with CloudFormation / SAM",
                                    templates="count", resources="count",
                                    nested_stacks="flag", sam="flag")}
    patterns = ("*.y{a,}ml", "*.json", "*.template")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if not HINT.search(doc.text[:65536]):
            return  # most YAML and JSON is not CloudFormation: do not parse it
        try:
            data = doc.json if doc.name.endswith(".json") else doc.yaml
        except ParseError:
            if "AWSTemplateFormatVersion" in doc.text:
                raise  # clearly a template, and broken
            return
        if not isinstance(data, dict):
            return
        resources = data.get("Resources")
        if not isinstance(resources, dict):
            return
        types = [r.get("Type") for r in resources.values() if isinstance(r, dict)]
        aws = [t for t in types if isinstance(t, str) and t.startswith("AWS::")]
        if not aws and "AWSTemplateFormatVersion" not in data:
            return
        transform = data.get("Transform")
        sam = any("AWS::Serverless" in str(t) for t in (transform if isinstance(transform, list)
                                                          else [transform]))
        line = getattr(data, "line_of", lambda k: 1)("Resources")
        yield signal("cloudformation", doc.path, line,
                     f"{'SAM' if sam else 'CloudFormation'} template, {len(aws)} resources",
                     templates=1, resources=len(aws), sam=sam,
                     nested_stacks=any(t in NESTED for t in aws))


DETECTOR = CloudFormationDetector()
