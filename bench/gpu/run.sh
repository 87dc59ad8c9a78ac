#!/usr/bin/env bash
# The prepared GPU run of sef-onnx: everything the CUDA path must show, on one card, in one device call after the
# parts have arrived (bench/gpu/README.md gives the calls to paste). Sections, in the order they matter:
#   smoke        providers, the CUDA/cuDNN/driver versions the provider resolves, 3 CUDA steps of the demo in fp32
#                and fp16 (< 30 s; the run stops here when CUDA is unusable, so a broken set-up costs half a minute)
#   equivalence  CPU vs CUDA in true float32 (NVIDIA_TF32_OVERRIDE=0, use_tf32=0, cuDNN DEFAULT), a CUDA repeat as
#                the noise floor, every intermediate value of step 0 compared to name the op where they part, and
#                cuDNN's log of the same JVM checked for any backward convolution that did not run in FMA math
#   throughput   sef-onnx ResNet-50 + SEF, 448 px, batch 32: fp32 with each cuDNN search, fp16 with two; timed twice
#   torch        PyTorch eager, same model and card: fp32/AMP x NCHW/channels_last x cudnn.benchmark off/on, twice
#   profile      ORT's profiler (host time per op, Memcpy nodes, nodes left on the CPU), fp32 and fp16
#   cudnn        the convolution algorithms cuDNN ran (its API log; the forward's engines from its frontend log)
#   demo         the 2-epoch demo, fp32 twice (its spread) and fp16 twice, judged against that spread
#   kernels      the GPU's own time per kernel class (Nsight Compute), when ncu is on the PATH
# Every row is appended to $OUT/rows.tsv and flushed the moment it is measured, and the log's tail is copied into
# $OUT every 5 s, so a call killed at its limit still returns every row measured before; a section that cannot fit in
# what is left of --budget is a SKIPPED row, one that overruns its cap a TIMED OUT row, a JVM that dies a FAILED row.
#
#   bench/gpu/run.sh --receive          calls 1..n-1: check the parts this call carried and keep them (outside the
#                                       repository copy); exits at once
#   bench/gpu/run.sh [--only a,b] [--budget S] [--keep-going]
#                                       the last call: check every part and jar against the manifests (RESTAGE and
#                                       exit 75 when one is missing or damaged), unpack what changed, run
#   bench/gpu/run.sh --dry-run          here, on the CPU: plays the calls from separate folders (three calls, a bare
#                                       machine, a damaged part, a changed jar, a forced failure, a dying JVM) on the
#                                       staged parts and checks each outcome; needs bench/gpu/stage.sh first
#
# Files under $OUT: table.txt, rows.tsv, run.log, profile.txt, opdiff.txt, ort-profile-fp32.json.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CARRIED=${SEF_CARRIED:-$HERE/stage}  # where the device tool puts the carried folders: the repository copy
S=${SEF_STAGE:-/tmp/sef}             # outside the repository copy, kept while the machine stays warm
OUT=${OUT:-/tmp/sef-gpu-out}
WORK="$S/work"
RESTAGE=75

mode=run only="" budget="" keep_going=0 on_cpu=0
while [ $# -gt 0 ]; do
  case "$1" in
    --receive) mode=receive ;;
    --dry-run) mode=dry-run ;;
    --on-cpu) on_cpu=1 ;;  # the last call's path on the CPU at tiny shapes (what --dry-run plays)
    --only) only=",$2,"; shift ;;
    --budget) budget=$2; shift ;;
    --keep-going) keep_going=1 ;;
    *) echo "run.sh: unknown argument $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'run.sh: %s\n' "$*"; }
restage() { printf 'RESTAGE: %s\n' "$*"; exit "$RESTAGE"; }

# ---- the calls: receive parts, check manifests, unpack ------------------------------------------------------------

