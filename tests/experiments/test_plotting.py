"""Figures: valid, non-blank PNGs for 1-D and 2-D leaders and for comparisons."""

from __future__ import annotations

import sys

import numpy as np

from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import load_results
from agents.compose.plots.plotting import (
    RunData,
    plot_comparison,
    plot_run,
    stage_grid,
    step_values,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    import matplotlib.image as mpimg

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    img = mpimg.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) >= 300
    assert float(np.std(img[..., :3])) > 0.01


def _run(tmp_path, name, **kw):
    cfg = ExperimentConfig(kw.pop("env_id", "hic/RandomQuadratic-v0"), seeds=4, stages=1500, **kw)
    run_experiment(cfg, tmp_path / name, progress=False)
    run = load_results(tmp_path / name)
    return run, cfg.build()[0]


def test_two_dimensional_leader_figures(tmp_path):
    run, game = _run(tmp_path, "rq", leader_options={"commitment": 4})
    assert game.d1 == 2
    paths = plot_run(run, game, tmp_path / "figs")
    assert [p.name for p in paths] == ["distance.png", "payoff.png", "trajectory.png"]
    for p in paths:
        assert_png(p)


def test_comparison_and_high_dimensional_leader(tmp_path):
    a, game = _run(
        tmp_path, "hic", leader_options={"commitment": 4}, game_kwargs={"d1": 3, "d2": 2}
    )
    b, _ = _run(
        tmp_path,
        "sga",
        leader="sga",
        leader_options={"step_size": 0.01},
        game_kwargs={"d1": 3, "d2": 2},
    )
    paths = plot_comparison({"Hi-C": a, "SGA": b}, game, tmp_path / "cmp", prefix="rq_")
    assert [p.name for p in paths] == ["rq_distance.png", "rq_payoff.png"]  # no 3-D landscape
    for p in paths:
        assert_png(p)


def test_step_values_take_each_seeds_latest_record():
    run = RunData(
        seed=np.array([0, 0, 0, 1, 1]),
        update=np.array([0, 1, 2, 0, 1]),
        stage=np.array([0, 10, 30, 0, 20]),
        leader=np.zeros((5, 1)),
        follower=np.zeros((5, 1)),
        distance=np.array([5.0, 4.0, 3.0, 9.0, 8.0]),
    )
    grid = np.array([1, 10, 19, 20, 30, 99])
    v = step_values(run, run.distance, grid)
    assert v.tolist() == [[5, 4, 4, 4, 3, 3], [9, 9, 9, 8, 8, 8]]
    g = stage_grid(10**6)
    assert g[0] == 1 and g[-1] == 10**6 and np.all(np.diff(g) > 0)


def test_importing_hic_envs_does_not_import_matplotlib():
    import subprocess

    code = "import hic_envs, agents.compose.plots.plotting, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_plots_do_not_switch_the_global_backend(tmp_path):
    import matplotlib

    before = matplotlib.get_backend()
    run, game = _run(tmp_path, "duo", env_id="hic/Duopoly-v0")
    plot_run(run, game, tmp_path / "f")
    assert matplotlib.get_backend() == before
