"""The four figure defects of issue 21, each checked on the drawn Matplotlib figure.

``_save`` is wrapped so that a test sees the figure object that was written to the PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from agents.compose.experiments.experiment import ExperimentConfig, run_experiment
from agents.compose.experiments.results import load_results
from agents.compose.plots import plotting, sweep_plots

sys.path.insert(0, str(Path(__file__).parent))
from sweep_cases import TINY  # noqa: E402


@pytest.fixture
def figures(monkeypatch):
    """``{file name: Figure}`` of every figure written during the test."""
    seen = {}
    for module in (plotting, sweep_plots):
        real = module._save

        def save(fig, path, real=real):
            seen[Path(path).name] = fig
            return real(fig, path)

        monkeypatch.setattr(module, "_save", save)
    return seen


def _run(tmp_path, name, env_id, seeds, stages, **kw):
    cfg = ExperimentConfig(env_id, seeds=seeds, stages=stages, **kw)
    run_experiment(cfg, tmp_path / name, progress=False)
    return load_results(tmp_path / name), cfg.build()[0]


def _finals(run):
    """Each seed's last recorded leader strategy, ``(S, d1)``, computed here independently."""
    return np.array(
        [run.leader[run.seed == s][np.argmax(run.stage[run.seed == s])] for s in run.seeds]
    )


def test_compare_trajectory_right_panel_has_a_curve_per_run(tmp_path, figures):
    a, game = _run(tmp_path, "a", "hic/Duopoly-v0", 4, 1500)
    b, _ = _run(tmp_path, "b", "hic/Duopoly-v0", 4, 1500, leader="sga")
    plotting.compare_runs([a, b], [game, game], tmp_path / "cmp")
    right = figures["compare_trajectory.png"].axes[1]
    curves = [
        ln for ln in right.get_lines() if ln.get_label().startswith(("leader=hic", "leader=sga"))
    ]
    assert sorted(ln.get_label().split(" ")[0] for ln in curves) == ["leader=hic", "leader=sga"]
    for ln in curves:
        y = np.asarray(ln.get_ydata(), dtype=float)
        assert y.size > 10 and np.isfinite(y).sum() > 10


def test_trajectory_says_how_many_seeds_it_draws_and_ends_every_seed(tmp_path, figures):
    run, game = _run(tmp_path, "d", "hic/Duopoly-v0", 12, 1500)
    plotting.plot_run(run, game, tmp_path / "figs")
    fig = figures["trajectory.png"]
    left = fig.axes[0]
    assert "8 of 12 seeds" in left.get_title()
    finals = _finals(run)[:, 0]
    ends = [c.get_offsets()[:, 0] for c in left.collections if len(c.get_offsets()) == 12]
    assert any(np.allclose(np.sort(e), np.sort(finals)) for e in ends)


def test_two_dimensional_trajectory_draws_a_median_path_and_resampled_seed_paths(tmp_path, figures):
    run, game = _run(
        tmp_path, "rq", "hic/RandomQuadratic-v0", 12, 4000, leader_options={"commitment": 4}
    )
    assert game.d1 == 2
    per_seed = max(int((run.seed == s).sum()) for s in run.seeds)
    grid = plotting.stage_grid(int(run.stage.max()))
    assert per_seed > grid.size  # the raw paths have more points than the drawn ones may
    plotting.plot_run(run, game, tmp_path / "figs")
    ax = next(a for a in figures["trajectory.png"].axes if a.get_xlabel() == "$x_1$")
    labels = [c.get_label() for c in ax.collections] + [ln.get_label() for ln in ax.get_lines()]
    assert "median path over 12 seeds" in labels
    for ln in ax.get_lines():
        assert len(ln.get_xdata()) <= grid.size
    assert "8 of 12 seeds" in ax.get_title()
    finals = _finals(run)
    ends = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 12]
    assert any(np.allclose(np.sort(e, axis=0), np.sort(finals, axis=0)) for e in ends)


def test_sweep_curves_tell_the_second_swept_parameter_apart(tmp_path, figures):
    from agents.compose.sweeps import run_sweep

    run_sweep(TINY, tmp_path / "s", executor="serial", progress=False, checkpoint_seconds=0)
    sweep_plots.plot_sweep(tmp_path / "s")
    ax = figures["sweep_curves.png"].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"noise_std = 0", "noise_std = 0.5"} <= set(legend)
    assert {"step_size.gamma = 0.602", "step_size.gamma = 0.8"} <= set(legend)
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    assert len(curves) == 4
    looks = {(str(ln.get_color()), str(ln.get_linestyle())) for ln in curves}
    assert len(looks) == 4  # every configuration drawn differently
