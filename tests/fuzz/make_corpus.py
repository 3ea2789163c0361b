#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into corpus/ beside this script.

payload: one seed per command of the built-in definitions, in the order payload_fuzz numbers
them (definitions by id and version, then `create`, then the commands as listed): the first byte
picks the command (even: a full check, odd: partial), the rest is a payload that fills every field
with a plausible value. definition: the built-in definitions. router: requests written by hand
(corpus/router is kept as is). Run it again when a definition changes.
"""
import json
import pathlib
import shutil

here = pathlib.Path(__file__).resolve().parent
workflows = here.parent.parent / "workflows"
corpus = here / "corpus"

SAMPLES = {
    "string": "Единый подход",
    "text": "Методические материалы для практики",
    "integer": 3,
    "boolean": True,
    "date": "2026-12-28",
    "datetime": "2026-03-01T09:00:00Z",
    "ugps": "09.00.00",
    "deadline": {"recurring": {"every": "week", "weekday": "monday", "time": "12:00",
                               "until": "2026-12-28"}},
}
ORGS = {"umc": "umc-05", "fumo": "fumo-09.00.00", "business": "business-rspp",
        "roiv": "roiv-31", "ftpo": "ftpo-nnovgorod", "association": "assoc-05", "rumo": "rumo-77"}


def sample(spec):
    kind = spec.get("type", "string")
    if spec.get("enum"):
        return spec["enum"][0]
    if kind == "org":
        return ORGS.get(spec.get("org_kind", ""), "umc-05")
    if kind == "array":
        return [sample(spec.get("items", {"type": "string"}))]
    if kind == "object":
        return {k: sample(v) for k, v in spec.get("properties", {}).items()}
    return SAMPLES.get(kind, "x")


def main():
    payload_dir = corpus / "payload"
    definition_dir = corpus / "definition"
    for d in (payload_dir, definition_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    definitions = []
    for path in sorted(workflows.glob("*.v*.json")):
        doc = json.loads(path.read_text())
        definitions.append(((doc["workflow"], doc.get("version", 1)), doc))
        shutil.copy(path, definition_dir / path.name)
    definitions.sort(key=lambda d: d[0])
    index = 0
    for (wid, _), doc in definitions:
        commands = [("create", doc.get("create", {}))] + [(c["name"], c) for c in doc["commands"]]
        for name, command in commands:
            spec = command.get("payload", {})
            payload = {k: sample(v) for k, v in spec.items()}
            first = (index << 1) & 0xFF
            (payload_dir / f"{index:02d}-{wid}-{name}").write_bytes(
                bytes([first]) + json.dumps(payload, ensure_ascii=False).encode())
            index += 1


if __name__ == "__main__":
    main()
