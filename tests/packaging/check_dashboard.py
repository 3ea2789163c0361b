#!/usr/bin/env python3
"""Checks the Grafana dashboard: valid JSON, every panel with a query, no two panels with one id,
and every metric its queries name listed in docs/metrics.md (the metrics the server exposes), so
that a renamed metric cannot leave a panel empty without failing here."""
import json
import re
import sys

dashboard_path, metrics_doc_path = sys.argv[1], sys.argv[2]
dashboard = json.load(open(dashboard_path, encoding="utf-8"))
documented = set(re.findall(r"`((?:expertflow|process)_[a-z_]+)`", open(metrics_doc_path, encoding="utf-8").read()))
problems = []
ids = set()
queried = set()
for panel in dashboard["panels"]:
    if panel["id"] in ids:
        problems.append(f"panel id {panel['id']} twice")
    ids.add(panel["id"])
    if panel["type"] == "row":
        continue
    if not panel.get("targets"):
        problems.append(f"panel {panel['title']!r} has no query")
    for target in panel.get("targets", []):
        for name in re.findall(r"\b((?:expertflow|process)_[a-z_]+)", target["expr"]):
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            queried.add(family)
            if family not in documented and name not in documented:
                problems.append(f"panel {panel['title']!r} queries {name}, which docs/metrics.md does not list")
for variable in dashboard["templating"]["list"]:
    for name in re.findall(r"\b((?:expertflow|process)_[a-z_]+)", json.dumps(variable.get("query", ""))):
        if name not in documented:
            problems.append(f"variable {variable['name']!r} queries {name}, which docs/metrics.md does not list")
for p in problems:
    print(p)
print(f"{len(ids)} panels, {len(queried)} metrics queried, {len(problems)} problems")
sys.exit(1 if problems else 0)
