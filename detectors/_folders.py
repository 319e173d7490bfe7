"""The repository folders a CI script names (`cd services/a`, `docker build services/a`,
`-f services/a/Dockerfile`: a file names its folder), for `scan --components` to give a step's
evidence to the services it works on (GitHub Actions steps, GitLab CI job scripts)."""
from __future__ import annotations

import posixpath

from maturity_scan.sdk import Document, shell

MAX_NAMED = 10


def named_dirs(doc: Document, run: str) -> list[str]:
    """The repository's folders a script's commands name, in order; at most `MAX_NAMED`."""
    found: list[str] = []
    for words in shell.commands(run) if run else ():
        for word in words[1:]:
            word = word.rpartition("=")[2].strip("'\"").removeprefix("./").rstrip("/")
            if not word or word.startswith((".", "-", "/")) or any(c in word for c in "$*{"):
                continue
            folder = word if doc.repo.has_dir(word) else \
                posixpath.dirname(word) if "/" in word and doc.repo.exists(word) else ""
            if folder and folder not in found:
                found.append(folder)
    return found[:MAX_NAMED]