receive() {
  local app="$CARRIED/app" line hash file n held=() missing=()
  [ -f "$app/parts.sha256" ] && [ -f "$app/app.sha256" ] \
    || restage "bench/gpu/stage/app is missing: carry it in every call (bench/gpu/README.md)"
  (cd "$app" && sha256sum --quiet -c app.sha256 >/dev/null 2>&1) \
    || restage "a jar in bench/gpu/stage/app is damaged or missing: carry the folder again"
  mkdir -p "$S/parts"
  if ! cmp -s "$app/parts.sha256" "$S/parts/parts.sha256"; then
    rm -f "$S"/parts/part.* && cp "$app/parts.sha256" "$S/parts/parts.sha256"  # another stage: old parts are useless
  fi
  while read -r hash file; do
    case "$file" in part.*) ;; *) continue ;; esac
    n=${file#part.}
    if [ -f "$CARRIED/$n/$file" ]; then
      [ "$(sha256sum < "$CARRIED/$n/$file" | cut -d' ' -f1)" = "$hash" ] \
        || restage "part $n arrived damaged (its sha256 differs from the manifest): carry bench/gpu/stage/$n again"
      cp "$CARRIED/$n/$file" "$S/parts/$file.tmp" && mv "$S/parts/$file.tmp" "$S/parts/$file"
    fi
    if [ -f "$S/parts/$file" ] && [ "$(sha256sum < "$S/parts/$file" | cut -d' ' -f1)" = "$hash" ]; then
      held+=("$n")
    else
      rm -f "$S/parts/$file"
      missing+=("$n")
    fi
  done < <(grep -v '^#' "$app/parts.sha256")
  say "parts held: ${held[*]:-none}; missing: ${missing[*]:-none}"
  MISSING="${missing[*]:-}"
}

