#!/usr/bin/env python3
"""Signs and checks ClusterSync changes as Protocol/changes.md §2.1 specifies, with the fixed test
keys of the vectors (the secret keys of RFC 8032 §7.1, tests 1 and 2; never use them for real).

    sign.py check                 re-checks vectors/signatures/changes.jsonl
    sign.py wire FILE...          (re)signs the transcripts' changes of replica 5f0c9e1a2b3c4d5e
                                  and adds its key to their hellos (not bad-signature.jsonl,
                                  whose bad signatures are on purpose)

Needs the `cryptography` package. The signed bytes are b"clustersync-change-v1\\n" followed by
the change's canonical text without "author" and "sig"."""
import base64, json, sys
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

KEYS = {
    # replica id: RFC 8032 §7.1 secret key
    "5f0c9e1a2b3c4d5e": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",  # test 1
    "00000000000000bb": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",  # test 2
}
CONTEXT = b"clustersync-change-v1\n"


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


def verify(change, key_b64):
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64)).verify(base64.b64decode(change["sig"]), signed_bytes(change))
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
    return ok


if __name__ == "__main__":
    if sys.argv[1:2] == ["wire"]:
        for name in sys.argv[2:]:
            sign_wire(name)
    elif sys.argv[1:2] == ["check"]:
        sys.exit(0 if check() else 1)
    else:
        print(__doc__)
