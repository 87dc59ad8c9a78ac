#!/usr/bin/env bash
# Which shared libraries the linux-x86_64-gpu ORT natives need, and whether Maven Central provides them: runnable on
# a machine without a GPU (docs/cuda.md reports its result). Resolves runtime-train with -Pcuda,cuda-redist (about
# 510 MB of jars into the local repository on the first run; not part of `mvn -B test` for that reason), then
#   1. lists every library the natives NEED (readelf -d, recursively through what it finds) and where each one
#      resolves: a jar from Maven Central, a folder given with --lib-dir, the host's loader path, or nowhere;
#   2. starts `sef-onnx train --device cuda` on the demo with those jars and folders: with every library resolved it
#      must stop at CUDA's "no CUDA-capable device" (this machine has none); a missing library stops it earlier,
#      at the dynamic loader, and that is a failure.
# Exits 0 only when every library resolves and the trainer reaches the device check.
#
#   bench/gpu/cuda-libs-check.sh [--lib-dir DIR]...     (needs `mvn install -DskipTests -Pcuda` of the reactor first)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib-dir) extra+=("$(cd "$2" && pwd)"); shift ;;
    *) echo "usage: $0 [--lib-dir DIR]..." >&2; exit 2 ;;
  esac
  shift
done
T=$(mktemp -d "${TMPDIR:-/tmp}/sef-cudacheck.XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "== resolving runtime-train with -Pcuda,cuda-redist"
(cd "$ROOT" && mvn -q -B ${MVN_ARGS:-} -f runtime-train/pom.xml -Pcuda,cuda-redist dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$T/lib") || { echo "cannot resolve the jars (mvn install -Pcuda first?)"; exit 1; }
cp "$ROOT/runtime-train/target/sef-onnx.jar" "$T/lib/"
mkdir -p "$T/natives" "$T/redist"
(cd "$T/natives" && unzip -q -o "$T"/lib/onnxruntime-*-linux-x86_64-gpu.jar 'org/*')
(cd "$T/redist" && unzip -q -o "$T"/lib/cuda-redist-*.jar 'org/*')
NAT=$(ls -d "$T"/natives/org/bytedeco/onnxruntime/linux-x86_64-gpu)
RED=$(ls -d "$T"/redist/org/bytedeco/cuda/linux-x86_64)
echo "cuda-redist jar: $(basename "$(ls "$T"/lib/cuda-redist-*.jar)")"

echo "== libraries the natives need"
declare -A seen
queue=("$NAT/libonnxruntime_providers_cuda.so" "$NAT/libonnxruntime.so.1" "$NAT/libjnionnxruntime.so")
missing=()
where() {  # where SONAME: the first place that has it
  local lib=$1 d
  [ -e "$NAT/$lib" ] && { echo "the natives jar:$NAT/$lib"; return; }
  [ -e "$RED/$lib" ] && { echo "Maven Central (cuda-redist):$RED/$lib"; return; }
  for d in "${extra[@]}"; do [ -e "$d/$lib" ] && { echo "--lib-dir $d:$d/$lib"; return; }; done
  local sys
  sys=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l {print $NF; exit}')
  [ -n "$sys" ] && { echo "the host:$sys"; return; }
  echo "nowhere:"
}
while [ ${#queue[@]} -gt 0 ]; do
  f=${queue[0]}; queue=("${queue[@]:1}")
  for lib in $(readelf -d "$f" 2>/dev/null | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}'); do
    [ -n "${seen[$lib]:-}" ] && continue
    w=$(where "$lib"); seen[$lib]=1
    printf '  %-40s %s\n' "$lib" "${w%%:*}"
    case "$w" in
      nowhere:) missing+=("$lib") ;;
      "the host:"*) ;;  # libc, libstdc++ and friends: not followed further
      *) queue+=("${w#*:}") ;;
    esac
  done
done

echo "== starting the trainer on CUDA with these jars"
libpath=$(IFS=:; echo "${extra[*]:-}")
out=$(cd "$T" && LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" timeout 300 java \
  -Dorg.bytedeco.javacpp.logger.debug=true -cp "$T/natives:$T/lib/*" \
  org.sefonnx.train.cli.SefOnnx train --device cuda --epochs 1 --max-batches-per-epoch 1 --out "$T/run" 2>&1)
echo "$out" | grep -E 'Loading .*lib(cudart|cufft|curand|cublas|cublasLt|cudnn)[.]so' | sed 's/^.*Loading /  JavaCPP preloaded /' | sort -u
echo "$out" | grep -E -i 'cuda|cannot open shared object|error' | grep -v -E '^\s*at |Debug:' | head -8 | sed 's/^/  /'
reached=0
echo "$out" | grep -q -i -E 'no CUDA-capable device|cudaErrorNoDevice|CUDA driver version is insufficient|cudaGetDeviceCount' && reached=1

echo
if [ ${#missing[@]} -eq 0 ] && [ "$reached" = 1 ]; then
  echo "PASS: every library resolves, and loading stops only at the device check"
  exit 0
fi
[ ${#missing[@]} -gt 0 ] && echo "FAIL: not on Maven Central nor given: ${missing[*]} (docs/cuda.md: where to get them)"
[ "$reached" = 0 ] && echo "FAIL: the trainer did not reach CUDA's device check (its output is above)"
exit 1
