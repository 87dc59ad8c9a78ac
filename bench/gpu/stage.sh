#!/usr/bin/env bash
# Builds, here, what bench/gpu/run.sh needs on a GPU machine that has no network and no JDK, in parts of at most
# 58 MiB under bench/gpu/stage/<n>/ (ignored by git; one device call carries at most 64 MiB of working tree):
#   jre.tgz   a jlink'd Temurin JRE (Temurin's carries its own libjpeg and freetype, which the training plots need)
#   lib.tgz   runtime-train's dependencies without the ORT natives jars, sef-onnx.jar, gpu-bench.jar
#   gpu-natives.part.*   the org.bytedeco:onnxruntime linux-x86_64-gpu jar's JavaCPP resource tree, tar | xz | split
# MVN_ARGS is passed to Maven (e.g. -Dmaven.repo.local=...); JLINK_JDK picks the JDK whose jlink runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ST="$HERE/stage"
PART_BYTES=$((58 * 1024 * 1024))   # + the ~3 MB working tree stays under a call's 64 MiB
rm -rf "$ST"
mkdir -p "$ST/tmp/lib"
(cd "$ROOT" && mvn -q -B ${MVN_ARGS:-} install -DskipTests -Pcuda)
(cd "$HERE" && mvn -q -B ${MVN_ARGS:-} package)

cp "$ROOT"/runtime-train/target/lib/*.jar "$ST/tmp/lib/"
GPUJAR=$(ls "$ST"/tmp/lib/onnxruntime-*-linux-x86_64-gpu.jar)
mkdir -p "$ST/tmp/natives"
(cd "$ST/tmp/natives" && unzip -q "$GPUJAR" 'org/*')
rm -f "$ST"/tmp/lib/onnxruntime-*-linux-x86_64*.jar
cp "$ROOT/runtime-train/target/sef-onnx.jar" "$HERE/target/gpu-bench.jar" "$ST/tmp/lib/"
tar czf "$ST/tmp/lib.tgz" -C "$ST/tmp" lib

JDK=${JLINK_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
"$JDK/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --output "$ST/tmp/jre"
tar czf "$ST/tmp/jre.tgz" -C "$ST/tmp" jre

tar c -C "$ST/tmp/natives" org | xz -T2 -6 | split -b "$PART_BYTES" - "$ST/tmp/gpu-natives.part."

n=1; used=0
mkdir -p "$ST/$n"
for f in jre.tgz lib.tgz $(cd "$ST/tmp" && ls gpu-natives.part.*); do
  bytes=$(stat -c %s "$ST/tmp/$f")
  if [ $((used + bytes)) -gt "$PART_BYTES" ] && [ "$used" -gt 0 ]; then n=$((n + 1)); used=0; mkdir -p "$ST/$n"; fi
  mv "$ST/tmp/$f" "$ST/$n/"
  used=$((used + bytes))
done
rm -rf "$ST/tmp"
du -sh "$ST"/*
echo "carry each of these folders in its own device call (bench/gpu/README.md), the last one with run.sh"
