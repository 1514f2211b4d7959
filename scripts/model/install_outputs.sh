#!/usr/bin/env bash
# Rejoin what device_run.sh left in $OUT (fetched to DIR by the device tool) and install it:
#   bash scripts/model/install_outputs.sh /work/.device/N
# -> public/models/kvlab-16m/{onnx/model.onnx,config.json,generation_config.json,tokenizer*.json,special_tokens_map.json}
#    tests/fixtures/model/reference.json
#    scripts/model/.work/run/{model.safetensors (fp16 checkpoint), train_stats.json, log.txt, ...}  (not committed)
set -euo pipefail
D=${1:?usage: install_outputs.sh DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M=$ROOT/public/models/kvlab-16m
R=$ROOT/scripts/model/.work/run
mkdir -p "$M/onnx" "$R" "$ROOT/tests/fixtures/model"
tar xf "$D/small.tar" -C "$R"
cp "$D/log.txt" "$R/"
cat "$D"/ckpt.safetensors.part-* > "$R/model.safetensors"
cat "$D"/model.onnx.part-* > "$M/onnx/model.onnx"
cp "$R"/{config,generation_config,tokenizer,tokenizer_config,special_tokens_map}.json "$M/"
cp "$R/reference.json" "$ROOT/tests/fixtures/model/reference.json"
ls -l "$M" "$M/onnx"; du -sh "$M"
