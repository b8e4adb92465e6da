"""Turns the statements the API ran for each benchmark request (captured from the
PostgreSQL log with their parameters) into one pgbench script per request, so pgbench can
run exactly the same SQL.

    python3 bench/pgbench_scripts.py <postgres log> <output dir>

Requests are delimited in the log by `select 'bench-marker:<class>:<n>'` statements that
bench/search.sh issues before each request; statements of the outbox worker (and
transaction control, which only it issues) are ignored.
"""
import os
import re
import sys

log_path, out_dir = sys.argv[1], sys.argv[2]
entry = re.compile(r"^\S+ \S+ \S+ \[\d+\] (LOG|DETAIL):\s+(.*)$")
param = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")

records = []  # (kind, text) with continuation lines joined
with open(log_path, encoding="utf-8", errors="replace") as log:
    for line in log:
        m = entry.match(line.rstrip("\n"))
        if m:
            records.append([m.group(1), m.group(2)])
        elif records and line.startswith("\t"):
            records[-1][1] += "\n" + line[1:].rstrip("\n")

scripts = {}  # (class, n) -> [sql]
current = None
pending = None
for kind, text in records:
    if kind == "LOG":
        if pending is not None and current is not None:
            scripts[current].append(pending[0])
        pending = None
        m = re.search(r"(?:statement|execute [^:]*): (.*)$", text, re.S)
        if not m:
            continue
        sql = m.group(1)
        marker = re.match(r"select 'bench-marker:([a-z0-9_]+):(\d+)'", sql)
        if marker:
            current = (marker.group(1), int(marker.group(2)))
            scripts[current] = []
        elif (current is not None and "outbox_email" not in sql and "bench-marker" not in sql
              # The outbox worker's own transaction: a search runs none.
              and not re.match(r"\s*(begin|commit|rollback)\b", sql, re.I)):
            pending = [sql]
    elif kind == "DETAIL" and pending is not None and text.lower().startswith("parameters:"):
        values = {int(n): v for n, v in param.findall(text)}
        pending[0] = re.sub(r"\$(\d+)", lambda m: values[int(m.group(1))], pending[0])
if pending is not None and current is not None:
    scripts[current].append(pending[0])

os.makedirs(out_dir, exist_ok=True)
counts = {}
for (cls, n), statements in sorted(scripts.items()):
    if not statements:
        continue
    path = os.path.join(out_dir, f"{cls}-{n:03d}.sql")
    with open(path, "w", encoding="utf-8") as f:
        for sql in statements:
            # pgbench reads a statement up to its terminating semicolon.
            f.write(sql.rstrip().rstrip(";") + ";\n")
    counts[cls] = counts.get(cls, 0) + 1
for cls, count in sorted(counts.items()):
    print(f"{cls}: {count} scripts")
