#!/usr/bin/env bash
# bench/churn.sh: a churning process tree must not hold up the timeline
# (issue #9). The job's tree is N processes that ignore SIGTERM and re-fork
# every INTERVAL microseconds (cmd/graceful/testdata/c/churn.c); the
# profile signals the tree in sweep mode (--cgroup off): SIGTERM at t0,
# SIGKILL at +1 s, deadline +2 s; --timeout 500ms starts it.
#
# Reports, per configuration, how late the SIGKILL step's event was (its
# "+S.SSSs" against +1 s) and when graceful exited against the deadline.
#
#   bash bench/churn.sh          # 10 runs each of 300 procs @ 1 ms, 150 @ 10 ms
#   RUNS=3 bash bench/churn.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
runs=${RUNS:-10}
go build -o "$out/graceful" ./cmd/graceful
cc -O2 -o "$out/churn" cmd/graceful/testdata/c/churn.c
cp cmd/graceful/testdata/churn.hcl "$out/churn.hcl"

pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.1f", a[i]}'; }

echo "## Churning tree, sweep mode: benchmark run of $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores, $(uname -r). Command: \`bash bench/churn.sh\` ($runs runs each)."
echo
echo "| tree | SIGKILL step late by (ms): median / max | exit after the kill step (ms): median / max | exit vs deadline (ms): max | status | left behind |"
echo "|---|---|---|---|---|---|"
for cfg in "300 1000" "150 10000"; do
  set -- $cfg
  : > "$out/late.txt"; : > "$out/exit.txt"; : > "$out/vsdl.txt"
  statuses=""; left=0
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    set +e
    "$out/graceful" run --policy "$out/churn.hcl" --profile test -v --cgroup off --timeout 500ms -- "$out/churn" "$1" "$2" >/dev/null 2>"$out/churn.err"
    st=$?
    set -e
    end=$(date +%s%N)
    statuses="$statuses $st"
    kill_at=$(awk '/step:kill .*signal SIGKILL/ {sub(/^ *\+/, "", $1); sub(/s$/, "", $1); print $1; exit}' "$out/churn.err")
    wall_ms=$(( (end - start) / 1000000 ))
    echo "$kill_at" | awk '{printf "%.1f\n", ($1 - 1) * 1000}' >> "$out/late.txt"
    # t0 is at 0.5 s: the kill step is due at 1.5 s, the deadline at 2.5 s.
    echo "$wall_ms $kill_at" | awk '{printf "%.1f\n", $1 - 500 - $2 * 1000}' >> "$out/exit.txt"
    echo "$wall_ms" | awk '{printf "%.1f\n", $1 - 2500}' >> "$out/vsdl.txt"
    sleep 0.2 # killed ones may still be on their way out
    n=$(ps -eo stat=,comm= | awk '$2 == "churn" && $1 !~ /^Z/' | wc -l)
    left=$((left + n))
    [ "$n" -gt 0 ] && pkill -9 -x churn || true
  done
  echo "| $1 procs re-forking every $(( $2 / 1000 )) ms | $(pct 50 < "$out/late.txt") / $(pct 100 < "$out/late.txt") | $(pct 50 < "$out/exit.txt") / $(pct 100 < "$out/exit.txt") | $(pct 100 < "$out/vsdl.txt") | $(echo $statuses | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}') | $left |"
done
