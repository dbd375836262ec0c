"""Start-up time of the ``hic`` commands next to ``python -c "import agents"`` (issue 21).

Runs each command ``--runs`` times (default 10) in fresh interpreters, alternating them so
that a change in the machine's load falls on all alike, and prints the median wall seconds of
each and its ratio to ``import agents``. The commands run as ``python -m
agents.compose.cli ...`` with this interpreter (what the ``hic`` console script runs)::

    python scripts/startup_time.py            # hic list, hic --help vs import agents
    python scripts/startup_time.py --runs 20

State the machine's load (``uptime``) next to any figure: on a shared machine all of them
grow, the ratios less so.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import agents": [sys.executable, "-c", "import agents"],
    "hic --help": [sys.executable, "-m", "agents.compose.cli", "--help"],
    "hic list": [sys.executable, "-m", "agents.compose.cli", "list"],
}


def measure(runs: int) -> dict[str, list[float]]:
    """Wall seconds of ``runs`` runs of each command, interleaved."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, cmd in COMMANDS.items():
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command")
    args = parser.parse_args()
    times = measure(args.runs)
    base = statistics.median(times["import agents"])
    print(f"median of {args.runs} runs (wall seconds):")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:<14} {med:6.3f} s   {med / base:4.2f}x import agents")


if __name__ == "__main__":
    main()