unpack() {
  local app="$CARRIED/app" want
  if [ -n "$MISSING" ]; then
    local m
    for m in $MISSING; do printf 'RESTAGE: part %s missing on this machine\n' "$m"; done
    restage "the machine started bare or was given back between calls: carry each missing part (with bench/gpu/stage/app) in its own call, then run this again"
  fi
  want=$(awk '$2 == "stream.xz" {print $1}' "$app/parts.sha256")
  if [ -n "$want" ] && [ "$(cat "$S/base/.stream.sha256" 2>/dev/null)" = "$want" ]; then
    say "dependencies: unpacked already (stream ${want:0:12})"
  else
    [ "$(cat "$S"/parts/part.* | sha256sum | cut -d' ' -f1)" = "$want" ] \
      || restage "the parts do not make the staged stream: run bench/gpu/stage.sh again and carry every part"
    rm -rf "$S/base.tmp" && mkdir -p "$S/base.tmp"
    cat "$S"/parts/part.* | xz -dc -T0 | tar -x -C "$S/base.tmp" || { say "unpacking failed"; exit 1; }
    echo "$want" > "$S/base.tmp/.stream.sha256"
    rm -rf "$S/base" && mv "$S/base.tmp" "$S/base"
    say "dependencies: unpacked (stream ${want:0:12}): $(du -sh "$S/base" | cut -f1)"
  fi
  if cmp -s "$app/app.sha256" "$S/app/app.sha256"; then
    say "project jars: unchanged since the last run"
  else
    local changed
    changed=$(sort "$app/app.sha256" | comm -23 - <(sort "$S/app/app.sha256" 2>/dev/null) | wc -l)
    rm -rf "$S/app.tmp" && mkdir -p "$S/app.tmp" && cp "$app"/*.jar "$app/app.sha256" "$S/app.tmp/"
    (cd "$S/app.tmp" && sha256sum --quiet -c app.sha256) || restage "bench/gpu/stage/app changed while copying: carry it again"
    rm -rf "$S/app" && mv "$S/app.tmp" "$S/app"
    rm -rf "$WORK/artifacts"  # generated by the old jars
    say "project jars: $changed of $(wc -l < "$app/app.sha256") changed since the last run: copied"
  fi
}

# ---- the sections -------------------------------------------------------------------------------------------------

ROWS="$OUT/rows.tsv"
LOG="$WORK/run.log"  # whole; $OUT/run.log is its last 8 MB (a returned file may not pass 16 MiB)

row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"; printf 'ROW | %s | %s | %s | %s | %s\n' "$@"; }

java_run() {  # java_run CAP SECTION [ENV=V ...] -- [args...]
  local cap=$1 section=$2; shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local dry=()
  [ "$on_cpu" = 1 ] && dry=(--dry-run)
  env "${envs[@]}" timeout -k 10 "$cap" "$S/base/jre/bin/java" --enable-native-access=ALL-UNNAMED -Xmx24g \
    -cp "$S/base/natives:$S/app/*:$S/base/lib/*" org.sefonnx.bench.gpu.GpuBench --section "$section" \
    --work "$WORK" --rows "$ROWS" --card "$CARD" "${dry[@]}" "$@" >> "$LOG" 2>&1
}

table() {
  local dry=()
  [ "$on_cpu" = 1 ] && dry=(--dry-run)
  timeout 60 "$S/base/jre/bin/java" -cp "$S/base/natives:$S/app/*:$S/base/lib/*" org.sefonnx.bench.gpu.GpuBench \
    --section table --work "$WORK" --rows "$ROWS" --card "$CARD" "${dry[@]}" > "$OUT/table.txt.tmp" 2>> "$LOG" \
    && mv "$OUT/table.txt.tmp" "$OUT/table.txt"
}

versions() {  # which CUDA libraries the provider resolves, and their versions: one row
  local so="$S/base/natives/org/bytedeco/onnxruntime/linux-x86_64-gpu/libonnxruntime_providers_cuda.so" lib path found=() lost=()
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcufft.so.12 libcudnn.so.9; do
    path=$(ldd "$so" 2>/dev/null | awk -v l="$lib" '$1 == l {print $3}')
    if [ -n "$path" ] && [ "$path" != "not" ]; then found+=("$lib=$(basename "$(readlink -f "$path")")"); else lost+=("$lib"); fi
  done
  local driver cuda cudnn wheels
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
  cuda=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -1)
  cudnn=$(python3 -c 'import torch; print(torch.backends.cudnn.version())' 2>/dev/null)
  wheels=$(python3 -m pip list 2>/dev/null | awk '/^nvidia-(cublas|cudnn|cuda-runtime|cufft)/ {printf "%s %s; ", $1, $2}')
  row smoke "CUDA libraries the provider resolves" "" "" \
    "${found[*]:-none}; driver $driver ($cuda); cuDNN $cudnn (as torch reports it, same files); wheels: $wheels"
  if [ ${#lost[@]} -gt 0 ]; then
    row smoke "CUDA libraries the provider cannot find" "-" "" "FAILED: ${lost[*]} (LD_LIBRARY_PATH: $LD_LIBRARY_PATH)"
    return 1
  fi
}

SECTION_ORDER="smoke equivalence throughput torch profile cudnn demo kernels"
estimate() {  # seconds a section needs on an H100 (from the first contact's timings) and the cap it runs under
  case "$1" in
    smoke) echo "30 90" ;; equivalence) echo "75 180" ;; throughput) echo "110 200" ;; torch) echo "90 150" ;;
    profile) echo "45 120" ;; cudnn) echo "30 90" ;; demo) echo "70 180" ;; kernels) echo "60 150" ;;
  esac
}

run_sections() {
  local start deadline sec est cap left rc
  start=$(date +%s)
  deadline=$((start + ${budget:-$([ "$on_cpu" = 1 ] && echo 1500 || echo 420)}))
  for sec in $SECTION_ORDER; do
    [ -n "$only" ] && [[ "$only" != *",$sec,"* ]] && continue
    read -r est cap <<< "$(estimate "$sec")"
    [ "$on_cpu" = 1 ] && cap=$((cap * 4))
    left=$((deadline - $(date +%s)))
    if [ "$left" -lt "$est" ]; then
      row "$sec" "(section)" "-" "" "SKIPPED: out of time (needs ~$est s, $left s left of the budget); rerun with --only $sec"
      continue
    fi
    [ "$cap" -gt "$left" ] && cap=$left
    echo "== $sec (cap $cap s) $(date -u +%H:%M:%S)" | tee -a "$LOG"
    rc=0
    case "$sec" in
      smoke)
        if [ "$on_cpu" = 1 ]; then row smoke "CUDA libraries" "" "" "dry run: no GPU, nothing resolved"
        else versions || { [ "$keep_going" = 1 ] || { table; say "stop: the CUDA provider's libraries are missing"; return; }; }; fi
        rm -f "$WORK/smoke.ok"
        java_run "$cap" smoke -- || rc=$? ;;
      equivalence) rm -f "$WORK"/cudnn-equivalence*.log
        java_run "$cap" equivalence NVIDIA_TF32_OVERRIDE=0 CUDNN_LOGLEVEL_DBG=3 CUDNN_LOGINFO_DBG=1 \
          CUDNN_LOGDEST_DBG="$WORK/cudnn-equivalence.log" CUDNN_FRONTEND_LOG_INFO=1 \
          CUDNN_FRONTEND_LOG_FILE="$WORK/cudnn-equivalence-frontend.log" -- || rc=$?
        cp "$WORK"/opdiff-demo-r18*.txt "$OUT/opdiff.txt" 2>/dev/null ;;
      throughput) java_run "$cap" throughput -- || rc=$? ;;
      torch)
        if [ "$on_cpu" = 1 ]; then row torch "all configurations" "-" "" "not run: PyTorch rows are GPU-only (dry run)"
        else PYTHONUNBUFFERED=1 timeout -k 10 "$cap" python3 "$HERE/torch_bench.py" --rows "$ROWS" --budget $((cap - 20)) >> "$LOG" 2>&1 || rc=$?; fi ;;
      profile) java_run "$cap" profile -- --report "$OUT/profile.txt" || rc=$?
        f="$WORK/ort-profile-fp32.json"
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt $((16 * 1024 * 1024)) ] && cp "$f" "$OUT/" ;;
      cudnn) rm -f "$WORK/cudnn.log"
        java_run "$cap" cudnn CUDNN_LOGLEVEL_DBG=3 CUDNN_LOGINFO_DBG=1 CUDNN_LOGDEST_DBG="$WORK/cudnn.log" \
          CUDNN_FRONTEND_LOG_INFO=1 CUDNN_FRONTEND_LOG_FILE="$WORK/cudnn-frontend.log" -- --report "$OUT/profile.txt" || rc=$?
        # the forward convolutions go through cuDNN's frontend (graph API): its log names the engines it chose
        if [ -s "$WORK/cudnn-frontend.log" ]; then
          { echo "== cuDNN frontend log (forward convolutions): $(wc -l < "$WORK/cudnn-frontend.log") lines; the engine lines:"
            grep -i -E 'engine|heur|plan' "$WORK/cudnn-frontend.log" | sed 's/^[[:space:]]*//' | sort | uniq -c | sort -rn | head -40
          } >> "$OUT/profile.txt"
        fi ;;
      demo) java_run "$cap" demo -- || rc=$? ;;
      kernels)
        if ! command -v ncu >/dev/null; then row kernels "(section)" "-" "" "skipped: no ncu on the PATH"
        else
          rm -f "$WORK/ncu.csv"
          timeout -k 10 "$cap" ncu --target-processes all --clock-control none --metrics gpu__time_duration.sum --csv \
            --page raw --launch-count 6000 --log-file "$WORK/ncu.csv" "$S/base/jre/bin/java" --enable-native-access=ALL-UNNAMED \
            -Xmx24g -cp "$S/base/natives:$S/app/*:$S/base/lib/*" org.sefonnx.bench.gpu.GpuBench --section kernels \
            --work "$WORK" --rows "$ROWS" --card "$CARD" >> "$LOG" 2>&1 || rc=$?
          java_run 60 kernels-summary -- --csv "$WORK/ncu.csv" --report "$OUT/profile.txt" || true
        fi ;;
    esac
    case "$rc" in
      0) ;;
      124|137) row "$sec" "(section)" "-" "" "TIMED OUT after $cap s (the rows above it were measured before; run.log has the rest)" ;;
      *) row "$sec" "(section)" "-" "" "FAILED: the process exited with code $rc (run.log has its output)" ;;
    esac
    table
    if [ "$sec" = smoke ] && [ ! -f "$WORK/smoke.ok" ] && [ "$keep_going" = 0 ]; then
      row smoke "(run)" "-" "" "STOPPED: the demo did not train on CUDA; every later section needs it (run.log says why)"
      table
      return
    fi
  done
}

