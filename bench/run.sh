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
rounds=${ROUNDS:-$([ -n "$quick" ] && echo 3 || echo 10)}

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

{
echo "## Process runner: benchmark run of $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(go version | cut -d' ' -f3). Command: \`bash bench/run.sh\`."
echo

# 3. Start-up overhead. The machine may be shared: the runs are split into
# rounds, each running every command (in alternating order), and the
# medians pool all rounds, so a slow minute weighs on every command alike.
# The per-round ratios give the spread.
startup=("$g run -- /bin/true" "tini -s -- /bin/true" "$bin/floor /bin/true" "/bin/true")
per=$(( (runs + rounds - 1) / rounds ))
rm -f "$out"/startup-*.json
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 0 ]; then
    order=("${startup[3]}" "${startup[2]}" "${startup[1]}" "${startup[0]}")
  else
    order=("${startup[@]}")
  fi
  hyperfine -N --warmup 5 --runs "$per" --export-json "$out/startup-$r.json" "${order[@]}" >&2
done
python3 - "$out" "$rounds" "$((per * rounds))" "${startup[@]}" <<'PY'
import json, statistics, sys
out, rounds, n, cmds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
times = {c: [] for c in cmds}
ratios = []  # graceful / floor, per round
for r in range(1, rounds + 1):
    med = {}
    for x in json.load(open("%s/startup-%d.json" % (out, r)))["results"]:
        times[x["command"]].extend(x["times"])
        med[x["command"]] = x["median"]
    ratios.append(med[cmds[0]] / med[cmds[2]])
m = {c: statistics.median(times[c]) * 1000 for c in cmds}
names = ["graceful run -- /bin/true", "tini -s -- /bin/true", "stack floor (bench/floor) /bin/true", "/bin/true"]
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
PY

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
