"""Export the langdetect 1.0.9 language profiles and normalisation tables as one compact binary file.

Run once with Debian's python3-langdetect installed (`apt-get install python3-langdetect`):
    /usr/bin/python3 src/checks/ifeval/data/make_langdetect_data.py
The profiles come from Cybozu's language-detection (Apache-2.0), as packaged by langdetect (Apache-2.0).

Layout (little-endian), read by src/checks/ifeval/langdetect.ts without parsing or decompressing the bulk:
  b"LDPB", u32 version (1), u32 header length, header JSON (UTF-8), zero padding to a multiple of 4;
  u16 × 3G: each n-gram as up to 3 character ids (1-based into header "chars"; 0 pads shorter n-grams);
  zero padding to a multiple of 4; then per language (header "entries" pairs each): u32 gram index, u32 count.
"""
import json
import os
import struct

import langdetect
from langdetect.utils.ngram import NGram

root = os.path.join(os.path.dirname(langdetect.__file__), "profiles")
langs, n_words, counts, grams, index = [], [], [], [], {}
for name in sorted(os.listdir(root)):
    with open(os.path.join(root, name), encoding="utf-8") as f:
        profile = json.load(f)
    langs.append(profile["name"])
    n_words.append(profile["n_words"])
    pairs = []  # (gram index, count)
    for gram, count in profile["freq"].items():
        if not 1 <= len(gram) <= 3:
            continue
        if gram not in index:
            index[gram] = len(grams)
            grams.append(gram)
        pairs.append((index[gram], count))
    counts.append(pairs)

chars, char_id = [], {}
for gram in grams:
    for ch in gram:
        if ch not in char_id:
            chars.append(ch)
            char_id[ch] = len(chars)  # 1-based; 0 pads
assert len(chars) < 65536 and all(0 <= c < 2**32 for pairs in counts for _, c in pairs)

header = json.dumps(
    {
        "source": "langdetect 1.0.9 profiles (Cybozu language-detection, Apache-2.0); see data/README.md",
        "langs": langs,
        "nWords": n_words,
        "chars": chars,
        "gramCount": len(grams),
        "entries": [len(pairs) for pairs in counts],
        "latin1Excluded": NGram.LATIN1_EXCLUDED,
        "cjkClasses": list(NGram.CJK_CLASS),
        "viToNormalize": NGram.TO_NORMALIZE_VI_CHARS,
        "viDmark": NGram.DMARK_CLASS,
        "viNormalized": list(NGram.NORMALIZED_VI_CHARS),
    },
    ensure_ascii=False,
    separators=(",", ":"),
).encode("utf-8")


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


ids = []
for gram in grams:
    row = [char_id[ch] for ch in gram] + [0] * (3 - len(gram))
    ids += row
body = pad4(b"LDPB" + struct.pack("<II", 1, len(header)) + header)
body += pad4(struct.pack(f"<{len(ids)}H", *ids))
body += b"".join(struct.pack(f"<{2 * len(p)}I", *[v for pair in p for v in pair]) for p in counts)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "langdetect-profiles.bin")
with open(out, "wb") as f:
    f.write(body)
print(out, os.path.getsize(out))
