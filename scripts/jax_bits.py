"""Every array of a set of JAX-engine jobs, to compare two trees bit for bit (issue 18).

Runs each catalog leader of issue 18's goals (Hi-C, SGA, hierarchical, oracle SPSA, LOLA) and
Hi-C with adaptive commitment against the gradient follower on four library games, with
``backend="jax"`` (Hi-C's interval loop and the generic loop), for four configurations each
(seeds, ``S = 32`` and ``7``, payoff noise), two chunks of 150 stages, and saves the records,
the final strategies and the runner's state dict of each to one ``.npz``. Run it on two trees
and compare::

    PYTHONPATH=<old tree> python scripts/jax_bits.py old.npz
    PYTHONPATH=<new tree> python scripts/jax_bits.py new.npz
    python scripts/jax_bits.py --compare old.npz new.npz

``--record none`` runs the unrecorded programs instead (``record=None``: no records, the
final strategies and states only). A leader a game refuses is left out (and printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import warnings

import numpy as np

GAMES = ("hic/Duopoly-v0", "hic/RandomQuadratic-v0", "hic/Nonlinear-v0", "hic/Tandem-v0")
LEADERS = ("hic", "sga", "hierarchical", "oracle-spsa", "lola", "hic adaptive")
#: (seed, S, noise_std) of each job.
CONFIGS = ((0, 32, 0.0), (1, 32, 0.0), (2, 7, 0.0), (3, 32, 0.5))


def run(record: str | None) -> dict[str, np.ndarray]:
    from agents import AdaptiveCommitment, catalog
    from agents.compose.engines.records import BatchHistory
    from agents.compose.engines.runner import make_runner
    from hic_envs.registration import LIBRARY_GAMES

    out: dict[str, np.ndarray] = {}
    for gid in GAMES:
        module, name = LIBRARY_GAMES[gid].split(":")
        game = getattr(importlib.import_module(module), name)()
        for label in LEADERS:
            lname, opts = label.split()[0], {}
            if label.endswith("adaptive"):
                opts = {"commitment": AdaptiveCommitment()}
            for seed, S, noise in CONFIGS:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    follower = catalog.make_follower("gradient", game, S, {})
                    try:
                        leader = catalog.make_leader(lname, game, S, dict(opts), partner=follower)
                        runner = make_runner(
                            game, leader, follower, seed, noise_std=noise, record=record,
                            backend="jax",
                        )  # fmt: skip
                    except ValueError as err:
                        print(f"left out: {gid} {label}: {str(err).splitlines()[0][:90]}")
                        break
                key = f"{gid}|{label}|{seed}|{S}|{noise}"
                for part in range(2):  # two calls: what one call carries to the next too
                    h = runner.run(150)
                    for f in dataclasses.fields(BatchHistory):  # every array it records
                        out[f"{key}|{part}|{f.name}"] = np.asarray(getattr(h, f.name))
                for k, v in runner.state_dict().items():
                    out[f"{key}|state|{k}"] = np.asarray(v)
                print(key, type(runner).__name__, flush=True)
    return out


def compare(a_path: str, b_path: str) -> int:
    a, b = np.load(a_path), np.load(b_path)
    if set(a.files) != set(b.files):
        print(f"different arrays: {sorted(set(a.files) ^ set(b.files))[:10]}")
        return 1
    bad = [
        k
        for k in a.files
        if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or a[k].tobytes() != b[k].tobytes()
    ]
    values = sum(a[k].size for k in a.files)
    print(f"{len(a.files)} arrays, {values} values; arrays that differ: {len(bad)}")
    for k in bad[:20]:
        # Equal as numbers (NaN where NaN), the bits apart: the sign of a zero, say.
        same = a[k].shape == b[k].shape and np.array_equal(a[k], b[k], equal_nan=True)
        note = "(equal as values: a zero's sign or a NaN's payload differs)" if same else ""
        print("  ", k, note)
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", help="the .npz to write")
    p.add_argument("--record", choices=("all", "none"), default="all")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two .npz files")
    args = p.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not args.out:
        p.error("give the .npz to write, or --compare A B")
    np.savez(args.out, **run(None if args.record == "none" else "all"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
