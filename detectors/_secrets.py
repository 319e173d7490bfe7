"""Shared by secret_scanning and pre_commit: the secret scanners' commands and pre-commit hook
ids, each with the scanner it stands for."""
from __future__ import annotations

PROGRAMS = {"gitleaks": "gitleaks", "trufflehog": "trufflehog", "detect-secrets": "detect-secrets",
            "detect-secrets-hook": "detect-secrets", "ggshield": "ggshield", "talisman": "talisman"}
HOOKS = {"gitleaks": "gitleaks", "gitleaks-docker": "gitleaks", "gitleaks-system": "gitleaks",
         "detect-secrets": "detect-secrets", "trufflehog": "trufflehog", "ggshield": "ggshield",
         "talisman-commit": "talisman", "talisman-push": "talisman", "secretlint": "secretlint"}
