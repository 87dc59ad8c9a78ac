#!/usr/bin/env bash
# One prepared GPU run of sef-onnx against PyTorch (issue 11), ~8 minutes on one card including unpacking, printing
# one table (bench/gpu/README.md says what each row is):
#   PyTorch eager, same SEF model, ResNet-50 448 px batch 32: fp32/TF32 and AMP fp16, NCHW and channels_last;
#   sef-onnx fp32 with each cuDNN algorithm search mode, and fp16 mixed precision;
#   CPU vs CUDA with TF32 off, 20 steps, demo spec and ResNet-50 at 64 px (every loss term within 1e-3 relative);
#   a 2-epoch demo run in fp16 next to fp32 (top-1 within 1 point);
#   each throughput as a share of the card's dense peak.
#
#   bench/gpu/run.sh --dry-run   here, on the CPU: the Java side at tiny shapes, fp32 only (fp16 says why it is
#                                skipped); needs `mvn install -DskipTests` of the reactor first (MVN_ARGS is passed on)
#   bench/gpu/run.sh             on the GPU machine, after bench/gpu/stage.sh's parts were carried there
#                                (README.md: the calls); writes $OUT/table.txt, torch-rows.tsv, gpu-bench.log
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/sef-gpu-out}
WORK=${SEF_WORK:-/tmp/sef-gpu-work}
mkdir -p "$OUT" "$WORK"

if [ "${1:-}" = "--dry-run" ]; then
  (cd "$HERE" && mvn -q -B ${MVN_ARGS:-} package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt) || exit 1
  java -cp "$HERE/target/gpu-bench.jar:$(cat "$HERE/target/classpath.txt")" org.sefonnx.bench.gpu.GpuBench --dry-run \
    --work "$WORK" --card "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores" | tee "$OUT/table.txt"
  exit "${PIPESTATUS[0]}"
fi

# ---- on the GPU machine: unpack what stage.sh made (carried parts land in bench/gpu/stage/<n>/) ----
S=${SEF_STAGE:-/tmp/sef}
mkdir -p "$S"
for part in "$HERE"/stage/*/; do [ -d "$part" ] && cp -n "$part"* "$S"/ 2>/dev/null; done
if [ ! -x "$S/jre/bin/java" ]; then
  tar xzf "$S/jre.tgz" -C "$S" || { echo "run.sh: $S/jre.tgz missing: carry stage.sh's parts first"; exit 1; }
fi
if [ ! -d "$S/lib" ]; then tar xzf "$S/lib.tgz" -C "$S" || exit 1; fi
if [ ! -d "$S/gpu-natives/org" ]; then
  mkdir -p "$S/gpu-natives" && cat "$S"/gpu-natives.part.* | xz -d | tar x -C "$S/gpu-natives" || exit 1
fi
# CUDA 13 and cuDNN 9 come from the PyTorch wheels already on that machine
NV=$(python3 -c "import nvidia; print(list(nvidia.__path__)[0])")
TORCHLIB=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
export LD_LIBRARY_PATH="$(find "$NV" -path '*/lib' -type d | tr '\n' ':')$TORCHLIB:${LD_LIBRARY_PATH:-}"
echo "== libraries the CUDA provider cannot find:"
ldd "$S/gpu-natives/org/bytedeco/onnxruntime/linux-x86_64-gpu/libonnxruntime_providers_cuda.so" | grep "not found" || echo none
CARD=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader
echo "== PyTorch eager (about 1 minute)"
timeout 300 python3 "$HERE/torch_bench.py" --rows "$OUT/torch-rows.tsv" 2>&1 | tail -8
echo "== sef-onnx (about 5 minutes)"
"$S/jre/bin/java" -Xmx48g -cp "$S/gpu-natives:$S/lib/*" org.sefonnx.bench.gpu.GpuBench --work "$WORK" --card "$CARD" \
  --torch-rows "$OUT/torch-rows.tsv" | tee "$OUT/table.txt"
status=${PIPESTATUS[0]}
cp "$WORK/gpu-bench.log" "$OUT/" 2>/dev/null
exit "$status"
