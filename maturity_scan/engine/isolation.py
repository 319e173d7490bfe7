"""Where our own code is imported from, never from the folder the command runs in.

`python -c`, `python -m` and multiprocessing's fork server put the current directory first on
`sys.path`; run from inside a scanned checkout, that would import the checkout's `yaml.py` or
`maturity_scan/`. Child interpreters start isolated (`-I`: no current directory, no PYTHON*
variables, no user site) and get this explicit path instead; plugin discovery reads the same.
"""
from __future__ import annotations

import json
import os
import sys

_BOOT = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
         "from {module} import main; main(sys.argv[2:])")


def import_path() -> list[str]:
    """This interpreter's `sys.path` without the current directory (as '' or spelt out)."""
    try:
        here = os.path.realpath(os.getcwd())
    except OSError:  # the current directory was deleted
        here = None
    out: list[str] = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue  # '' and relative entries mean the current directory
        if here is not None and os.path.realpath(entry) == here:
            continue
        if entry not in out:
            out.append(entry)
    return out


def python_command(module: str, *args: str) -> list[str]:
    """argv that runs `module.main(args)` in an isolated interpreter with `import_path()`."""
    return [sys.executable, "-I", "-c", _BOOT.format(module=module),
            json.dumps(import_path()), *args]
