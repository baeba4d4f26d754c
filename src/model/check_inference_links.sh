#!/usr/bin/env bash
# Fails when a binary that links quant::model alone loads the trainer's
# libraries (XGBoost, libonnx, protobuf): inference needs ONNX Runtime only.
# The binary is linked with --no-as-needed, so what ldd lists is the link line.
# Usage: check_inference_links.sh path/to/model_test
set -uo pipefail
binary=${1:?usage: $0 path/to/binary}
libs=$(ldd "$binary") || { echo "ldd failed on $binary"; exit 1; }
grep -q 'libonnxruntime\.so' <<<"$libs" || { echo "FAIL: $binary does not load ONNX Runtime: is it the right binary?"; exit 1; }
if found=$(grep -E 'libxgboost|libonnx\.so|libonnx_proto|libprotobuf' <<<"$libs"); then
  echo "FAIL: $binary links the trainer's libraries:"
  echo "$found"
  exit 1
fi
echo "ok: $binary loads ONNX Runtime and none of XGBoost, libonnx, protobuf"
