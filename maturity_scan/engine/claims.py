"""Which detectors claim a path, decided without running every detector's expression on every
path: a path can only match a pattern whose literal ending (`.tf`, `Dockerfile`, `Chart.yaml`;
brace alternatives expanded) it ends with, so each path is looked up by its last characters and
only the few detectors that may claim it run their expression (`sdk.globs`, compiled on first
use, so a small tree compiles a few of them, not all). The answer is exactly
`compile_globs(patterns).match(path)` for each detector, in detector order. `Claims.shared`
keeps one per detector set, with its answers, for the scans of one process (`history`'s
revisions and an org run's repositories list mostly the same paths)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maturity_scan.sdk.detector import Detector
from maturity_scan.sdk.globs import WILD as _WILD
from maturity_scan.sdk.globs import compile_globs
from maturity_scan.sdk.globs import expand as _expand
from maturity_scan.sdk.globs import literal_ending as _ending

KEY = 3  # characters of a literal ending that index it
ANSWERS = 200_000  # paths answered and kept per Claims (then forgotten, all at once)
SURE_END, SURE_NAME = 1, 2


def _sure(alt: str, ending: str) -> int:
    """SURE_END when every path ending with `ending` matches the alternative (`*.tf`,
    `**/*.tf`), SURE_NAME when every path whose file name is `ending` does (`Dockerfile`,
    `**/Dockerfile`); both only for paths without empty folder names. 0 otherwise."""
    if alt in (f"*{ending}", f"**/*{ending}"):
        return SURE_END
    if alt in (ending, f"**/{ending}"):
        return SURE_NAME
    return 0


def _rooted_start(alt: str) -> str:
    """The literal characters every match of a rooted alternative (one with a `/`) starts
    with: `.github/workflows/` for `.github/workflows/*.yml`; '' for one matching at any
    depth."""
    body = alt.lstrip("/")
    if "/" not in alt.rstrip("/"):
        return ""
    i = 0
    while i < len(body) and body[i] not in "*?[]{}":
        i += 1
    return body[:i]


def _name_start(pattern: str) -> str:
    """The literal characters every match of `pattern` starts its file name with."""
    name = pattern.rsplit("/", 1)[-1]
    i = 0
    while i < len(name) and name[i] not in _WILD:
        i += 1
    return name[:i]


class Claims:
    _shared: dict[tuple[tuple[str, tuple[str, ...]], ...], Claims] = {}

    @classmethod
    def shared(cls, detectors: Sequence[Detector]) -> Claims:
        """The Claims of these detectors (by id and patterns), kept for this process."""
        key = tuple((d.id, tuple(d.patterns)) for d in detectors)
        found = cls._shared.get(key)
        if found is None:
            if len(cls._shared) >= 8:
                cls._shared.clear()
            found = cls._shared[key] = cls(detectors)
        return found

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.answers: dict[str, tuple[str, ...]] = {}
        self.order = {d.id: n for n, d in enumerate(detectors)}
        self.patterns = {d.id: tuple(d.patterns) for d in detectors}
        self.compiled: dict[tuple[str, ...], Any] = {}  # a detector's patterns, or one -> rx
        # last KEY chars of a literal ending -> (ending, detector id, the pattern it is from,
        # SURE_END / SURE_NAME when the alternative needs no expression: `*.tf`, `Dockerfile`;
        # the literal start of a rooted alternative, `.github/workflows/`)
        self.by_key: dict[str, list[tuple[str, str, str, int, str]]] = {}
        self.short: list[tuple[str, str, str, int, str]] = []  # endings shorter than KEY
        self.starts: dict[str, list[tuple[str, str, str]]] = {}  # first KEY chars of a name
        self.always: dict[str, list[str]] = {}  # detector -> its patterns that may match anything
        for d in detectors:
            alts = []
            for p in d.patterns:
                mine = [(alt, _ending(alt), p) for alt in _expand(p)]
                if any(not e and len(_name_start(alt)) < KEY for alt, e, _ in mine):
                    self.always.setdefault(d.id, []).append(p)  # `*{runbook,Runbook}*.md`
                else:
                    alts.extend(mine)
            for alt, e, p in alts:
                if not e:
                    st = _name_start(alt)
                    self.starts.setdefault(st[:KEY], []).append((st, d.id, p))
                elif len(e) >= KEY:
                    self.by_key.setdefault(e[-KEY:], []).append(
                        (e, d.id, p, _sure(alt, e), _rooted_start(alt)))
                else:
                    self.short.append((e, d.id, p, _sure(alt, e), _rooted_start(alt)))

    def __call__(self, path: str) -> tuple[str, ...]:
        known = self.answers.get(path)
        if known is not None:
            return known
        if len(self.answers) >= ANSWERS:
            self.answers.clear()
        known = self.answers[path] = self._claim(path)
        return known

    def _claim(self, path: str) -> tuple[str, ...]:
        """Only the patterns whose literal ending (or name start) the path has are compiled and
        run, one by one: a 12-file scan compiles a few small expressions, not whole detectors'
        (each pattern's expression is the one `compile_globs` makes of it)."""
        maybe: dict[str, set[str]] = {det_id: set(ps) for det_id, ps in self.always.items()}
        name = path[path.rfind("/") + 1:]
        plain = not path.startswith("/") and "//" not in path  # no empty folder names
        hit: set[str] = set()  # claimed for sure, by a SURE_* alternative
        for ending, det_id, p, sure, start in [*self.by_key.get(path[-KEY:], ()),
                                               *self.short]:
            if not path.endswith(ending) or det_id in hit or not path.startswith(start):
                continue
            if sure and plain:
                if sure == SURE_END or name == ending:
                    hit.add(det_id)
            else:
                maybe.setdefault(det_id, set()).add(p)
        for start, det_id, p in self.starts.get(name[:KEY], ()):
            if name.startswith(start):
                maybe.setdefault(det_id, set()).add(p)
        out = []
        for det_id in sorted({*maybe, *hit}, key=self.order.__getitem__):
            if det_id in hit or any(self._rx((p,)).match(path)
                                    for p in sorted(maybe.get(det_id, ()))):
                out.append(det_id)
        return tuple(out)

    def _rx(self, patterns: tuple[str, ...]) -> Any:
        rx = self.compiled.get(patterns)
        if rx is None:
            rx = self.compiled[patterns] = compile_globs(patterns)
        return rx
