"""Start-up time of the ``hic`` commands next to ``python -c "import agents"`` (issue 21).

Runs each command ``--runs`` times (default 10) in fresh interpreters, alternating them so
that a change in the machine's load falls on all alike, and prints the median of each, in
wall seconds and in CPU seconds (user + system of the child: what the command costs, without
the time it waited for a core on a shared machine), with its ratio to ``import agents``.
The commands run as ``python -m agents.compose.cli ...`` with this interpreter (what the
``hic`` console script runs), from the working directory (``python -m`` imports from there
first: run it from the tree to measure)::

    python scripts/startup_time.py            # hic list, hic --help vs import agents
    python scripts/startup_time.py --runs 20

State the machine's load (``uptime``) next to any figure: on a shared machine the wall
seconds grow with it, the CPU seconds much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import agents": [sys.executable, "-c", "import agents"],
    "hic --help": [sys.executable, "-m", "agents.compose.cli", "--help"],
    "hic list": [sys.executable, "-m", "agents.compose.cli", "list"],
}


def measure(runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of ``runs`` runs of each command, interleaved."""
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, cmd in COMMANDS.items():
            t, c = time.perf_counter(), os.times()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            d = os.times()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(
                d.children_user - c.children_user + d.children_system - c.children_system
            )
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command")
    args = parser.parse_args()
    wall, cpu = measure(args.runs)
    print(f"median of {args.runs} runs     wall s   ratio   CPU s   ratio")
    w0, c0 = statistics.median(wall["import agents"]), statistics.median(cpu["import agents"])
    for name in COMMANDS:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"  {name:<22} {w:6.3f}  {w / w0:5.2f}x  {c:6.3f}  {c / c0:5.2f}x")


if __name__ == "__main__":
    main()
