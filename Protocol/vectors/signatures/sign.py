#!/usr/bin/env python3
"""Signs and checks ClusterSync changes as Protocol/changes.md §2.1 specifies, with the fixed test
keys of the vectors (the secret keys of RFC 8032 §7.1, tests 1 and 2; never use them for real).

    sign.py check                 re-checks vectors/signatures/changes.jsonl and batches.jsonl
    sign.py wire FILE...          (re)signs the transcripts' changes of replica 5f0c9e1a2b3c4d5e
                                  and adds its key to their hellos (not bad-signature.jsonl,
                                  whose bad signatures are on purpose)

Needs the `cryptography` package. The signed bytes are b"clustersync-change-v1\\n" followed by
the change's canonical text without "author" and "sig". Changes signed together (§2.2) sign
b"clustersync-changes-v2\\n" and the root of a SHA-256 tree over those bytes instead; their
"sig" is the signature, a full stop and the change's proof."""
import base64, json, sys
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization
import hashlib

KEYS = {
    # replica id: RFC 8032 §7.1 secret key
    "5f0c9e1a2b3c4d5e": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",  # test 1
    "00000000000000bb": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",  # test 2
}
CONTEXT = b"clustersync-change-v1\n"
BATCH_CONTEXT = b"clustersync-changes-v2\n"
BATCH_LIMIT = 16


def canonical(value):
    """Canonical JSON (changes.md §2): sorted keys, no white space, minimal escapes."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("\\b", "\\u0008").replace("\\f", "\\u000c")


def private(replica):
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(KEYS[replica]))


def public_b64(replica):
    raw = private(replica).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


KEYS_SIGNED = ("cluster", "field", "hlc", "id", "practice", "record", "seen", "sup", "tenant", "value")


def signed_bytes(change):
    # Unknown keys are not part of a change (changes.md §3.1): a decoder drops them.
    unsigned = {k: v for k, v in change.items() if k in KEYS_SIGNED and v is not None and v != []}
    return CONTEXT + canonical(unsigned).encode()


def sign(change, replica=None):
    replica = replica or change["id"].split("@")[1]
    return base64.b64encode(private(replica).sign(signed_bytes(change))).decode()


def leaf(change):
    return hashlib.sha256(b"\x00" + signed_bytes(change)).digest()


def node(a, b):
    return hashlib.sha256(b"\x01" + min(a, b) + max(a, b)).digest()


def tree(leaves):
    """Levels from the leaves up: pairs in order, an odd last node carried up as it is."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node(below[i], below[i + 1]) if i + 1 < len(below) else below[i] for i in range(0, len(below), 2)])
    return levels


def proof(levels, index):
    hashes = []
    for level in levels[:-1]:
        if index ^ 1 < len(level):
            hashes.append(level[index ^ 1])
        index //= 2
    return hashes


def sign_batch(changes, replica):
    """Each change with its "sig": BATCH_LIMIT at a time, a run of one alone (§2.2)."""
    out = []
    for start in range(0, len(changes), BATCH_LIMIT):
        run = changes[start:start + BATCH_LIMIT]
        if len(run) == 1:
            out.append(dict(run[0], sig=sign(run[0], replica)))
            continue
        levels = tree([leaf(c) for c in run])
        signature = private(replica).sign(BATCH_CONTEXT + levels[-1][0])
        for i, c in enumerate(run):
            text = base64.b64encode(signature).decode() + "." + base64.b64encode(b"".join(proof(levels, i))).decode()
            out.append(dict(c, sig=text))
    return out


def verify(change, key_b64):
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64))
        parts = change["sig"].split(".")
        if len(parts) == 1:
            key.verify(base64.b64decode(parts[0]), signed_bytes(change))
        else:
            hashes = base64.b64decode(parts[1])
            root = leaf(change)
            for i in range(0, len(hashes), 32):
                root = node(root, hashes[i:i + 32])
            key.verify(base64.b64decode(parts[0]), BATCH_CONTEXT + root)
        return True
    except Exception:
        return False


def sign_wire(path):
    own = "5f0c9e1a2b3c4d5e"
    out = []
    for line in Path(path).read_text().splitlines():
        entry = json.loads(line)
        message = entry.get("line")
        if entry.get("from") in ("client", "server") and isinstance(message, dict):
            if message.get("type") == "hello" and message.get("replica") == own:
                message["key"] = public_b64(own)
            for change in message.get("changes", []) if isinstance(message.get("changes"), list) else []:
                if isinstance(change, dict) and isinstance(change.get("id"), str) and change["id"].endswith("@" + own):
                    change["sig"] = sign(change, own)
        out.append(canonical(entry))
    Path(path).write_text("\n".join(out) + "\n")


def check():
    ok = True
    for line in (Path(__file__).parent / "changes.jsonl").read_text().splitlines():
        case = json.loads(line)
        got = verify(case["change"], case["key"])
        print(("ok  " if got == case["valid"] else "FAIL"), case["name"])
        ok = ok and got == case["valid"]
    for line in (Path(__file__).parent / "batches.jsonl").read_text().splitlines():
        case = json.loads(line)
        got = sign_batch(case["changes"], case["replica"]) == case["signed"]
        print(("ok  " if got else "FAIL"), case["name"])
        ok = ok and got
    return ok


if __name__ == "__main__":
    if sys.argv[1:2] == ["wire"]:
        for name in sys.argv[2:]:
            sign_wire(name)
    elif sys.argv[1:2] == ["check"]:
        sys.exit(0 if check() else 1)
    else:
        print(__doc__)
