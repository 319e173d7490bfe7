"""Dockerfiles (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`, `Containerfile`), read with a
small line-continuation-aware parser: stages, base images, digest pinning, USER, HEALTHCHECK.

A file counts only when it has a `FROM` instruction; `Dockerfile.md` and friends are not claimed.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from maturity_scan.detectors._dockerfile import NOT_DOCKERFILE, PATTERNS, instructions
from maturity_scan.sdk import Document, Evidence, RepoContext, Signal, kind, signal

_ARG_REF = re.compile(r"\$\{(\w+)\}|\$(\w+)")
ROOT_USERS = {"root", "0", "0:0", "root:root"}


_DEFAULTED = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^{}$]+)\}$")


def _image_name(ref: str) -> str:
    """`docker.io/library/python:3.12@sha256:…` -> `docker.io/library/python`; an ARG with a
    default (`${BASE_IMAGE:-gcr.io/distroless/static:nonroot}`) -> the default's name."""
    defaulted = _DEFAULTED.match(ref)
    name = (defaulted.group(1) if defaulted else ref).split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


class DockerfileDetector:
    id = "dockerfile"
    description = "Dockerfiles / Containerfiles: stages, base images, digest pins, USER, HEALTHCHECK"
    kinds = {"dockerfile": kind(
        "Container images built from a Dockerfile",
        files="count", multi_stage="flag", stages="count", base_images="set",
        pinned_by_digest="flag", files_pinned="count", non_root_user="flag",
        healthcheck="flag",
    )}
    patterns = PATTERNS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if NOT_DOCKERFILE.search(doc.name):
            return
        instrs = list(instructions(doc.lines))
        froms = [(ln, args) for ln, op, args in instrs if op == "FROM"]
        if not froms:
            return
        defaults: dict[str, str] = {}
        for _, op, rest in instrs:
            if op == "FROM":
                break
            if op == "ARG" and "=" in rest:  # ARG BASE=python:3.12 (global, before FROM)
                k, _, v = rest.split()[0].partition("=")
                defaults[k] = v.strip("\"'")
        stage_names: set[str] = set()
        images: list[str] = []
        external: list[str] = []
        refs: list[tuple[int, str]] = []
        for ln, args in froms:
            words = [w for w in args.split() if not w.startswith("--")]
            if not words:
                continue
            ref = _ARG_REF.sub(lambda m: defaults.get(m.group(1) or m.group(2), m.group(0)),
                               words[0])
            refs.append((ln, ref))
            if len(words) >= 3 and words[1].lower() == "as":
                stage_names.add(words[2].lower())
            if ref.lower() in stage_names or ref.lower() == "scratch":
                continue
            external.append(ref)
            if not re.search(r"[${}]", _image_name(ref)):
                images.append(_image_name(ref))
        users = [(ln, args.split()[0]) for ln, op, args in instrs if op == "USER" and args]
        # the last USER of the final stage decides who the container runs as
        final_from = froms[-1][0]
        last_user = next((u for ln, u in reversed(users) if ln > final_from), None)
        health = next((ln for ln, op, args in instrs
                       if op == "HEALTHCHECK" and args.split()[0].upper() != "NONE"), None)
        pinned = bool(external) and all("@sha256:" in r for r in external)
        for ln, ref in refs:
            yield signal("dockerfile", doc.path, ln, f"FROM {_image_name(ref)}"[:80])
        if health:
            yield signal("dockerfile", doc.path, health, "HEALTHCHECK", healthcheck=True)
        non_root = bool(last_user) and last_user.split(":")[0].lower() not in ROOT_USERS
        if last_user and non_root:
            ln = next(ln for ln, u in reversed(users) if u == last_user and ln > final_from)
            yield signal("dockerfile", doc.path, ln, f"USER {last_user}"[:60], non_root_user=True)
        yield signal("dockerfile", doc.path, froms[0][0], f"{len(froms)} stage(s)",
                     files=1, stages=len(froms), multi_stage=len(froms) > 1,
                     base_images=sorted(set(images)), pinned_by_digest=pinned,
                     non_root_user=non_root, healthcheck=bool(health))

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterator[Signal]:
        """`pinned_by_digest` holds only when every Dockerfile pins every base image."""
        pins = [s.facts["pinned_by_digest"] for s in found if "pinned_by_digest" in s.facts]
        for s in found:
            if "pinned_by_digest" not in s.facts:
                yield s
                continue
            facts = {k: v for k, v in s.facts.items() if k != "pinned_by_digest"}
            facts["files_pinned"] = int(bool(s.facts["pinned_by_digest"]))
            ev = tuple(Evidence(e.path, e.line, e.detail,
                                frozenset(e.supports - {"pinned_by_digest"}) |
                                ({"files_pinned"} if facts["files_pinned"] else set()))
                       for e in s.evidence)
            yield Signal(s.kind, ev, facts)
        if pins:
            first = min(e.path for s in found for e in s.evidence)
            yield signal("dockerfile", first, None,
                         f"{sum(map(bool, pins))}/{len(pins)} Dockerfile(s) pinned by digest",
                         pinned_by_digest=all(pins))


DETECTOR = DockerfileDetector()
