#!/usr/bin/env bash
# CUDA check of sef-onnx training on a GPU machine without network or JDK (the device machine of this workplace).
# Expects $SEF_STAGE (default /tmp/sef) assembled beforehand, because one transfer carries at most 64 MiB:
#   jre.tgz (a jlink'd JRE, >= 17, with its own libjpeg/freetype: Temurin's; Debian's needs the host's libjpeg),
#   lib/*.jar (runtime-train/target/lib without the CPU natives, sef-onnx.jar,
#   bench/gpu-check's gpu-check.jar), gpu-natives.part.* (the linux-x86_64-gpu classifier's JavaCPP resource tree,
#   tar | xz | split). CUDA 13 and cuDNN 9 come from the PyTorch wheels already on that machine.
# Runs: the demo through `sef-onnx train --device cuda`, then GpuCheck (img/s on CUDA, first steps' losses vs the
# CPU) for the demo spec and for ResNet-50 at 448 px, batch 32.
set -uo pipefail
S=${SEF_STAGE:-/tmp/sef}
OUT=${OUT:-/tmp/sef-out}
mkdir -p "$OUT"
if [ ! -x "$S/jre/bin/java" ]; then
  tar xzf "$S/jre.tgz" -C "$S" && for d in "$S"/jre?*; do [ -d "$d" ] && mv "$d" "$S/jre"; done
fi
if [ ! -d "$S/gpu-natives/org" ]; then
  mkdir -p "$S/gpu-natives" && cat "$S"/gpu-natives.part.* | xz -d | tar x -C "$S/gpu-natives"
fi
NV=$(python3 -c "import nvidia; print(list(nvidia.__path__)[0])")
TORCHLIB=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
export LD_LIBRARY_PATH="$(find "$NV" -path '*/lib' -type d | tr '\n' ':')$TORCHLIB:${LD_LIBRARY_PATH:-}"
echo "== libraries the CUDA provider cannot find:"
ldd "$S/gpu-natives/org/bytedeco/onnxruntime/linux-x86_64-gpu/libonnxruntime_providers_cuda.so" | grep "not found" || echo none
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
CP="$S/gpu-natives:$(ls "$S"/lib/*.jar | tr '\n' ':')"
run() { "$S/jre/bin/java" -Xmx32g -cp "$CP" "$@"; }
echo "== demo on CUDA through the CLI (2 epochs)"
run org.sefonnx.train.cli.SefOnnx train --device auto --epochs 2 --out "$OUT/demo-cuda" 2>&1 | grep -vE '^epoch [0-9/]+ (train|test) \[' | tail -40
echo "== GpuCheck"
run org.sefonnx.bench.GpuCheck demo-r18 60 32 5 /tmp/sef-work 2>&1 | grep -E 'RESULT|step [0-9]|created|Exception|rror' | head -20
run org.sefonnx.bench.GpuCheck cub-r50 30 32 3 /tmp/sef-work 2>&1 | grep -E 'RESULT|step [0-9]|created|Exception|rror' | head -20
