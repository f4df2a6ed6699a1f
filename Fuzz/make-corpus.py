#!/usr/bin/env python3
"""Writes libFuzzer seed corpora from Protocol/vectors/: one file per input.

Usage: make-corpus.py VECTORS_DIR OUT_DIR. Writes OUT_DIR/<target>/seed-<n> for FuzzWireCodec
(every transcript line, client's and server's), FuzzChangeCodec (every change and value of the
change vectors), FuzzLineDecoder (whole transcripts as byte streams, with a generous and a
tight line limit) and FuzzAuthorName (the names of Protocol/vectors/authors/). Existing files are kept, so what the fuzzer found earlier stays in the corpus.
"""
import json
import pathlib
import sys

vectors, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def as_line(line):
    """A vector's line is either the JSON object sent or, for broken input, its raw text."""
    return line if isinstance(line, str) else canonical(line)


seeds = {"FuzzWireCodec": set(), "FuzzChangeCodec": set(), "FuzzLineDecoder": set(), "FuzzAuthorName": set()}

for path in sorted((vectors / "wire").glob("*.jsonl")):
    stream = []
    for text in path.read_text(encoding="utf-8").split("\n"):
        if not text:
            continue
        entry = json.loads(text)
        if "line" not in entry:
            continue
        line = as_line(entry["line"]).encode()
        seeds["FuzzWireCodec"].add(line)
        stream.append(line)
        if isinstance(entry["line"], dict):
            for change in entry["line"].get("changes", []):
                seeds["FuzzChangeCodec"].add(canonical(change).encode())
    whole = b"\n".join(stream) + b"\n"
    seeds["FuzzLineDecoder"].add(b"\xff\xff" + whole)           # 8 KiB limit, one read
    seeds["FuzzLineDecoder"].add(b"\xff\x07" + whole)           # 8 KiB limit, short reads
    seeds["FuzzLineDecoder"].add(b"\x1f\x03" + whole[:400])     # 32-byte limit: refused

for path in sorted((vectors / "changes").glob("*.jsonl")):
    for text in path.read_text(encoding="utf-8").split("\n"):
        if not text:
            continue
        entry = json.loads(text)
        if "line" in entry and "code" in entry:
            seeds["FuzzChangeCodec"].add(as_line(entry["line"]).encode())
        else:
            seeds["FuzzChangeCodec"].add(canonical(entry).encode())
            if "value" in entry:
                seeds["FuzzChangeCodec"].add(canonical(entry["value"]).encode())

for path in sorted((vectors / "authors").glob("*.jsonl")):
    for text in path.read_text(encoding="utf-8").split("\n"):
        if not text:
            continue
        entry = json.loads(text)
        for key in ("name", "author", "stored"):
            if isinstance(entry.get(key), str):
                seeds["FuzzAuthorName"].add(entry[key].encode())

for target, inputs in seeds.items():
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(sorted(inputs)):
        (folder / f"seed-{n:04d}").write_bytes(data)
    print(f"{target}: {len(inputs)} seeds in {folder}")
