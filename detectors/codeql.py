"""CodeQL: the codeql-action's init/analyze/autobuild steps in a workflow (with the languages
from its `languages` input or the job's matrix), the CodeQL CLI in a script, and CodeQL config
files under `.github/codeql/`. `codeql-action/upload-sarif` alone is not CodeQL: other
scanners use it to upload their own results."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, Hit, find, matrix_values

ACTIONS = ("github/codeql-action/init", "github/codeql-action/analyze",
           "github/codeql-action/autobuild")
ALIASES = {"javascript-typescript": "javascript", "typescript": "javascript",
           "java-kotlin": "java", "kotlin": "java", "c-cpp": "cpp", "c": "cpp", "c++": "cpp",
           "c#": "csharp"}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        items = re.split(r"[,\s]+", value)
    elif isinstance(value, list):
        items = [str(v) for v in value if isinstance(v, (str, int))]
    else:
        return []
    return [ALIASES.get(v.strip().lower(), v.strip().lower()) for v in items
            if v.strip() and "${{" not in v]


def _languages(hit: Hit) -> list[str]:
    raw = hit.inputs.get("languages", hit.inputs.get("language"))
    values = matrix_values(hit.job, raw)
    if values is not None:
        return [n for v in values for n in _names(v)]
    return _names(raw)


class CodeqlDetector:
    id = "codeql"
    description = "CodeQL code scanning: workflow steps, CLI runs, .github/codeql configs"
    kinds = {"codeql": kind("Static analysis with GitHub CodeQL",
                            languages="set", in_ci="flag", config="flag")}
    patterns = (*CI_FILES, ".github/codeql/**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.path.startswith(".github/codeql/"):
            cfg = doc.yaml
            if isinstance(cfg, dict) and cfg.keys() & {"queries", "paths", "paths-ignore",
                                                       "query-filters", "packs",
                                                       "disable-default-queries", "name"}:
                yield signal("codeql", doc.path, 1, "CodeQL configuration", config=True)
            return
        for hit in find(doc, actions=ACTIONS, programs=("codeql",)):
            if hit.via == "run" and not any(w in ("database", "github") for w in hit.words[1:2]):
                continue  # `codeql version`, `codeql resolve …`
            langs = _languages(hit) if hit.via == "action" else []
            if hit.via == "run":
                langs = [ALIASES.get(x, x) for w in hit.words
                         for x in re.findall(r"^--language=([\w#+-]+)", w)]
            what = hit.step.action if hit.via == "action" else "codeql " + hit.words[1]
            detail = f"job {hit.job.id} {'uses' if hit.via == 'action' else 'runs'} {what}"
            if langs:
                detail += f" ({', '.join(sorted(set(langs)))})"
            yield signal("codeql", doc.path, hit.line, detail, in_ci=True,
                         languages=sorted(set(langs)))


DETECTOR = CodeqlDetector()
