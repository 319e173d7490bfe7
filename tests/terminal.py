"""Running the command with its stdout on a real terminal (a pseudo-terminal), for tests."""
from __future__ import annotations

import os
import pty
import sys


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> bytes:
    """The command's output when stdout is a terminal (a pty)."""
    pid, fd = pty.fork()
    if pid == 0:  # child: stdout is a terminal
        os.execve(sys.executable, [sys.executable, "-m", "maturity_scan", *args],
                  {**os.environ, "TERM": "xterm", **(env or {})})
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks)
