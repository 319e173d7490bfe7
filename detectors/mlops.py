"""MLOps tooling: MLflow `MLproject`, DVC pipelines (`dvc.yaml`, `.dvc/config`), Kubeflow
pipeline specs (KFP v2 IR or a KFP-compiled Argo Workflow), Airflow DAGs (Python read as text,
never imported), model serving/registry resources (KServe, Seldon) and BentoML `bentofile.yaml`."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from maturity_scan.detectors import _kube as kube
from maturity_scan.sdk import Document, Signal, kind, signal

_AIRFLOW = re.compile(r"^\s*(from\s+airflow(\.[\w.]+)?\s+import\b|import\s+airflow\b)", re.MULTILINE)
_DAG = re.compile(r"\bDAG\s*\(|@dag\b|\bwith\s+DAG\b|@(task\.)?dag\s*\(", re.MULTILINE)
SERVING = {"serving.kserve.io": "kserve", "serving.kubeflow.org": "kserve",
           "machinelearning.seldon.io": "seldon", "mlops.seldon.io": "seldon"}


class MlopsDetector:
    id = "mlops"
    description = "MLOps: MLflow projects, DVC, Kubeflow pipelines, Airflow DAGs, model serving"
    kinds = {"mlops": kind(
        "Machine-learning pipelines and model lifecycle tooling",
        tools="set", pipelines="count", dags="count",
    )}
    patterns = ("MLproject", "dvc.yaml", ".dvc/config", "bentofile.yaml", "**/dags/**/*.py",
                "**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        if name == "MLproject":
            data = doc.yaml
            if isinstance(data, dict) and ("entry_points" in data or "name" in data):
                yield signal("mlops", doc.path, data.line_of("entry_points") if
                             "entry_points" in data else 1, "MLflow project", tools=["mlflow"],
                             pipelines=1)
        elif name == "dvc.yaml":
            data = doc.yaml
            if isinstance(data, dict) and isinstance(data.get("stages"), dict):
                yield signal("mlops", doc.path, data.line_of("stages"),
                             f"DVC pipeline with {len(data['stages'])} stage(s)", tools=["dvc"],
                             pipelines=1)
        elif doc.path.endswith(".dvc/config"):
            if re.search(r"^\s*\[\s*(core|'?remote)", doc.text, re.MULTILINE):
                yield signal("mlops", doc.path, 1, "DVC repository", tools=["dvc"])
        elif name == "bentofile.yaml":
            data = doc.yaml
            if isinstance(data, dict) and "service" in data:
                yield signal("mlops", doc.path, data.line_of("service"), "BentoML service",
                             tools=["bentoml"])
        elif name.endswith(".py"):
            text = doc.text
            if _AIRFLOW.search(text) and _DAG.search(text):
                yield signal("mlops", doc.path, doc.line_of(_DAG), "Airflow DAG",
                             tools=["airflow"], dags=1)
        else:
            yield from self._yaml(doc)

    def _yaml(self, doc: Document) -> Iterator[Signal]:
        text = doc.text
        if "pipelineInfo" in text and "deploymentSpec" in text:
            for d in kube.documents(doc):
                if isinstance(d, dict) and "pipelineInfo" in d and "deploymentSpec" in d:
                    info = d["pipelineInfo"]
                    pname = info.get("name", "") if isinstance(info, dict) else ""
                    yield signal("mlops", doc.path, d.line_of("pipelineInfo"),
                                 f"Kubeflow pipeline {pname}".strip(), tools=["kubeflow"],
                                 pipelines=1)
            return
        if "kubeflow" not in text and "kserve" not in text and "seldon" not in text:
            return
        for obj in kube.objects(doc):
            if obj.group in SERVING:
                yield signal("mlops", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                             tools=[SERVING[obj.group]])
            elif obj.kind == "Workflow" and obj.group == "argoproj.io":
                meta = obj.body.get("metadata") if isinstance(obj.body, dict) else None
                ann = meta.get("annotations") if isinstance(meta, dict) else None
                if isinstance(ann, dict) and any("pipelines.kubeflow.org" in str(k)
                                                 for k in ann):
                    yield signal("mlops", doc.path, obj.line, f"Kubeflow pipeline {obj.name}",
                                 tools=["kubeflow"], pipelines=1)


DETECTOR = MlopsDetector()
