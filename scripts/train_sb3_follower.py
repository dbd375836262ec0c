"""Train a Stable-Baselines3 follower (SAC or PPO) against a Hi-C leader and report.

The follower learns on ``hic/<Name>-Follower-v0``: the Hi-C leader lives inside the env and
keeps learning across episodes, the follower observes the leader's committed strategy. At the
end the script prints the leader's distance to the DSE, the policy's best-response error
``|pi(x) - r(x)|`` over a grid of leader strategies (all of ``X``, and near the DSE), and the
training curve (the follower's mean payoff per stage, by episode); it saves the model
(``model.zip``), a ``summary.json`` and a tensorboard log (``tb/``) into ``--out``.

Usage::

    python scripts/train_sb3_follower.py                                  # SAC, duopoly, 3e4 steps
    python scripts/train_sb3_follower.py --env-id hic/Cooperative-Follower-v0 --seed 1
    python scripts/train_sb3_follower.py --algo ppo --total-steps 100000 --out runs/ppo
    python scripts/train_sb3_follower.py --help                          # every option
"""

from __future__ import annotations

from agents.compose.cli.config import parse
from agents.compose.experiments.training import (
    TrainConfig,
    TrainResult,
    format_report,
    train_follower,
)


def main(argv: list[str] | None = None) -> TrainResult:
    """Parse the flags (one per :class:`~agents.compose.experiments.training.TrainConfig`
    field), train, report."""
    config = parse(TrainConfig, argv, description=__doc__.splitlines()[0])
    result = train_follower(config)
    print(format_report(result))
    if config.out is not None:
        print(
            f"wrote {config.out}/model.zip, {config.out}/summary.json and the tensorboard log "
            f"(tensorboard --logdir {config.out}/tb)"
        )
    return result


if __name__ == "__main__":
    main()
