"""Reads `perf script -F comm,time,trace` of signal:signal_generate events
from stdin and prints, one per line in microseconds, how long the
supervisor whose command name is argv[1] took from a SIGTERM sent to it
to the SIGTERM it sent on (to the job): the supervisor's own part of a
forwarded or cancelling signal, without the sender's and the job's."""
import re
import sys

sup = sys.argv[1][:15]  # the kernel's comm is at most 15 characters
pending = None
for line in sys.stdin:
    m = re.match(r"\s*(.+?)\s+(\d+\.\d+):\s+sig=(\d+)\b.*\bcomm=(\S+)", line)
    if not m or m.group(3) != "15":
        continue
    sender, t, target = m.group(1), float(m.group(2)), m.group(4)
    if target == sup and sender != sup:
        pending = t
    elif sender == sup and target != sup and pending is not None:
        print("%.1f" % ((t - pending) * 1e6))
        pending = None
