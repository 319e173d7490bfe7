"""The rule graph rendered for people: Graphviz dot, Mermaid (renders on GitHub), node-link JSON."""
from __future__ import annotations

import json
import re

import networkx as nx


def _id(node: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", node)


def _label(g: nx.DiGraph, node: str) -> str:
    d = g.nodes[node]
    t = d.get("type")
    if t == "requirement":
        return f"{d['id']}\\n{d['title']}"
    if t == "level":
        return f"{d['dimension']} L{d['level']:g}" + (f" {d['name']}" if d.get("name") else "")
    if t == "dimension":
        return f"{d['title']} ({d['id']})"
    return node.split(":", 1)[1]


def render(g: nx.DiGraph, *, fmt: str = "mermaid") -> str:
    if fmt == "json":
        return json.dumps(nx.node_link_data(g, edges="edges"), indent=2, sort_keys=True) + "\n"
    nodes = sorted(g.nodes)
    edges = sorted(g.edges)
    if fmt == "dot":
        shapes = {"signal": "ellipse", "requirement": "box", "level": "diamond",
                  "dimension": "doubleoctagon"}
        out = [f'digraph "{g.graph.get("pack", "rules")}" {{', "  rankdir=LR;"]
        out += [f'  {_id(n)} [label="{_label(g, n)}", shape={shapes[g.nodes[n]["type"]]}];'
                for n in nodes]
        out += [f"  {_id(a)} -> {_id(b)};" for a, b in edges]
        return "\n".join(out) + "\n}\n"
    brackets = {"signal": ("([", "])"), "requirement": ("[", "]"), "level": ("{{", "}}"),
                "dimension": ("[[", "]]")}
    out = ["flowchart LR"]
    for n in nodes:
        a, b = brackets[g.nodes[n]["type"]]
        label = _label(g, n).replace("\\n", "<br/>").replace('"', "'")
        out.append(f'  {_id(n)}{a}"{label}"{b}')
    out += [f"  {_id(a)} --> {_id(b)}" for a, b in edges]
    return "\n".join(out) + "\n"
