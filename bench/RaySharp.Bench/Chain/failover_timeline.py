#!/usr/bin/env python3
"""Reconstructs each kill of the chain failover benchmark from RAYSHARP_CHAIN_TRACE files.

usage: RAYSHARP_CHAIN_TRACE=/tmp/trace dotnet run -c Release --project bench/RaySharp.Bench -- chain --quick --only failover
       python3 bench/RaySharp.Bench/Chain/failover_timeline.py /tmp/trace [--all]

Every line of a trace file is "timestamp role event key=value...", the timestamp being CLOCK_MONOTONIC in
ns (Stopwatch.GetTimestamp on Linux), so the files of all processes merge into one timeline. For each kill
it prints the milestones in ms after the kill signal, then the slowest operation of the window and the
events of the group it was waiting on (--all prints every event of the window).
"""
import glob
import os
import sys


def load(directory):
    events = []
    for path in glob.glob(os.path.join(directory, "*.trace")):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                fields = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
                events.append((int(parts[0]), parts[1], parts[2], fields, line.rstrip()))
    events.sort(key=lambda e: e[0])
    return events


def first(window, role=None, event=None, pred=lambda f: True):
    for e in window:
        if (role is None or e[1] == role or (role.endswith("*") and e[1].startswith(role[:-1]))) and (event is None or e[2] == event) and pred(e[3]):
            return e
    return None


def main():
    directory = sys.argv[1]
    show_all = "--all" in sys.argv
    events = load(directory)
    kills = [i for i, e in enumerate(events) if e[2] == "kill"]
    for n, k in enumerate(kills):
        kill = events[k]
        t0 = kill[0]
        end = next((i for i in range(k, len(events)) if events[i][2] == "window-end"), len(events) - 1)
        window = events[k:end + 1]
        ms = lambda e: (e[0] - t0) / 1e6
        victim = kill[3]["server"]
        old_epoch = int(kill[3]["epoch"])
        fail = first(window, "controller", "fail", lambda f: f["server"] == victim)
        commit = first(window[window.index(fail):] if fail else [], "controller", "commit")
        epoch = commit[3]["epoch"] if commit else None
        print(f"=== kill {n + 1}: server {victim} ({kill[3]['position']}), {window[-1][3].get('stall_ms')} ms stall")
        milestones = [
            ("reaped (bench)", first(window, "bench", "reaped")),
            ("session closed (controller)", first(window, "controller", "session-closed", lambda f: f["server"] == victim)),
            ("port refused (controller)", first(window, "controller", "probe-refused", lambda f: f["server"] == victim)),
            ("failover committed (fsync'd)", commit),
            ("first push sent", first(window, "controller", "push", lambda f: f["epoch"] == epoch)),
        ]
        for e in [x for x in window if x[2] == "adopt" and x[3]["epoch"] == epoch]:
            milestones.append((f"{e[1]} adopted ({e[3]['from']})", e))
        milestones.append(("client refreshed to failover epoch", first(window, "bench", "refresh", lambda f: epoch is not None and int(f["epoch"]) >= int(epoch))))
        milestones.append(("rewired seen (bench poll)", first(window, "bench", "rewired-seen")))
        slow = sorted((e for e in window if e[2] == "slow-op"), key=lambda e: -float(e[3]["ms"]))
        for name, e in milestones:
            print(f"  {ms(e):8.2f}  {name}" + (f"  [{e[4].split(' ', 2)[2]}]" if e and e[2] in ("commit", "adopt") else "") if e else f"       -  {name}")
        for e in slow[:3]:
            start = (int(e[3]["start"]) - t0) / 1e6
            print(f"  slow op g={e[3]['g']} {e[3]['key']}: {start:.2f} -> {ms(e):.2f} ({e[3]['ms']} ms)")
        if slow:
            g = slow[0][3]["g"]
            start = int(slow[0][3]["start"])
            related = [e for e in window if e[3].get("g") == g and e[2] != "slow-op" and e[0] >= start - 1_000_000]
            for e in related[:30]:
                print(f"     {ms(e):8.2f}  {e[1]} {e[2]} " + " ".join(f"{a}={b}" for a, b in e[3].items()))
        if show_all:
            for e in window:
                if e[2] not in ("slow-op", "push"):
                    print(f"     {ms(e):8.2f}  {e[4].split(' ', 1)[1]}")


if __name__ == "__main__":
    main()
