#!/usr/bin/env bash
# bench/gpu/run.sh --dry-run: plays, on this CPU machine, the device calls of bench/gpu/README.md with the parts
# bench/gpu/stage.sh made, each call from its own folder of carried files (as the device tool lays them out) and
# the machine's state in its own folder, and checks what each must do:
#   1 three calls on a warm machine  parts 1..n-1 received, the last call unpacks and runs every section on the CPU
#                                    (tiny shapes): a table with a row from each section, exit 0
#   2 a bare machine                 only the last part arrives: RESTAGE naming each missing part, exit 75, in seconds
#   3 a damaged part                 a truncated part: RESTAGE naming it, exit 75
#   4 a changed jar                  one project jar changes: it alone is copied again, the stream is not unpacked again
#   5 a forced failure, a dying JVM  SEF_BENCH_FAIL makes a configuration throw, SEF_BENCH_HALT kills a section's JVM:
#                                    each is a FAILED row and the sections after it still run
# Prints PASS/FAIL per scenario and exits non-zero if any failed. Takes ~5 minutes on 2 cores.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ST="$HERE/stage"
[ -f "$ST/app/parts.sha256" ] || { echo "dry-run: no staged parts: run bench/gpu/stage.sh first" >&2; exit 1; }
D=${SEF_DRY_DIR:-/tmp/sef-dry}
rm -rf "$D" && mkdir -p "$D"
parts=$(grep -c ' part\.' "$ST/app/parts.sha256")
fails=0

check() {  # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then echo "PASS  $name"; else echo "FAIL  $name"; fails=$((fails + 1)); fi
}

# carry FOLDER N...: the carried files of one call (the app folder always, and the given parts)
carry() {
  local dir=$1; shift
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r "$ST/app" "$dir/app"
  for n in "$@"; do mkdir -p "$dir/$n" && cp "$ST/$n/part.$n" "$dir/$n/"; done
}

call() {  # call NAME MACHINE CARRIED ARGS...: one device call; output in $D/NAME.out, exit code in $D/NAME.rc
  local name=$1 machine=$2 carried=$3; shift 3
  (SEF_STAGE="$machine" SEF_CARRIED="$carried" OUT="$D/$name.OUT" bash "$HERE/run.sh" "$@" > "$D/$name.out" 2>&1)
  echo $? > "$D/$name.rc"
  echo "      call $name: exit $(cat "$D/$name.rc"), $(wc -l < "$D/$name.out") lines of output"
}
rc() { [ "$(cat "$D/$1.rc")" = "$2" ]; }
has() { grep -q -- "$2" "$1"; }
rows_of() { cut -f1 "$D/$1.OUT/rows.tsv" | sort -u | tr '\n' ' '; }

echo "== 1: three calls on a warm machine ($parts parts)"
M1="$D/machine-1"
for n in $(seq 1 $((parts - 1))); do
  carry "$D/carried-$n" "$n"
  call "receive-$n" "$M1" "$D/carried-$n" --receive
  check "call $n (--receive) keeps part $n" rc "receive-$n" 0
done
carry "$D/carried-$parts" "$parts"
call run "$M1" "$D/carried-$parts" --on-cpu
check "the last call exits 0" rc run 0
for sec in smoke equivalence throughput torch profile cudnn demo kernels; do
  check "the table has a $sec row" has "$D/run.OUT/table.txt" "^$sec "
done
check "no section failed on its own" bash -c "! grep -q 'FAILED\|TIMED OUT' '$D/run.OUT/rows.tsv'"
check "the equivalence passes CPU vs CPU" has "$D/run.OUT/rows.tsv" "verdict	.*PASS"
check "the step-0 value table came back" test -s "$D/run.OUT/opdiff.txt"
check "the profile summary came back" has "$D/run.OUT/profile.txt" "op type"
check "run.log came back" test -s "$D/run.OUT/run.log"

echo "== 2: a bare machine gets only the last part"
call bare "$D/machine-2" "$D/carried-$parts" --on-cpu --only smoke
check "RESTAGE, exit 75" rc bare 75
for n in $(seq 1 $((parts - 1))); do check "names part $n as missing" has "$D/bare.out" "RESTAGE: part $n missing"; done
check "nothing was run" test ! -e "$D/bare.OUT/rows.tsv"

echo "== 3: a damaged part"
carry "$D/carried-bad" 1
head -c 1000000 "$ST/1/part.1" > "$D/carried-bad/1/part.1"
call damaged "$D/machine-3" "$D/carried-bad" --receive
check "RESTAGE, exit 75" rc damaged 75
check "names part 1 as damaged" has "$D/damaged.out" "part 1 arrived damaged"

echo "== 4: a changed jar on the warm machine of scenario 1"
carry "$D/carried-app" 
(cd "$D" && mkdir -p jar-change && echo "changed for the dry run" > jar-change/DRY-RUN.txt \
  && jar uf "$D/carried-app/app/gpu-bench.jar" -C jar-change DRY-RUN.txt)
(cd "$D/carried-app/app" && sha256sum -- *.jar > app.sha256)
call changed "$M1" "$D/carried-app" --on-cpu --only smoke
check "exit 0" rc changed 0
check "one jar copied again" has "$D/changed.out" "project jars: 1 of .* changed since the last run: copied"
check "the stream is not unpacked again" has "$D/changed.out" "dependencies: unpacked already"

echo "== 5: a forced failure and a dying JVM"
(export SEF_BENCH_FAIL=throughput SEF_BENCH_HALT=profile; call faults "$M1" "$D/carried-app" --on-cpu --only throughput,profile,demo)
check "exit 0" rc faults 0
check "the forced failure is a FAILED row" has "$D/faults.OUT/rows.tsv" "^throughput.*FAILED: IllegalStateException: forced failure"
check "the dead JVM is a FAILED row" has "$D/faults.OUT/rows.tsv" "^profile	(section).*FAILED: the process exited with code"
check "the demo after them still ran" has "$D/faults.OUT/rows.tsv" "^demo	fp32 run 1"

echo
if [ "$fails" -eq 0 ]; then echo "dry run: every check passed (outputs in $D)"; else echo "dry run: $fails check(s) FAILED (outputs in $D)"; fi
exit $((fails > 0))
