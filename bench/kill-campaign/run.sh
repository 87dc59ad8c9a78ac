#!/usr/bin/env bash
# Kill campaign: runs `sef-onnx train` on the embedded demo once uninterrupted, then in sequences, each of up to
# KILLS_PER_SEQUENCE SIGKILLs at random instants (every third sequence's first one in the first 3 s: JVM start, data
# check, graphs, initial checkpoint), each time restarting with the same command (with `--resume DIR` once the folder
# holds a run state, as a user would) until it finishes, until KILLS kills have landed. Every sequence must end
# identical to the uninterrupted run: checkpoints and export byte for byte, the run state and metrics but for their
# wall-clock fields, the same files and no leftovers, with no manual clean-up. Exits 1 when a sequence differs or a
# restart fails.
#
# Usage: bench/kill-campaign/run.sh [KILLS [WORK_DIR]]   (default 24 kills, a new temp dir)
# Env:   SEF_ONNX_JAR (default runtime-train/target/sef-onnx.jar, built by `mvn -pl runtime-train -am package`),
#        KILLS_PER_SEQUENCE (default 2), KILL_SEED (default 1). On a shared machine run it under the CPU lock: the kill
#        instants are scaled to the uninterrupted run's duration, measured first in the same conditions.
set -euo pipefail
target_kills=${1:-24}
work=${2:-$(mktemp -d -t sef-kill-XXXXXX)}
kills_per_sequence=${KILLS_PER_SEQUENCE:-2}
jar=${SEF_ONNX_JAR:-runtime-train/target/sef-onnx.jar}
[ -f "$jar" ] || { echo "$jar missing: build it with mvn -q -B -pl runtime-train -am package -DskipTests" >&2; exit 2; }
RANDOM=${KILL_SEED:-1}
# two short epochs of the demo (ResNet-18, 48 px): graphs, data check, two commits, export and report all happen
train_args=(--epochs 2 --max-batches-per-epoch 3 --batch-size 16 --threads 2 --workers 2 --device cpu)
mkdir -p "$work"
log="$work/campaign.log"
: >"$log"

machine() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
    "flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|fma' | sort -u | tr '\n' ' ')"
}

now_ms() { date +%s%3N; }

# what a folder holds after a kill, for the log: nothing, a marked start, a state after N epochs, or a finished run
phase() {
  local run=$1
  if [ ! -e "$run" ]; then echo "no folder"
  elif [ -f "$run/checkpoints/state.properties" ]; then
    local n; n=$(grep -m1 '^epochsCompleted=' "$run/checkpoints/state.properties" | cut -d= -f2)
    if [ -f "$run/summary.txt" ] && [ "$n" = 2 ]; then echo "state after $n epochs, summary written"
    else echo "state after $n epochs"; fi
  elif [ -e "$run/.sef-onnx-start" ]; then echo "unfinished start (marker)"
  elif [ -z "$(ls -A "$run")" ]; then echo "empty folder"
  else echo "files without state or marker: $(ls -A "$run" | tr '\n' ' ')"; fi
}

# the command a user reruns: the same one, or --resume once a run state exists
command_for() {
  local run=$1
  if [ -f "$run/checkpoints/state.properties" ]; then echo "train --resume $run"
  else echo "train --out $run ${train_args[*]}"; fi
}

# the run's results without wall-clock numbers: state (digest line dropped, img/s and seconds blanked), metrics,
# files that must be identical, the SHA-256 of checkpoints and export, and the list of files
fingerprint() {
  local run=$1
  (
    cd "$run"
    sed -E -e '/^state\.sha256=/d' -e 's/"(train_images_per_second|epoch_seconds)": [^,}]*/"\1": -/g' \
      checkpoints/state.properties
    sed -E 's/"(train_images_per_second|epoch_seconds)": [^,}]*/"\1": -/g' metrics.jsonl
    cat confusion-best.csv labels.txt export/labels.txt export/preprocessing.properties
    sed "s#$run#RUN#g" summary.txt # it names the export folder
    sha256sum checkpoints/*.ckpt export/model.onnx export/SHA256SUMS
    # report.html and the plots carry the timings; the rest of the listing must match
    find . -type f ! -path './demo-data/*' | sort
  )
}

machine | tee -a "$log"
echo "work: $work; jar: $jar; train ${train_args[*]}" | tee -a "$log"

reference="$work/reference"
t0=$(now_ms)
java -jar "$jar" train --out "$reference" "${train_args[@]}" >"$work/reference.out" 2>"$work/reference.err"
full_ms=$(( $(now_ms) - t0 ))
fingerprint "$reference" >"$work/reference.fingerprint"
echo "uninterrupted run: ${full_ms} ms" | tee -a "$log"
if grep -q . "$work/reference.err"; then echo "stderr of the uninterrupted run:" | tee -a "$log"; cat "$work/reference.err" | tee -a "$log"; fi

kills=0 identical=0 differing=0 failed=0 sequences=0 early=0
for ((s = 1; kills < target_kills; s++)); do
  sequences=$s
  run="$work/seq-$s"
  echo "sequence $s:" | tee -a "$log"
  for ((k = 1; ; k++)); do
    cmd=$(command_for "$run")
    if ((k <= kills_per_sequence)); then
      # every third sequence's first kill lands in the first 3 s, stepping through them; the others anywhere in a
      # run's length (a resumed run is shorter: its kills in the first 70 %)
      if ((k == 1 && s % 3 == 1)); then delay_ms=$(( 200 + (early * 700) % 2800 )); early=$((early + 1))
      elif ((k == 1)); then delay_ms=$(( RANDOM * full_ms / 32768 ))
      else delay_ms=$(( RANDOM * full_ms * 7 / 10 / 32768 )); fi
    else
      delay_ms=-1
    fi
    # shellcheck disable=SC2086
    java -jar "$jar" $cmd >>"$run.out" 2>>"$run.err" &
    pid=$!
    if ((delay_ms >= 0)); then
      sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
      kill -9 "$pid" 2>/dev/null || true
    fi
    set +e; wait "$pid" 2>/dev/null; rc=$?; set -e
    if ((rc == 137)); then # killed by the SIGKILL above (a run that ended first gives its own exit code)
      kills=$((kills + 1))
      echo "  kill $k at ${delay_ms} ms of \`$cmd\`: $(phase "$run")" | tee -a "$log"
      continue
    fi
    if ((rc != 0)); then
      echo "  \`$cmd\` exited $rc: $(tail -1 "$run.err")" | tee -a "$log"
      failed=$((failed + 1))
      break
    fi
    echo "  finished by \`$cmd\`" | tee -a "$log"
    if fingerprint "$run" | diff -q - "$work/reference.fingerprint" >/dev/null; then
      identical=$((identical + 1))
      echo "  identical to the uninterrupted run" | tee -a "$log"
    else
      differing=$((differing + 1))
      echo "  DIFFERS from the uninterrupted run:" | tee -a "$log"
      fingerprint "$run" | diff - "$work/reference.fingerprint" | head -20 | tee -a "$log" || true
    fi
    break
  done
done
grep -h -E 'warning|onnxruntime' "$work"/seq-*.err 2>/dev/null | sort | uniq -c | sed 's/^/stderr: /' | tee -a "$log" || true
echo "result: $kills kills in $sequences sequences; $identical identical, $differing differing, $failed failed restarts" \
  | tee -a "$log"
((differing == 0 && failed == 0 && identical == sequences))
