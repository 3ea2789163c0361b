#!/usr/bin/env python3
"""Re-check an expertflow export (NDJSON of {"seq", "hash", "record"}) with nothing but SHA-256.

hash(n) = SHA-256(raw 32 bytes of hash(n-1) || UTF-8 bytes of record(n)), hash(0) = 32 zero bytes,
and record(n) carries "prev_hash" = hex of hash(n-1) and its own "seq". Exit 0 when the chain holds.
Usage: verify_export.py EXPORT.ndjson [EXPECTED_HEAD_HASH]"""
import hashlib, json, sys

prev, seq = bytes(32), 0
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    entry = json.loads(line)
    seq += 1
    record = json.loads(entry["record"])
    if entry["seq"] != seq or record["seq"] != seq or record["prev_hash"] != prev.hex():
        sys.exit(f"BROKEN at seq {seq}: out of order, or not chained to the event before")
    digest = hashlib.sha256(prev + entry["record"].encode("utf-8")).digest()
    if digest.hex() != entry["hash"]:
        sys.exit(f"BROKEN at seq {seq}: the hash does not match the record")
    prev = digest
if len(sys.argv) > 2 and sys.argv[2] != prev.hex():
    sys.exit(f"BROKEN: head hash {prev.hex()} is not the expected {sys.argv[2]}")
print(f"ok: {seq} events, head hash {prev.hex()}")
