#!/usr/bin/env bash
# Builds, on a machine with Maven and a JDK, everything bench/gpu/run.sh needs on a GPU machine that has no network
# and no JDK, in pieces that each fit one device call (a call carries at most 64 MiB of working tree):
#
#   bench/gpu/stage/1..n/part.N   one xz -9 stream (a jlink'd JRE with only the modules the jars use, the third-party
#                                 jars without the CPU-only ORT natives, the linux-x86_64-gpu ORT natives) cut into
#                                 at most three parts; they change only when a dependency changes
#   bench/gpu/stage/app/          the project's own jars (a few MB: sef-onnx.jar, the module jars, gpu-bench.jar)
#                                 and the manifests every call checks first: parts.sha256 (each part and the
#                                 whole stream) and app.sha256 (each jar); carried in every call, so that a Java
#                                 fix reruns in one call
#
#   bench/gpu/stage.sh             everything (builds the reactor with -Pcuda first)
#   bench/gpu/stage.sh --app-only  rebuilds the project's jars and app.sha256 only; the parts stay as they are
#                                  (refused when the third-party jars changed: then stage everything again)
#
# MVN_ARGS is passed to Maven (e.g. -Dmaven.repo.local=...); JLINK_JDK picks the JDK whose jlink/jdeps run
# (Temurin's: its JRE carries its own libjpeg and freetype, which the plots need).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ST="$HERE/stage"
JDK=${JLINK_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
MIB=$((1024 * 1024))
CALL_LIMIT=$((64 * MIB))  # the device tool's limit on what one call carries
PART_CAP=$((60 * MIB))
MAX_PARTS=3
APP_ONLY=0
[ "${1:-}" = "--app-only" ] && APP_ONLY=1

say() { printf 'stage.sh: %s\n' "$*"; }
die() { printf 'stage.sh: %s\n' "$*" >&2; exit 1; }
[ -x "$JDK/bin/jlink" ] || die "no jlink at $JDK/bin/jlink: set JLINK_JDK to a JDK 17+ (Temurin's, for its own libjpeg)"

(cd "$ROOT" && mvn -q -B ${MVN_ARGS:-} install -DskipTests -Pcuda)
(cd "$HERE" && mvn -q -B ${MVN_ARGS:-} package)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sef-stage.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/app" "$TMP/lib"
for j in "$ROOT"/runtime-train/target/lib/*.jar; do
  case "$(basename "$j")" in
    sef-onnx-*.jar) cp "$j" "$TMP/app/" ;;                      # the project's module jars
    onnxruntime-*-linux-x86_64*.jar) ;;                        # natives: the GPU ones go in unpacked below
    # the oneDNN natives (27 MB) stay, although no session uses oneDNN: bytedeco's onnxruntime preset inherits
    # the dnnl preset, so loading ORT loads jnidnnl (and libdnnl.so.3) first, and fails without them
    *) cp "$j" "$TMP/lib/" ;;
  esac
done
cp "$ROOT/runtime-train/target/sef-onnx.jar" "$HERE/target/gpu-bench.jar" "$TMP/app/"
GPUJAR=$(ls "$ROOT"/runtime-train/target/lib/onnxruntime-*-linux-x86_64-gpu.jar 2>/dev/null) \
  || die "runtime-train/target/lib has no linux-x86_64-gpu ORT natives: did the -Pcuda build run?"
# the third-party jars' fingerprint: --app-only must not ship jars whose dependencies are not in the parts
(cd "$TMP/lib" && sha256sum -- *.jar) > "$TMP/app/lib.sha256"
sha256sum "$GPUJAR" | awk '{print $1 "  natives/" FILENAME}' FILENAME="$(basename "$GPUJAR")" >> "$TMP/app/lib.sha256"

if [ "$APP_ONLY" = 1 ]; then
  [ -f "$ST/app/parts.sha256" ] || die "--app-only needs a full stage first (no $ST/app/parts.sha256)"
  cmp -s "$TMP/app/lib.sha256" "$ST/app/lib.sha256" \
    || die "the third-party jars or natives changed since the parts were made: run bench/gpu/stage.sh without --app-only"
  cp "$ST/app/parts.sha256" "$TMP/app/"
else
  mkdir -p "$TMP/stream/natives"
  (cd "$TMP/stream/natives" && unzip -q "$GPUJAR" 'org/*')
  mv "$TMP/lib" "$TMP/stream/lib"
  # only the modules the jars use (jdeps), plus jdk.unsupported (JavaCPP's Unsafe) and the extra charsets, which
  # the JDK finds by service lookup and jdeps cannot see
  modules=$("$JDK/bin/jdeps" --multi-release 17 --ignore-missing-deps --print-module-deps \
    --class-path "$TMP/stream/lib/*:$TMP/app/*" "$TMP"/app/*.jar "$TMP"/stream/lib/*.jar 2>/dev/null | tail -1)
  [ -n "$modules" ] || die "jdeps printed no module list"
  modules="$modules,jdk.unsupported,jdk.charsets"
  "$JDK/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress zip-0 \
    --output "$TMP/stream/jre"
  say "JRE modules: $modules"
  tar -C "$TMP/stream" -cf - jre lib natives | xz -9e -T2 > "$TMP/stream.xz"
  stream_bytes=$(stat -c %s "$TMP/stream.xz")

  # each call carries one part, the app folder and the tracked tree: size the parts so that all three fit
  tree_bytes=$(cd "$ROOT" && git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
  app_bytes=$(du -sb "$TMP/app" | cut -f1)
  room=$((CALL_LIMIT - tree_bytes - app_bytes - 2 * MIB))  # 2 MiB for the manifests and untracked odds and ends
  [ "$room" -gt "$PART_CAP" ] && room=$PART_CAP
  parts=$(((stream_bytes + room - 1) / room))
  [ "$parts" -le "$MAX_PARTS" ] || die "the stream is $((stream_bytes / MIB)) MiB: $parts parts of $((room / MIB)) MiB, more than $MAX_PARTS"
  part_bytes=$(((stream_bytes + parts - 1) / parts))
  (cd "$TMP" && split -a 1 --numeric-suffixes=1 -b "$part_bytes" stream.xz part.)
  {
    echo "# $parts parts of one xz stream; the stream's hash last (bench/gpu/run.sh checks both)"
    (cd "$TMP" && sha256sum part.*)
    (cd "$TMP" && sha256sum stream.xz)
  } > "$TMP/app/parts.sha256"
  rm -rf "$ST"
  for n in $(seq 1 "$parts"); do mkdir -p "$ST/$n" && mv "$TMP/part.$n" "$ST/$n/"; done
fi

(cd "$TMP/app" && sha256sum -- *.jar) > "$TMP/app/app.sha256"
rm -rf "$ST/app.new" && mv "$TMP/app" "$ST/app.new" && rm -rf "$ST/app" && mv "$ST/app.new" "$ST/app"

echo
for d in "$ST"/*/; do printf '  %-28s %6.1f MiB\n' "bench/gpu/stage/$(basename "$d")" "$(du -sb "$d" | awk -v m=$MIB '{print $1 / m}')"; done
tree_mib=$(cd "$ROOT" && git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk -v m=$MIB '{s += $1} END {printf "%.1f", s / m}')
echo "  (the tracked tree travels with every call: $tree_mib MiB)"
echo "Carry each numbered folder with the app folder in its own device call, back to back (bench/gpu/README.md)."
