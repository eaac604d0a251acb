#!/usr/bin/python3
"""Writes a signed TUF repository with N targets for the refresh benchmark.

usage: gen-tuf-repo.py OUTDIR N

OUTDIR/metadata holds 1.root.json, root.json, timestamp.json, snapshot.json, targets.json;
OUTDIR/targets holds one real target ("bench/target-0") so a download can be measured too; the
other N-1 entries are listed only. Uses Debian's python3-cryptography (ed25519).
"""
import datetime
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def canonical(obj):
    # OLPC canonical JSON for ASCII-only content: sorted keys, no whitespace.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def new_key():
    priv = Ed25519PrivateKey.generate()
    pub = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    key = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub}}
    return priv, key, hashlib.sha256(canonical(key)).hexdigest()


def sign(signed, priv, keyid):
    return {"signed": signed,
            "signatures": [{"keyid": keyid, "sig": priv.sign(canonical(signed)).hex()}]}


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    md = os.path.join(out, "metadata")
    os.makedirs(md, exist_ok=True)
    os.makedirs(os.path.join(out, "targets", "bench"), exist_ok=True)
    expires = (datetime.datetime.utcnow() + datetime.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = {r: new_key() for r in ("root", "timestamp", "snapshot", "targets")}

    root = {"_type": "root", "spec_version": "1.0.31", "version": 1, "expires": expires,
            "consistent_snapshot": False,
            "keys": {k[2]: k[1] for k in keys.values()},
            "roles": {r: {"keyids": [k[2]], "threshold": 1} for r, k in keys.items()}}

    payload = b"benchmark target\n"
    targets = {}
    for i in range(n):
        data = payload if i == 0 else b"%d" % i
        targets[f"bench/target-{i}"] = {"length": len(data),
                                        "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}
    with open(os.path.join(out, "targets", "bench", "target-0"), "wb") as f:
        f.write(payload)

    files = {}
    files["root"] = json.dumps(sign(root, keys["root"][0], keys["root"][2])).encode()
    tgt = {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": expires,
           "targets": targets}
    files["targets"] = json.dumps(sign(tgt, keys["targets"][0], keys["targets"][2])).encode()
    snap = {"_type": "snapshot", "spec_version": "1.0.31", "version": 1, "expires": expires,
            "meta": {"targets.json": {"version": 1, "length": len(files["targets"]),
                                      "hashes": {"sha256": hashlib.sha256(files["targets"]).hexdigest()}}}}
    files["snapshot"] = json.dumps(sign(snap, keys["snapshot"][0], keys["snapshot"][2])).encode()
    ts = {"_type": "timestamp", "spec_version": "1.0.31", "version": 1, "expires": expires,
          "meta": {"snapshot.json": {"version": 1, "length": len(files["snapshot"]),
                                     "hashes": {"sha256": hashlib.sha256(files["snapshot"]).hexdigest()}}}}
    files["timestamp"] = json.dumps(sign(ts, keys["timestamp"][0], keys["timestamp"][2])).encode()

    for role, data in files.items():
        with open(os.path.join(md, f"{role}.json"), "wb") as f:
            f.write(data)
    with open(os.path.join(md, "1.root.json"), "wb") as f:
        f.write(files["root"])


if __name__ == "__main__":
    main()
