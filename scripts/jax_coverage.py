"""Which catalog leader x follower pairs and which library games run on ``backend="jax"``.

``python scripts/jax_coverage.py`` prints, for the duopoly, every pair of rule-set learners
of the catalog (runs, or the ``ValueError`` that refuses it), then every library game
(:data:`hic_envs.registration.LIBRARY_GAMES`) with the default pair, Hi-C against a gradient
follower: with the catalog's options where the catalog builds them for the game, else with
explicit ones (Bimatrix and MogGAN, whose followers break Assumption 4.8, so the catalog's
presets refuse them). ``--all-pairs`` also plays every rule-set pair on every game (where the
catalog builds it). Each run is 20 stages at S = 2.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from agents import GradientAscentFollower, HiCLeader, catalog
from agents.compose.engines.runner import make_runner
from agents.rules.protocol import capabilities_of
from hic_envs.games import Duopoly
from hic_envs.registration import LIBRARY_GAMES, game_from_id


def _play(game, leader, follower) -> str | None:
    try:
        h = make_runner(game, leader, follower, 0, backend="jax").run(20)
    except ValueError as err:
        return str(err).splitlines()[0]
    return None if np.isfinite(h.final_leader).all() else "non-finite strategies"


def _catalog_pair(lname: str, fname: str, game, S: int = 2):
    follower = catalog.make_follower(fname, game, S, {})
    return catalog.make_leader(lname, game, S, {}, partner=follower), follower


def _default_pair(game, S: int = 2):
    try:
        return _catalog_pair("hic", "gradient", game, S), "catalog options"
    except ValueError:
        leader = HiCLeader(game, 0.01, 0.1, 5, num_envs=S, check_assumptions=False)
        return (leader, GradientAscentFollower(game, 0.01, num_envs=S)), "explicit options"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all-pairs", action="store_true", help="every pair on every game")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    duopoly = Duopoly()
    leaders = [
        n for n in catalog.LEADERS if capabilities_of(_catalog_pair(n, "gradient", duopoly)[0])
    ]
    followers = [
        n for n in catalog.FOLLOWERS if capabilities_of(_catalog_pair("sga", n, duopoly)[1])
    ]
    pairs = [(lname, fname) for lname in leaders for fname in followers]
    ran = 0
    for lname, fname in pairs:
        why = _play(duopoly, *_catalog_pair(lname, fname, duopoly))
        ran += why is None
        print(f"{lname} x {fname}: {'runs' if why is None else why}")
    print(f"rule-set catalog pairs on JAX (Duopoly): {ran} of {len(pairs)}")
    ran = 0
    for env_id in LIBRARY_GAMES:
        game = game_from_id(env_id)
        (leader, follower), how = _default_pair(game)
        why = _play(game, leader, follower)
        ran += why is None
        print(f"{env_id} (hic x gradient, {how}): {'runs' if why is None else why}")
    print(f"library games on JAX (hic x gradient): {ran} of {len(LIBRARY_GAMES)}")
    if args.all_pairs:
        built = ran = 0
        for env_id in LIBRARY_GAMES:
            game = game_from_id(env_id)
            for lname, fname in pairs:
                try:
                    pair = _catalog_pair(lname, fname, game)
                except ValueError:
                    continue  # the catalog's options refuse this game (on any engine)
                built += 1
                why = _play(game, *pair)
                ran += why is None
                if why is not None:
                    print(f"{env_id} {lname} x {fname}: {why}")
        print(f"game x pair on JAX, of those the catalog builds: {ran} of {built}")


if __name__ == "__main__":
    main()
