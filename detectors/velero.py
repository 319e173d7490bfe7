"""Velero: backup `Schedule`, `Backup`, `Restore` and storage locations (velero.io)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._gitops import release_signals
from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, kind, signal

KINDS = {"Schedule", "Backup", "Restore", "BackupStorageLocation", "VolumeSnapshotLocation"}



class VeleroDetector:
    id = "velero"
    description = "Velero cluster backups (Schedule / Backup / Restore in velero.io)"
    kinds = {"velero": kind(
        "Cluster backups with Velero",
        schedules="count", backups="count", restores="count", storage_locations="count",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            if obj.group != "velero.io" or obj.kind not in KINDS:
                continue
            yield signal("velero", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                         schedules=int(obj.kind == "Schedule"),
                         backups=int(obj.kind == "Backup"),
                         restores=int(obj.kind == "Restore"),
                         storage_locations=int(obj.kind.endswith("Location")))
        yield from release_signals(doc, "velero", {"velero": {}})


DETECTOR = VeleroDetector()
