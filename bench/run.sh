#!/usr/bin/env bash
# bench/run.sh: graceful's process runner against its peers, side by side
# in one run. Installs tini, dumb-init, catatonit and hyperfine with apt-get
# when missing (root), builds graceful, the stack floor and the probe, and
# prints a markdown report (also written to bench/out/report.md).
#
#   bash bench/run.sh            # full run (about 9 minutes)
#   QUICK=1 bash bench/run.sh    # fewer iterations, for a smoke test (about 2)
#   LONG=0 bash bench/run.sh     # without the escalation at 9 s and 60 s
#
# Sizes can be set one by one: RUNS, FWD_N, ESC_N, ROUNDS, PAIRS_N (see below),
# GUARD_RUNS (start-up with the guardian, per command), ESC9_N, ESC60_N,
# ESC_LANES (long escalation), TEAR_N (zombie leader, SIGKILLed
# supervisor), REAP_ROUNDS, REAP_SECS (orphan churn). SECTIONS="reap
# guardkill" runs only those sections (names at want() below).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bench/out
bin=$out/bin
mkdir -p "$bin"

quick=${QUICK:-}
runs=${RUNS:-$([ -n "$quick" ] && echo 30 || echo 300)}
fwd_n=${FWD_N:-$([ -n "$quick" ] && echo 100 || echo 1000)}
esc_n=${ESC_N:-$([ -n "$quick" ] && echo 5 || echo 40)}
rounds=${ROUNDS:-$([ -n "$quick" ] && echo 3 || echo 10)}
pairs_n=${PAIRS_N:-$([ -n "$quick" ] && echo 50 || echo 400)}
guard_runs=${GUARD_RUNS:-$([ -n "$quick" ] && echo 10 || echo 50)}
long=${LONG:-1}
[ "$long" = 0 ] && long=
esc9_n=${ESC9_N:-$([ -n "$quick" ] && echo 2 || echo 40)}
esc60_n=${ESC60_N:-$([ -n "$quick" ] && echo 0 || echo 8)}
esc_lanes=${ESC_LANES:-$([ -n "$quick" ] && echo 2 || echo 8)}
# The escalations also time each SIGKILL in the kernel's signal trace
# (probe escalate ktrace=1), which needs root and tracefs.
esc_kt=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)
tear_n=${TEAR_N:-$([ -n "$quick" ] && echo 1 || echo 5)}
reap_rounds=${REAP_ROUNDS:-$([ -n "$quick" ] && echo 1 || echo 5)}
reap_secs=${REAP_SECS:-$([ -n "$quick" ] && echo 1 || echo 3)}

# 1. Peers.
need=()
for p in tini dumb-init catatonit hyperfine; do
  command -v "$p" >/dev/null || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# 2. Builds.
go build -o "$bin/graceful" ./cmd/graceful
go build -o "$bin/floor" ./bench/floor
# The release build (build/release.sh: static, no cgo) of both, for the
# start-up comparison as shipped: without the dynamic loader, which both
# pay in a plain build, the same difference weighs more.
release_build() { CGO_ENABLED=0 go build -buildmode=exe -trimpath -buildvcs=false -ldflags "-s -w" "$@"; }
release_build -o "$bin/graceful-static" ./cmd/graceful
release_build -o "$bin/floor-static" ./bench/floor
# The same two as a user has them, copied into place (install(1)): the
# linker writes its output through a shared mapping, a page at a time,
# and the page cache then holds the file in single pages; a file written
# in large writes (cp, install, tar, a package manager) or read back from
# disk is held in large folios, which the kernel maps, and unmaps at exit,
# with less work per page. Both binaries start about 0.5 ms sooner so
# (docs/performance.md, sixth round).
mkdir -p "$bin/installed"
install -m 755 "$bin/graceful-static" "$bin/floor-static" "$bin/installed/"
go build -o "$bin/probe" ./bench/probe
cc=
if command -v gcc >/dev/null; then
  gcc -O2 -o "$bin/subreaper" bench/c/subreaper.c &&
  gcc -O2 -o "$bin/orphans" bench/c/orphans.c &&
  gcc -O2 -pthread -o "$bin/zombieleader" cmd/graceful/testdata/c/zombieleader.c &&
  cc=1
