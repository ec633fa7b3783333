#!/usr/bin/env bash
# bench/run.sh: graceful's process runner against its peers, side by side
# in one run. Installs tini, dumb-init, catatonit and hyperfine with apt-get
# when missing (root), builds graceful, the stack floor and the probe, and
# prints a markdown report (also written to bench/out/report.md).
#
#   bash bench/run.sh            # full run (about 2 minutes)
#   QUICK=1 bash bench/run.sh    # fewer iterations, for a smoke test
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
go build -o "$bin/probe" ./bench/probe
cp bench/bench.hcl "$out/bench.hcl"
g="$bin/graceful"
pol="$out/bench.hcl"
# graceful reads ./graceful.yaml if present: run from a directory without one.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

median() { # hyperfine json -> median ms of command $2
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.3f" % (r["median"]*1000))' "$1" "$2"
}

{
echo "## Process runner: benchmark run of $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(go version | cut -d' ' -f3). Command: \`bash bench/run.sh\`."
echo

# 3. Start-up overhead.
hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/startup.json" \
  "$g run -- /bin/true" \
  "tini -s -- /bin/true" \
  "$bin/floor /bin/true" \
  "/bin/true" >&2
gs=$(median "$out/startup.json" 0); ts=$(median "$out/startup.json" 1)
fs=$(median "$out/startup.json" 2); bs=$(median "$out/startup.json" 3)
echo "### Start-up: \`graceful run -- /bin/true\` ($runs runs, hyperfine -N, median)"
echo
echo "| command | median ms |"
echo "|---|---|"
echo "| graceful run -- /bin/true | $gs |"
echo "| tini -s -- /bin/true | $ts |"
echo "| stack floor (bench/floor) /bin/true | $fs |"
echo "| /bin/true | $bs |"
echo
python3 -c 'import sys; g,t,f=map(float,sys.argv[1:]); print("graceful / tini = %.2fx, graceful / floor = %.2fx (target <= 1.2x)" % (g/t, g/f))' "$gs" "$ts" "$fs"
echo

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

# 5. Escalation precision.
echo "### Escalation: job ignores SIGTERM, SIGKILL due 500 ms after SIGTERM ($esc_n runs; lateness of the death)"
echo
echo "| supervisor | median ms late | p99 ms late |"
echo "|---|---|---|"
esc() { name=$1; shift; "$bin/probe" escalate "$esc_n" 500ms -- "$@" | awk -v n="$name" '{split($3,a,"=");split($4,b,"="); printf "| %s | %s | %s |\n", n, a[2], b[2]}'; }
esc graceful "$g" run --policy "$pol" --profile escalate --
esc "timeout -k 0.5s" timeout -k 0.5s 1000s
echo

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

# 7. Memory.
echo "### Resident set while supervising \`sleep 1\`"
echo
echo "| supervisor | VmRSS MiB |"
echo "|---|---|"
rss() { name=$1; shift; "$bin/probe" rss -- "$@" | awk -v n="$name" '{split($3,a,"="); printf "| %s | %s |\n", n, a[2]}'; }
rss graceful "$g" run --
rss "stack floor" "$bin/floor"
rss "tini -s" tini -s --
rss dumb-init dumb-init --
rss catatonit catatonit --
} | tee "$out/report.md"
