"""Export the langdetect 1.0.9 language profiles and normalisation tables as one gzipped JSON file.

Run once with Debian's python3-langdetect installed (`apt-get install python3-langdetect`):
    /usr/bin/python3 src/checks/ifeval/data/make_langdetect_data.py
The profiles come from Cybozu's language-detection (Apache-2.0), as packaged by langdetect (Apache-2.0).
"""
import gzip
import json
import os

import langdetect
from langdetect.utils import messages
from langdetect.utils.ngram import NGram

root = os.path.join(os.path.dirname(langdetect.__file__), "profiles")
langs, n_words, counts, grams, index = [], [], [], [], {}
for name in sorted(os.listdir(root)):
    with open(os.path.join(root, name), encoding="utf-8") as f:
        profile = json.load(f)
    langs.append(profile["name"])
    n_words.append(profile["n_words"])
    flat = []  # [gram index, count, gram index, count, ...]
    for gram, count in profile["freq"].items():
        if not 1 <= len(gram) <= 3:
            continue
        if gram not in index:
            index[gram] = len(grams)
            grams.append(gram)
        flat += [index[gram], count]
    counts.append(flat)
assert all("\t" not in g for g in grams)

data = {
    "source": "langdetect 1.0.9 profiles (Cybozu language-detection, Apache-2.0); see data/README.md",
    "langs": langs,
    "nWords": n_words,
    "grams": "\t".join(grams),
    "counts": counts,
    "latin1Excluded": NGram.LATIN1_EXCLUDED,
    "cjkClasses": list(NGram.CJK_CLASS),
    "viToNormalize": NGram.TO_NORMALIZE_VI_CHARS,
    "viDmark": NGram.DMARK_CLASS,
    "viNormalized": list(NGram.NORMALIZED_VI_CHARS),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "langdetect-profiles.json.gz")
with gzip.GzipFile(out, "wb", mtime=0) as f:
    f.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
print(out, os.path.getsize(out))
