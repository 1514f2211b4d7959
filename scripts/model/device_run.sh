#!/usr/bin/env bash
# One device call: train -> export -> verify -> package results into $OUT (at most 8 files, 16 MiB each).
#   bash scripts/model/device_run.sh smoke   # tiny end-to-end check (~1-2 min)
#   bash scripts/model/device_run.sh full    # the real model (~8 min)
# Needs (carried, gitignored): scripts/model/.work/corpus.txt.xz, scripts/model/.work/heldout.txt.xz
set -o pipefail
MODE=${1:-full}
TRAIN_SECONDS=${TRAIN_SECONDS:-330}
MAX_PASSES=${MAX_PASSES:-9}
OUT=${OUT:-/tmp/kvlab-out}
W=/tmp/kvlab; rm -rf $W; mkdir -p $W/model $OUT
export PYTHONUNBUFFERED=1
M=scripts/model
LOG=$OUT/log.txt
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee $LOG
python3 -c "import torch, transformers, tokenizers, onnx, onnxruntime; print('torch', torch.__version__, 'transformers', transformers.__version__, 'tokenizers', tokenizers.__version__, 'onnx', onnx.__version__, 'ort', onnxruntime.__version__)" 2>&1 | tee -a $LOG
if [ "$MODE" = smoke ]; then
  ARGS="--train-seconds 15 --max-docs 2000 --eval-every 5"
else
  ARGS="--train-seconds $TRAIN_SECONDS --max-passes $MAX_PASSES"
fi
python3 $M/train.py --corpus $M/.work/corpus.txt.xz --heldout $M/.work/heldout.txt.xz --out $W/model $ARGS 2>&1 | tee -a $LOG || exit 1
pack() {
  (cd $W/model && tar cf $OUT/small.tar $(ls *.json 2>/dev/null))
}
pack
# checkpoint first, so a later timeout still returns the trained weights
split -n 2 -d $W/model/model.safetensors $OUT/ckpt.safetensors.part-
python3 $M/export.py --model $W/model --out $W/model/onnx/model.onnx 2>&1 | tee -a $LOG || exit 2
split -n 2 -d $W/model/onnx/model.onnx $OUT/model.onnx.part-
python3 $M/verify.py --model $W/model --sample public/models/kvlab-16m/heldout-sample.txt --reference $W/model/reference.json 2>&1 | tee -a $LOG
RC=$?
pack
ls -la $OUT | tee -a $LOG
exit $RC