# ---- main ---------------------------------------------------------------------------------------------------------

if [ "$mode" = dry-run ]; then exec bash "$HERE/dry-run.sh"; fi

receive
[ "$mode" = receive ] && exit 0
unpack
mkdir -p "$OUT" "$WORK"
: > "$ROWS"
: > "$LOG"
copy_log() { tail -c 8000000 "$LOG" > "$OUT/run.log.tmp" 2>/dev/null && mv "$OUT/run.log.tmp" "$OUT/run.log"; }
( while sleep 5; do copy_log; done ) &
copier=$!
trap 'kill $copier 2>/dev/null; copy_log' EXIT

if [ "$on_cpu" = 1 ]; then
  CARD="CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
else
  # CUDA 13 and cuDNN 9 come from the PyTorch wheels of the GPU machine (docs/cuda.md: what the natives need)
  NV=$(python3 -c "import nvidia; print(list(nvidia.__path__)[0])" 2>/dev/null)
  TORCHLIB=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))" 2>/dev/null)
  export LD_LIBRARY_PATH="$( [ -n "$NV" ] && find "$NV" -path '*/lib' -type d | tr '\n' ':')$TORCHLIB:${LD_LIBRARY_PATH:-}"
  CARD=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader | tee -a "$LOG"
fi
say "card: $CARD; budget ${budget:-default} s; sections: ${only:-all}" | tee -a "$LOG"
run_sections
kill "$copier" 2>/dev/null
copy_log
table
echo
cat "$OUT/table.txt"
