"""Backup automation other than Velero: Stash / KubeStash backups (`BackupConfiguration`,
`RestoreSession` …), KubeDB databases with a backup schedule, Kubernetes CronJobs whose
container runs a dump (pg_dump, mysqldump, mongodump …), and a documented restore procedure
(a `*restore*` / disaster-recovery Markdown page under docs/ or runbooks/ with commands in it).

Strict on purpose: a word "backup" in a README or a Deployment named backup is not evidence."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.sdk import Document, Signal, kind, shell, signal

STASH_GROUPS = {"stash.appscode.com", "core.kubestash.com", "storage.kubestash.com"}
STASH_KINDS = {"BackupConfiguration", "BackupBlueprint", "BackupSession", "RestoreSession",
               "BackupBatch"}
DUMPS = {"pg_dump", "pg_dumpall", "pg_basebackup", "mysqldump", "mariadb-dump", "mongodump",
         "redis-cli", "etcdctl", "mydumper", "xtrabackup", "wal-g", "pgbackrest", "restic"}
_DUMP_ARGS = {"redis-cli": ("--rdb", "bgsave", "BGSAVE"), "etcdctl": ("snapshot",),
              "wal-g": ("backup-push",), "pgbackrest": ("backup",), "restic": ("backup",)}
_RUNBOOK_NAME = re.compile(r"(restore|disaster[-_ ]?recovery|(^|[-_])dr[-_.])", re.IGNORECASE)
_RUNBOOK_DIR = re.compile(r"(^|/)(docs?|runbooks?|playbooks|ops|operations)/", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,4}\s+.*\b(restor\w*|recover\w*|disaster)\b", re.IGNORECASE)


def _runs_dump(script: str) -> str:
    for words in shell.commands(script):
        prog = words[0]
        if prog in ("sh", "bash", "ash") and "-c" in words[:-1]:
            inner = _runs_dump(words[words.index("-c") + 1])
            if inner:
                return inner
        if prog in DUMPS and (prog not in _DUMP_ARGS or
                              any(a in _DUMP_ARGS[prog] for a in words[1:])):
            return prog
    return ""


def _containers(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 12 or not isinstance(node, dict):
        return
    for k, v in node.items():
        if k in ("containers", "initContainers") and isinstance(v, list):
            yield from (c for c in v if isinstance(c, dict))
        elif isinstance(v, dict):
            yield from _containers(v, depth + 1)


def _words(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


class BackupDetector:
    id = "backup"
    description = "Backups: Stash/KubeStash, KubeDB backup schedules, dump CronJobs, restore docs"
    kinds = {"backup": kind(
        "Automated backups and a documented restore",
        tools="set", scheduled="flag", dump_cronjobs="count", restore="flag",
        restore_runbook="flag",
    )}
    patterns = ("**/*.y{a,}ml", "*{restore,Restore,RESTORE,recovery,Recovery,RECOVERY}*.md",
                "*{-dr,_dr,-DR,_DR}.md", "{dr,DR}{-,_,.}*md")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name.lower().endswith(".md"):
            yield from self._runbook(doc)
            return
        text = doc.text
        if not any(w in text for w in ("stash", "kubedb", "CronJob", "backup")):
            return
        for obj in kube.objects(doc):
            if obj.group in STASH_GROUPS and obj.kind in STASH_KINDS:
                restore = obj.kind == "RestoreSession"
                yield signal("backup", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                             tools=["stash"], restore=restore,
                             scheduled=obj.kind in ("BackupConfiguration", "BackupBatch"))
            elif obj.group == "kubedb.com" and isinstance(obj.body.get("spec"), dict):
                spec = obj.body["spec"]
                if spec.get("backupSchedule") or spec.get("backup"):
                    yield signal("backup", doc.path, obj.line, f"{obj.kind} {obj.name} backup",
                                 tools=["kubedb"], scheduled=True)
            elif obj.kind == "CronJob" and obj.group in ("batch", ""):
                for c in _containers(obj.body.get("spec")):
                    tool = _runs_dump(" ".join(_words(c.get(k)) for k in ("command", "args"))) \
                        or _runs_dump(_words(c.get("args")))
                    if tool:
                        yield signal("backup", doc.path, obj.line,
                                     f"CronJob {obj.name} runs {tool}", tools=["cronjob"],
                                     scheduled=True, dump_cronjobs=1)
                        break

    def _runbook(self, doc: Document) -> Iterator[Signal]:
        if not (_RUNBOOK_NAME.search(doc.name) and _RUNBOOK_DIR.search(doc.path)):
            return
        heading = doc.line_of(_HEADING)
        if heading and "```" in doc.text:  # a restore heading and commands to run
            yield signal("backup", doc.path, heading, "restore runbook", restore=True,
                         restore_runbook=True)


DETECTOR = BackupDetector()