fi
cp bench/bench.hcl "$out/bench.hcl"
g="$bin/graceful"
pol="$out/bench.hcl"
# graceful reads ./graceful.yaml if present: run from a directory without one.
work=$(mktemp -d)
# Every process of this run carries BENCH_RUN in its environment: on exit
# (an interrupt included) whatever is left of them is killed, and the
# probe's pids cgroups, named after it, are removed.
export BENCH_RUN="bench$$"
cleanup() {
  local e p
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}; p=${p%/environ}
    [ "$p" = $$ ] && continue
    grep -qzx "BENCH_RUN=$BENCH_RUN" "$e" 2>/dev/null && kill -9 "$p" 2>/dev/null
  done
  for e in /sys/fs/cgroup/pids/probe-reap-"$BENCH_RUN"-* /sys/fs/cgroup/probe-reap-"$BENCH_RUN"-* /sys/fs/cgroup/unified/probe-reap-"$BENCH_RUN"-*; do
    [ -d "$e" ] && { echo 1 > "$e/cgroup.kill" 2>/dev/null; rmdir "$e" 2>/dev/null; }
  done
  rm -rf "$work"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

# want NAME: whether section NAME runs (SECTIONS="NAME ...", default all:
# startup guard forward escalate long tree zombie guardkill reap rss).
want() { [ -z "${SECTIONS:-}" ] || [[ " $SECTIONS " == *" $1 "* ]]; }

# kv FILE EXPR: the probe's "mode key=value ..." lines of FILE as a list r
# of dicts (numbers where they parse, "never" as infinity), with med(xs)
# and mx(xs) and f(x) (a number, or "never"); prints EXPR's value.
kv() {
  python3 - "$1" "$2" <<'PY'
import sys
def num(v):
    if v == "never":
        return float("inf")
    try:
        return float(v)
    except ValueError:
        return v
r = [dict((k, num(v)) for k, _, v in (w.partition("=") for w in l.split()[1:])) for l in open(sys.argv[1]) if l.strip()]
med = lambda xs: sorted(xs)[(len(xs) - 1) // 2]
mx = max
f = lambda x: "never" if x == float("inf") else ("%g" % x)
print(eval(sys.argv[2]))
PY
}

# pairs_report WHAT NAME...: one line from probe pairs' output on stdin;
# a NAME for each command after the first (the floor).
pairs_report() {
  python3 -c '
import sys
what, labels = sys.argv[1], sys.argv[2:]
lines = sys.stdin.read().split("\n")
head = dict(kv.split("=", 1) for kv in lines[0].split()[1:])
rows = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in lines[1:] if l.startswith("pair ")]
ratios = ", ".join("%s / floor = %sx [95%%: %s-%s]" % (label, r["ratio"], r["lo"], r["hi"]) for label, r in zip(labels, rows))
print("%s in %s interleaved pairs: %s; medians %s ms (floor, %s)" % (
    what, head["n"], ratios, " / ".join([head["median_ms"]] + [r["median_ms"] for r in rows]), ", ".join(labels)))
print()
' "$@"
}

