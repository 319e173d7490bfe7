"""Ansible: playbooks (a YAML list of plays with `hosts` and tasks/roles), role task files
`roles/<role>/tasks/main.yml`, and `ansible.cfg`; inventories and Molecule scenarios are looked
up in `conclude` from the file list."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from maturity_scan.sdk import Document, ParseError, RepoContext, Signal, kind, signal

PLAY_KEYS = {"tasks", "roles", "pre_tasks", "post_tasks", "handlers", "gather_facts", "become"}
_ROLE = re.compile(r"(?:^|/)roles/([^/]+)/tasks/main\.ya?ml$")
_INVENTORY = re.compile(r"(?:^|/)(inventor(?:y|ies)(?:/|\.ini$|\.ya?ml$)|hosts\.ini$|"
                        r"group_vars/|host_vars/)")
_MOLECULE = re.compile(r"(?:^|/)molecule/[^/]+/molecule\.ya?ml$")


class AnsibleDetector:
    id = "ansible"
    description = "Ansible playbooks, roles, ansible.cfg, inventories, Molecule tests"
    kinds = {"ansible": kind(
        "Configuration managed with Ansible",
        playbooks="count", roles="count", role_names="set", config="flag",
        inventories="flag", molecule="flag",
    )}
    patterns = ("ansible.cfg", "**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name == "ansible.cfg":
            if any(s in doc.ini.sections() for s in ("defaults", "inventory", "ssh_connection",
                                                       "privilege_escalation")):
                yield signal("ansible", doc.path, 1, "ansible.cfg", config=True)
            return
        m = _ROLE.search(doc.path)
        if m:
            tasks = doc.yaml
            if isinstance(tasks, list) and all(isinstance(t, dict) for t in tasks):
                yield signal("ansible", doc.path, 1, f"role {m.group(1)}", roles=1,
                             role_names=[m.group(1)])
            return
        if doc.path.startswith((".github/", ".gitlab")) or "hosts" not in doc.text and \
                "import_playbook" not in doc.text:
            return
        try:
            data = doc.yaml
        except ParseError:
            return  # a generic *.yaml claim: unrelated broken YAML is not ours
        if not isinstance(data, list) or not data:
            return
        plays = [p for p in data if isinstance(p, dict)]
        if len(plays) != len(data):
            return
        real = [p for p in plays if "hosts" in p and PLAY_KEYS & set(p) or
                "import_playbook" in p or "ansible.builtin.import_playbook" in p]
        if not real:
            return
        first = real[0]
        yield signal("ansible", doc.path, getattr(first, "line", 1) or 1,
                     f"playbook with {len(real)} play(s)", playbooks=1)

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterator[Signal]:
        if not found:
            return
        yield from found
        inv = next((p for p in sorted(repo.view.paths) if _INVENTORY.search(p)), None)
        if inv:
            yield signal("ansible", inv, None, "inventory", inventories=True)
        mol = next((p for p in sorted(repo.view.paths) if _MOLECULE.search(p)), None)
        if mol:
            yield signal("ansible", mol, None, "molecule scenario", molecule=True)


DETECTOR = AnsibleDetector()
