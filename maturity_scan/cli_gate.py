"""`maturity-scan` subcommands of this area; they register on the `cli` group when imported."""
from __future__ import annotations