{
# This subshell stops at an interrupt too, whatever its current command
# made of it; the exit trap above then cleans up.
trap 'exit 130' INT TERM
echo "## Process runner: benchmark run of $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(go version | cut -d' ' -f3). Command: \`$(for v in QUICK LONG SECTIONS; do [ -n "${!v:-}" ] && printf '%s="%s" ' "$v" "${!v}"; done)bash bench/run.sh\`."
echo

if want startup; then
# 3. Start-up overhead. The machine may be shared: the runs are split into
# rounds, each running every command (in alternating order), and the
# medians pool all rounds, so a slow minute weighs on every command alike.
# The per-round ratios give the spread.
startup=("$g run -- /bin/true" "tini -s -- /bin/true" "$bin/floor /bin/true" "/bin/true"
         "$bin/graceful-static run -- /bin/true" "$bin/floor-static /bin/true"
         "$bin/graceful-static run --cgroup off -- /bin/true"
         "$bin/installed/graceful-static run -- /bin/true" "$bin/installed/floor-static /bin/true")
per=$(( (runs + rounds - 1) / rounds ))
rm -f "$out"/startup-*.json
for r in $(seq "$rounds"); do
  order=()
  if [ $((r % 2)) -eq 0 ]; then
    for ((i = ${#startup[@]} - 1; i >= 0; i--)); do order+=("${startup[i]}"); done
  else
    order=("${startup[@]}")
  fi
  hyperfine -N --warmup 5 --runs "$per" --export-json "$out/startup-$r.json" "${order[@]}" >&2
done
python3 - "$out" "$rounds" "$((per * rounds))" "${startup[@]}" <<'PY'
import json, statistics, sys
out, rounds, n, cmds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
times = {c: [] for c in cmds}
ratios, sratios, iratios = [], [], []  # graceful / floor per round: plain, release, release installed
for r in range(1, rounds + 1):
    med = {}
    for x in json.load(open("%s/startup-%d.json" % (out, r)))["results"]:
        times[x["command"]].extend(x["times"])
        med[x["command"]] = x["median"]
    ratios.append(med[cmds[0]] / med[cmds[2]])
    sratios.append(med[cmds[4]] / med[cmds[5]])
    iratios.append(med[cmds[7]] / med[cmds[8]])
m = {c: statistics.median(times[c]) * 1000 for c in cmds}
names = ["graceful run -- /bin/true", "tini -s -- /bin/true", "stack floor (bench/floor) /bin/true", "/bin/true",
         "graceful run -- /bin/true, release build", "stack floor, release build", "graceful run --cgroup off -- /bin/true, release build",
         "graceful run -- /bin/true, release build installed", "stack floor, release build installed"]
print("### Start-up: `graceful run -- /bin/true` (%s runs each in %d interleaved rounds, hyperfine -N, median)" % (n, rounds))
print()
print("| command | median ms |")
print("|---|---|")
for c, name in zip(cmds, names):
    print("| %s | %.3f |" % (name, m[c]))
print()
print("graceful / tini = %.2fx, graceful / floor = %.2fx (target <= 1.2x; per round %.2f-%.2fx)" % (
    m[cmds[0]] / m[cmds[1]], m[cmds[0]] / m[cmds[2]], min(ratios), max(ratios)))
print()
print("release build (static, as shipped): graceful / floor = %.2fx (per round %.2f-%.2fx), with --cgroup off %.2fx" % (
    m[cmds[4]] / m[cmds[5]], min(sratios), max(sratios), m[cmds[6]] / m[cmds[5]]))
print()
print("release build installed (both copied into place with install(1), as a user has them; see the builds): graceful / floor = %.2fx (per round %.2f-%.2fx)" % (
    m[cmds[7]] / m[cmds[8]], min(iratios), max(iratios)))
print()
PY
# The release builds once more in interleaved pairs (probe pairs): the
# median of the per-pair ratios with a bootstrap 95% interval, steadier
# on a shared machine than a ratio of pooled medians, for comparing
# builds. Not the target's measure: a command run right after graceful
# is 0.2 to 0.26 ms slower than right after the floor (after a copy of
# the floor, another file, 0.15 ms; after tini or /bin/true faster): what
# a Go process's exit leaves to the kernel, and caches warm for the same
# binary. The rounds above charge that to each command's own next run;
# interleaving spreads graceful's over the floor's runs.
"$bin/probe" pairs "$pairs_n" -- "$bin/floor-static" /bin/true ";;" \
  "$bin/graceful-static" run -- /bin/true ";;" "$bin/graceful-static" run --cgroup off -- /bin/true |
  pairs_report "release build (probe pairs; for comparing builds, not the target: see bench/run.sh)" \
    graceful "graceful --cgroup off"
# The same pairs with both release builds installed (copied into place,
# as a user has them; see the builds above).
"$bin/probe" pairs "$pairs_n" -- "$bin/installed/floor-static" /bin/true ";;" \
  "$bin/installed/graceful-static" run -- /bin/true |
  pairs_report "release builds installed (install(1): a copy, held in large folios, where the linker output above is held in single pages)" \
    graceful

fi

if want guard; then
# 3b. Start-up with the guardian: graceful starts it 200 ms into a run
# (cgroup mode only), so the job must outlive that: sleep 0.3. The same
# interleaved rounds. A 300 ms job hides the cost in its wall time, so the
# measure is the wall time over the bare job's (start-up plus exit); a
# 100 ms job under graceful (over before the guardian is due) and sleep 0.1
# give the guardian's share.
guard=("$g run -- /bin/sleep 0.3" "$g run --cgroup off -- /bin/sleep 0.3" "$bin/floor /bin/sleep 0.3" "/bin/sleep 0.3"
       "$g run -- /bin/sleep 0.1" "/bin/sleep 0.1")
seen=$("$g" run -- /bin/sh -c 'sleep 0.3; for c in /proc/[0-9]*/cmdline; do tr "\0" " " < "$c" 2>/dev/null; echo; done | grep -c "^[^ ]* __graceful-guard $PPID "' 2>/dev/null || true)
grounds=$([ "$guard_runs" -ge 20 ] && echo 5 || echo 2)
gper=$(( (guard_runs + grounds - 1) / grounds ))
rm -f "$out"/guard-*.json
for r in $(seq "$grounds"); do
  if [ $((r % 2)) -eq 0 ]; then
    order=("${guard[5]}" "${guard[4]}" "${guard[3]}" "${guard[2]}" "${guard[1]}" "${guard[0]}")
  else
    order=("${guard[@]}")
  fi
  hyperfine -N --warmup 2 --runs "$gper" --export-json "$out/guard-$r.json" "${order[@]}" >&2
done
python3 - "$out" "$grounds" "$((gper * grounds))" "${seen:-0}" "${guard[@]}" <<'PY'
import json, statistics, sys
out, rounds, n, seen, cmds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
bare = {0: 3, 1: 3, 2: 3, 4: 5}  # command -> its bare job
times = {c: [] for c in cmds}
ratios = []  # graceful / floor overhead over the bare job, per round
for r in range(1, rounds + 1):
    med = {}
    for x in json.load(open("%s/guard-%d.json" % (out, r)))["results"]:
        times[x["command"]].extend(x["times"])
        med[x["command"]] = x["median"]
    ratios.append((med[cmds[0]] - med[cmds[3]]) / (med[cmds[2]] - med[cmds[3]]))
m = [statistics.median(times[c]) * 1000 for c in cmds]
over = {i: m[i] - m[b] for i, b in bare.items()}
names = ["graceful run -- sleep 0.3 (cgroup auto: guardian started)", "graceful run --cgroup off -- sleep 0.3 (no guardian)",
         "stack floor (bench/floor) sleep 0.3", "sleep 0.3",
         "graceful run -- sleep 0.1 (cgroup auto, over before the guardian is due)", "sleep 0.1"]
print("### Start-up with the guardian: a job that outlives the guardian's start at 200 ms (%s runs each in %d interleaved rounds, hyperfine -N, median)" % (n, rounds))
print()
print("| command | median ms | over the bare job ms |")
print("|---|---|---|")
for i, name in enumerate(names):
    print("| %s | %.3f | %s |" % (name, m[i], "%.3f" % over[i] if i in over else "-"))
print()
print("Wall time graceful / floor = %.3fx. Over the bare job (start-up plus exit): graceful with the guardian / floor = %.2fx (per round %.2f-%.2fx), "
      "graceful --cgroup off / floor = %.2fx; what starts at 200 ms (the guardian and graceful's other settle work; cgroup auto, over the bare job at 0.3 s minus at 0.1 s) %.3f ms. "
      "A check run saw %s guardian process(es) 300 ms into a run."
      % (m[0] / m[2], over[0] / over[2], min(ratios), max(ratios), over[1] / over[2], over[0] - over[4], seen))
print()
PY

fi

if want forward; then
# 4. Signal forwarding latency.
echo "### Signal forwarding: SIGTERM to the supervisor until the job's handler runs ($fwd_n signals)"
echo
echo "| supervisor | median ms | p99 ms |"
echo "|---|---|---|"
fwd() { name=$1; shift; "$bin/probe" forward "$fwd_n" -- "$@" | awk -v n="$name" '{split($3,a,"=");split($4,b,"="); printf "| %s | %s | %s |\n", n, a[2], b[2]}'; }
fwd graceful "$g" run --policy "$pol" --profile forward --
fwd "tini -s" tini -s --
fwd dumb-init dumb-init --
fwd catatonit catatonit --
fwd "stack floor (Go, os/signal)" "$bin/floor"
echo "| (none: SIGTERM to the job itself) | $("$bin/probe" forward "$fwd_n" -- env | awk '{split($3,a,"=");split($4,b,"="); printf "%s | %s", a[2], b[2]}') |"
echo

# The first signal of a run, the one that cancels: a path nothing has
# warmed. graceful's container profile sends the job SIGTERM on the first
# SIGTERM; the floor forwards it. Soon after start (20 ms) and after
# graceful's start-up pages were dropped (300 ms; the trim is at 200 ms).
# Interleaved pairs (probe firstpairs: each round one run of each, in a
# random order), judged by the median of the per-pair ratios with its
# bootstrap interval, as start-up is: two medians taken minutes apart
# differ by more than the target allows. (Start-up pairs charge what one
# run's exit leaves to the kernel to the next run's wall time; here the
# signal comes 20 ms or more after the start, when that is done.)
first_n=$([ -n "${QUICK:-}" ] && echo 10 || echo 100)
# With perf (root), the supervisor's own part is measured as well: from
# the SIGTERM's generation for it to the one it generates for the job
# (signal:signal_generate events, bench/sigpairs.py), free of the
# probe's and the job's wake-ups, which are most of the noise above.
have_perf=
if command -v perf >/dev/null && [ "$(id -u)" = 0 ] &&
   perf record -q -o "$out/perf.check" -e signal:signal_generate -- true >/dev/null 2>&1; then
  have_perf=1
fi
rm -f "$out"/first-own-*.txt "$out/perf.check"
# first_pairs WAIT: probe firstpairs' output for the floor and graceful;
# with perf, each one's own latencies in $out/first-own-NAME-WAIT.txt.
first_pairs() {
  local w=$1
  set -- "$bin/probe" firstpairs "$first_n" "$w" -- "$bin/floor" ";;" "$g" run --profile container --
  if [ -z "$have_perf" ]; then
    "$@" 2>/dev/null
    return
  fi
  perf record -q -a -e signal:signal_generate -o "$out/first.perf" -- "$@" 2>/dev/null
  for name in graceful floor; do
    perf script -i "$out/first.perf" -F comm,time,trace 2>/dev/null |
      python3 "$root/bench/sigpairs.py" "$name" > "$out/first-own-$name-$w.txt"
  done
  rm -f "$out/first.perf"
}
echo "### First cancelling signal: one SIGTERM per run until the job's handler runs"
echo
for w in 20ms 300ms; do
  first_pairs "$w" | pairs_report "After $w, graceful (container profile) against the stack floor" graceful
done
if [ -n "$have_perf" ]; then
  echo "The supervisor's own part of the same runs (perf: SIGTERM generated for the supervisor to SIGTERM generated by it for the job):"
  echo
  echo "| after | graceful median / p90 us | stack floor median / p90 us | graceful / floor (median) |"
  echo "|---|---|---|---|"
  for w in 20ms 300ms; do
    python3 - "$w" "$out/first-own-graceful-$w.txt" "$out/first-own-floor-$w.txt" <<'PY'
import sys
w, gf, ff = sys.argv[1:]
def load(f):
    v = sorted(float(x) for x in open(f) if x.strip())
    return v[len(v) // 2], v[len(v) * 9 // 10], len(v)
(gm, gp, gn), (fm, fp, fn) = load(gf), load(ff)
print("| %s | %.0f / %.0f (n=%d) | %.0f / %.0f (n=%d) | %.2fx |" % (w, gm, gp, gn, fm, fp, fn, gm / fm))
PY
  done
  echo
fi

fi

# esc_rows: awk turning probe escalate's lines (escalate, escalate-kill)
# into table rows: supervisor, what is measured, median, p99 and, with
# long=1, min and max.
esc_rows='{split($3,a,"=");split($4,b,"=");split($5,c,"=");split($6,d,"=");
  m = ($1 == "escalate-kill") ? "SIGKILL sent (kernel trace)" : ($1 == "escalate-fwd") ? "its SIGTERM to the job sent (kernel trace; not late: after the cancel)" : "job seen dead (probe)";
  printf "| %s | %s | %s | %s |", n, m, a[2], b[2]; if (long) printf " %s | %s |", c[2], d[2]; printf "\n"}'
esc_note="(Two measures of each run, both from the probe's SIGTERM to the supervisor: when the supervisor's SIGKILL to the job was sent, both times from the kernel's signal:signal_generate tracepoint (run as root; the escalation itself), and when the probe, waiting on the job's pidfd at normal priority, saw the job dead (this adds the job's exit and the probe's own wake-up). A third row gives, from the same trace, how long after the probe's SIGTERM the supervisor sent its own SIGTERM to the job: its reaction to the cancel, from which both count the grace.)"

if want escalate; then
# 5. Escalation precision.
echo "### Escalation: job ignores SIGTERM, SIGKILL due 500 ms after SIGTERM ($esc_n runs; lateness of the death)"
echo
echo "| supervisor | measured | median ms late | p99 ms late |"
echo "|---|---|---|---|"
esc() { name=$1; shift; "$bin/probe" escalate "$esc_n" 500ms ktrace="$esc_kt" -- "$@" | awk -v n="$name" "$esc_rows"; }
esc graceful "$g" run --policy "$pol" --profile escalate --
esc "timeout -k 0.5s" timeout -k 0.5s 1000s
echo
echo "$esc_note"
echo

fi

if want long; then
# 5b. Escalation at real grace periods: 9 s (the built-in profiles') and
# 60 s. The SIGTERM comes 1 s after the start (after graceful's 200 ms
# settle, as a real cancel does). The runs mostly sleep, so they run in
# lanes (ESC_LANES supervisors at once, started 700 ms apart), and
# graceful's lanes and timeout's at the same time (350 ms apart).
if [ -z "$long" ]; then
  echo "(Escalation at 9 s and 60 s: skipped, LONG=0.)"
  echo
else
  for spec in "9s $esc9_n" "60s $esc60_n"; do
    set -- $spec
    if [ "$2" -eq 0 ]; then
      echo "(Escalation at $1: skipped in the quick run; ESC60_N=N to run it.)"
      echo
      continue
    fi
    lanes=$(( esc_lanes < $2 ? esc_lanes : $2 ))
    "$bin/probe" escalate "$2" "$1" lanes="$lanes" settle=1s ktrace="$esc_kt" -- "$g" run --policy "$pol" --profile "escalate$1" -- > "$out/esc-g-$1.txt" &
    gp=$!
    ( sleep 0.35; exec "$bin/probe" escalate "$2" "$1" lanes="$lanes" settle=1s ktrace="$esc_kt" -- timeout -k "$1" 1000s ) > "$out/esc-t-$1.txt" &
    tp=$!
    wait "$gp" "$tp"
    echo "### Escalation at a $1 grace: job ignores SIGTERM, SIGKILL due $1 after SIGTERM (n=$2 each; $lanes run(s) at a time per supervisor, graceful's and timeout's side by side; lateness of the death)"
    echo
    echo "| supervisor | measured | median ms late | p99 ms late | min ms | max ms |"
    echo "|---|---|---|---|---|---|"
    for f in "graceful g" "timeout -k $1 t"; do
      name=${f% *}
      awk -v n="$name" -v long=1 "$esc_rows" "$out/esc-${f##* }-$1.txt"
    done
    echo
    echo "$esc_note"
    echo
    echo "(p50 and p99 are the sorted samples at index floor(p*(n-1)): with n=$2 the p99 is the $(if [ "$2" -ge 3 ] && [ "$2" -le 101 ]; then echo "second largest"; elif [ "$2" -le 2 ]; then echo "smallest"; else echo "[0.99*(n-1)]th"; fi) sample; max is the worst run. Target: graceful p99 <= 2 ms. timeout -k arms a kernel timer: its SIGKILL's lateness is the kernel's timer and wake-up on this machine, its job's death adds this measurement's own floor here (SIGKILL delivery, the job's exit, the probe's wake-up).)"
    echo
  done
fi

fi

if want tree; then
# 6. Tree teardown.
echo "### Tree teardown: 100 descendants, half setsid + ignoring SIGTERM; one SIGTERM to the supervisor"
echo
echo "| supervisor | processes left | supervisor exit after SIGTERM ms | after the due kill ms |"
echo "|---|---|---|---|"
tree() { name=$1; shift; "$bin/probe" tree 500ms -- "$@" | awk -v n="$name" '{split($3,l,"=");split($4,e,"=");split($5,d,"="); printf "| %s | %s | %s | %s |\n", n, l[2], e[2], d[2]}'; }
tree "graceful (cgroup)" "$g" run --policy "$pol" --profile escalate --cgroup on --
tree "graceful (no cgroup)" "$g" run --policy "$pol" --profile escalate --cgroup off --
tree "tini -s" tini -s --
tree "tini -s -g" tini -s -g --
tree dumb-init dumb-init --
tree catatonit catatonit --
tree "timeout -k 0.5s" timeout -k 0.5s 1000s
echo
echo "(never: the supervisor had not exited 3.5 s after the SIGTERM; the probe SIGKILLed it, then counted. \"left\" counts the job's leader too: 101 is everything.)"
echo

fi

if want zombie; then
# 6b. Tree teardown with a zombie leader.
if [ -z "$cc" ]; then
  echo "(Zombie-leader teardown and orphan churn: skipped, no gcc.)"
  echo
else
  echo "### Tree teardown: a zombie leader (main thread gone by pthread_exit, a thread alive, setsid) escaped from the job (n=$tear_n each)"
  echo
  echo "| supervisor | job exits: left | supervisor exit after the job's, ms (median / max) | job cancelled: left | supervisor exit after SIGTERM, ms (median / max; SIGKILL due at 500) |"
  echo "|---|---|---|---|---|"
  zomb() {
    name=$1; shift
    row="| $name |"
    for mode in exit cancel; do
      : > "$out/zombie.txt"
      for _ in $(seq "$tear_n"); do
        "$bin/probe" zombie "$bin/zombieleader" "$mode" -- "$@" 2>/dev/null >> "$out/zombie.txt"
      done
      row="$row $(kv "$out/zombie.txt" '"%d of %d | %s / %s" % (sum(x["left"] for x in r), len(r), f(med([x["exit_ms"] for x in r])), f(mx(x["exit_ms"] for x in r)))') |"
    done
    echo "$row"
  }
  zomb "graceful (cgroup auto)" "$g" run --policy "$pol" --profile escalate --cgroup auto --
  zomb "graceful (cgroup off)" "$g" run --policy "$pol" --profile escalate --cgroup off --
  zomb "tini -s -g" tini -s -g --
  zomb dumb-init dumb-init --
  zomb "timeout -k 0.5s" timeout -k 0.5s 1000s
  echo
  echo "(left: the escaped process still had a live thread 100 ms after the supervisor exited. \"never\": the supervisor had not exited after 8 s. dumb-init sends SIGTERM to its child's process group when the child exits: it catches the escaping process only when that has not yet called setsid, a race.)"
  echo
fi

fi

if want guardkill; then
# 6c. Tree teardown with the supervisor SIGKILLed.
echo "### Tree teardown with the supervisor SIGKILLed: 100 descendants, half setsid + ignoring SIGTERM; SIGKILL to the supervisor 400 ms after its start (n=$tear_n each)"
echo
echo "| supervisor | job processes left at +100 ms (max) | left at +3 s (max) | last one gone, ms after the SIGKILL (median / max) | guardian gone, ms (max) | cgroup leaf left |"
echo "|---|---|---|---|---|---|"
gkill() {
  name=$1; shift
  : > "$out/guardkill.txt"
  for _ in $(seq "$tear_n"); do
    "$bin/probe" guardkill 400ms -- "$@" 2>/dev/null >> "$out/guardkill.txt"
  done
  echo "| $name | $(kv "$out/guardkill.txt" '"%d | %d | %s / %s | %s | %d" % (mx(x["left_100ms"] for x in r), mx(x["left_3s"] for x in r), f(med([x["zero_ms"] for x in r])), f(mx(x["zero_ms"] for x in r)), f(mx(x["guardian_gone_ms"] for x in r)) if any(x["guardians"] for x in r) else "(none)", sum(x["leaf_left"] for x in r))') |"
}
gkill "graceful (cgroup on)" "$g" run --cgroup on --
gkill "graceful (cgroup off)" "$g" run --cgroup off --
gkill "tini -s" tini -s --
gkill dumb-init dumb-init --
echo
echo "(\"left\" counts the job's processes, the leader included (101 is everything), not graceful's guardian. In sweep mode (--cgroup off) graceful has no guardian: the leader dies by its parent-death signal and the rest survive, a documented limit. never: not all gone 3 s after the SIGKILL; the probe then killed them.)"
echo

fi

if want reap; then
# 6d. The orphan reaper under churn.
if [ -z "$cc" ]; then
  :
elif ! why=$("$bin/probe" pidscheck); then
  echo "(Orphan reaper under churn: skipped, $why; needs root and a pids cgroup with pids.peak.)"
  echo
else
  reapers=("$bin/subreaper" "$g run --" "$g run --cgroup off --" "tini -s --")
  rnames=("waitpid(-1) loop (bench/c/subreaper.c)" "graceful (cgroup auto)" "graceful (cgroup off)" "tini -s")
  rm -f "$out"/reap-*.txt
  for r in $(seq "$reap_rounds"); do
    for i in "${!reapers[@]}"; do
      # shellcheck disable=SC2086
      "$bin/probe" reap "$bin/orphans" "$reap_secs" -- ${reapers[$i]} 2>/dev/null >> "$out/reap-$i.txt"
    done
  done
  echo "### Orphan reaper under churn: 100 orphans every 10 ms for $reap_secs s (processes made by clone(CLONE_VM), see bench/c/orphans.c), peak pids of the supervisor's pids cgroup (n=$reap_rounds each, interleaved)"
  echo
  echo "| supervisor | peak pids (median / max) | mean pids (median) | own tasks | orphans made per s | fork failures |"
  echo "|---|---|---|---|---|---|"
  for i in "${!reapers[@]}"; do
    echo "| ${rnames[$i]} | $(kv "$out/reap-$i.txt" '"%d / %d | %.0f | %d | %d | %d" % (med([x["peak"] for x in r]), mx(x["peak"] for x in r), med([x["mean"] for x in r]), mx(x["own"] for x in r), sum(x["orphans"] for x in r) / len(r) / '"$reap_secs"', sum(x["fork_failures"] for x in r))') |"
  done
  echo
  l=$(kv "$out/reap-0.txt" 'med([x["peak"] for x in r]), mx(x["own"] for x in r), med([x["mean"] for x in r])')
  for i in 1 2; do
    gr=$(kv "$out/reap-$i.txt" 'med([x["peak"] for x in r]), mx(x["own"] for x in r), med([x["mean"] for x in r])')
    python3 -c "l, lo, lm = $l; g, go, gm = $gr; print('${rnames[$i]} / loop, peak (medians) = %.2fx (target <= 1.5x); without each one\'s own tasks (threads, guardian) %.2fx; mean pids without own tasks %.2fx.' % (g / l, (g - go) / (l - lo), (gm - go) / (lm - lo)))"
    echo
  done
  echo "(pids.peak counts every task of the supervisor's cgroup: its threads, the job, the orphans and their zombies until reaped. \"own tasks\": the supervisor's threads (and its guardian's) 500 ms into the run. mean: pids.current sampled every 5 ms while the job ran. The job is CPU-bound on a small machine: a supervisor that takes more CPU leaves it fewer orphans per s, and the peak, a maximum, is noisy from run to run.)"
  echo
fi

fi

if want rss; then
# 7. Memory.
echo "### Resident set while supervising \`sleep 1\`"
echo
echo "| supervisor | VmRSS MiB |"
echo "|---|---|"
rss() { name=$1; shift; "$bin/probe" rss -- "$@" | awk -v n="$name" '{split($3,a,"="); printf "| %s | %s |\n", n, a[2]}'; }
"$bin/probe" rss -- "$g" run -- | awk '{split($3,a,"=");split($5,b,"="); printf "| graceful | %s |\n| graceful'"'"'s guardian (__graceful-guard; cgroup mode) | %s |\n", a[2], b[2]}'
rss "stack floor" "$bin/floor"
rss "tini -s" tini -s --
rss dumb-init dumb-init --
rss catatonit catatonit --
fi
} | tee "$out/report.md"
