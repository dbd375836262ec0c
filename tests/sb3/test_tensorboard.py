"""A short ``hic train-follower`` SAC run leaves its training curve in tensorboard (issue 21).

Before the fix the event file held only its header: SB3 writes recorded values when it dumps,
every 4 episodes for SAC, and a 3-episode run never reached one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboard", reason="the rl or dev extra")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from agents.compose.cli import main  # noqa: E402


def test_sac_run_writes_the_training_curve(tmp_path):
    out = tmp_path / "run"
    argv = ["train-follower", "--total-steps", "300", "--learning-starts", "100"]
    argv += ["--max-episode-steps", "100", "--out", str(out), "--no-progress-bar"]
    assert main(argv) == 0
    (events,) = (out / "tb").rglob("events.out.tfevents.*")
    acc = EventAccumulator(str(Path(events).parent))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"hic/leader_distance_to_dse", "rollout/ep_rew_mean", "train/actor_loss"} <= tags

    curve = acc.Scalars("hic/leader_distance_to_dse")
    steps = [e.step for e in curve]
    assert steps[0] == 0 and steps[-1] == 300 and steps == sorted(steps) and len(steps) > 50
    assert all(np.isfinite(e.value) and e.value >= 0 for e in curve)
    # one episode-return point per finished episode (3 of 100 steps)
    assert [e.step for e in acc.Scalars("rollout/ep_rew_mean")] == [100, 200, 300]
    # SAC trains from step 100 on: its losses are on the curve after that
    losses = acc.Scalars("train/actor_loss")
    assert losses and min(e.step for e in losses) > 100
    assert all(np.isfinite(e.value) for e in losses)
