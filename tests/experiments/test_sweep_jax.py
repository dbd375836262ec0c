"""Batched sweeps on the JAX engine (``backend: jax`` in a sweep file): the configurations that
share a game and a commitment schedule run as one interval-engine program whose rows are
(configuration, seed) pairs, each row with its own step size, perturbation and payoff noise;
the results have the NumPy engine's distribution (not its bits: JAX draws its own numbers).

Skipped when JAX is not installed (``pip install -e ".[jax]"`` installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

from scipy import stats  # noqa: E402

from agents.compose.engines import jax_rules  # noqa: E402
from agents.compose.experiments.experiment import ExperimentConfig, run_experiment  # noqa: E402
from agents.compose.experiments.results import load_results  # noqa: E402
from agents.compose.sweeps import load_sweep, run_sweep  # noqa: E402
from agents.compose.sweeps.batched import group_tasks  # noqa: E402

#: 8 configurations of 64 seeds x 3000 stages on the duopoly: two step-size exponents, two
#: noise levels, a constant and a Corollary 4.11 commitment.
GRID = {
    "name": "jaxgrid",
    "base": {
        "env_id": "hic/Duopoly-v0",
        "seeds": 64,
        "stages": 3000,
        "seed": 5,
        "step_size": "power:a=1.0728,gamma=0.602,A=100",
        "perturbation": "power:a=1,gamma=0.101",
        "baseline": 0.9,
    },
    "grid": {
        "step_size.gamma": [0.602, 0.8],
        "noise_std": [0.0, 1.0],
        "commitment": [5, "corollary:p=0.5"],
    },
}


def _with_backend(spec: dict, backend: str) -> dict:
    return {**spec, "base": {**spec["base"], "backend": backend}}


def _final_distances(sweep_dir: Path) -> dict[str, np.ndarray]:
    """Each configuration's last recorded distance to the DSE per seed, by its swept values."""
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    out = {}
    for c in summary["configurations"]:
        assert c["status"] == "finished", c
        r = load_results(sweep_dir / c["dir"])
        last = {int(s): d for s, d in zip(r.seed, r.distance, strict=True)}
        out[json.dumps(c["values"], sort_keys=True)] = np.array([last[s] for s in sorted(last)])
    return out


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("jaxsweep")
    for backend in ("numpy", "jax"):
        run_sweep(_with_backend(GRID, backend), root / backend, executor="serial", progress=False)
    return root


def test_a_jax_batch_runs_on_the_interval_engine_grouped_by_commitment(monkeypatch, tmp_path):
    spec = load_sweep(_with_backend(GRID, "jax"))
    points = spec.points()
    tasks = [{"index": p.index, "out_dir": str(tmp_path / p.name)} for p in points]
    groups = group_tasks(tasks, {p.index: p.config for p in points}, workers=0)
    # One program per commitment schedule; the step sizes and the noise are per-row values.
    assert sorted(len(g["members"]) for g in groups) == [4, 4]
    for g in groups:
        commitments = {points[i].config.leader_options["commitment"] for i in g["index"]}
        assert len(commitments) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("the generic loop ran a batch the interval engine takes")

    monkeypatch.setattr(jax_rules, "RulesRunner", refuse)
    out = tmp_path / "s"
    summary = run_sweep(
        {**GRID, "base": {**GRID["base"], "backend": "jax", "stages": 200}},
        out,
        executor="serial",
        progress=False,
    )
    assert summary["counts"]["finished"] == 8


def test_jax_and_numpy_batched_sweeps_have_the_same_distribution(both):
    """Per configuration, the 64 seeds' final distances of the two engines: a two-sample
    Kolmogorov-Smirnov test does not tell them apart at the 0.1% level, and the medians agree
    within seed noise (their log10 ratio is under 0.3, a factor of 2; seen: at most 0.15)."""
    np_final, jx_final = _final_distances(both / "numpy"), _final_distances(both / "jax")
    assert np_final.keys() == jx_final.keys() and len(np_final) == 8
    for key, a in np_final.items():
        b = jx_final[key]
        assert a.shape == b.shape == (64,)
        assert stats.ks_2samp(a, b).pvalue > 1e-3, key
        assert abs(np.log10(np.median(a) / np.median(b))) < 0.3, key
    # The per-row values were read: the configurations' distributions differ.
    meds = sorted(float(np.median(v)) for v in jx_final.values())
    assert meds[-1] > 2 * meds[0]


def test_each_configuration_of_a_jax_batch_starts_where_its_run_alone_starts(both, tmp_path):
    """The first record (update 0: the initial strategies) of every configuration in the batch
    is, bit for bit, that of ``hic run --backend jax`` of the configuration alone; later draws
    are the batch's (same distribution, other numbers)."""
    summary = json.loads((both / "jax" / "sweep.json").read_text())
    for c in summary["configurations"][:3]:
        alone = tmp_path / c["dir"]
        run_experiment(ExperimentConfig.from_dict(c["config"]), alone, progress=False)
        rows = {}
        for d in (both / "jax" / c["dir"], alone):
            r = load_results(d)
            first = r.update == 0
            rows[d] = (r.leader[first], r.follower[first])
        (xa, ya), (xb, yb) = rows.values()
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb), c["name"]


def test_the_timing_script_runs_both_engines_and_compares_them(tmp_path):
    """``scripts/sweep_study_timing.py`` (docs/results/sweep_study.md's figures) on a tiny file."""
    import subprocess
    import sys

    import yaml

    study = tmp_path / "tiny.yaml"
    small = {**GRID, "base": {**GRID["base"], "seeds": 4, "stages": 300}}
    small["grid"] = {"step_size.gamma": [0.602, 0.8]}
    study.write_text(yaml.safe_dump(small))
    script = Path(__file__).resolve().parents[2] / "scripts" / "sweep_study_timing.py"
    out = subprocess.run(
        [sys.executable, str(script), "--runs", "1", "--out", str(tmp_path / "t"),
         "--study", str(study)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "| numpy | 1 |" in out and "| jax | 1 |" in out
    assert out.strip().splitlines()[-1].startswith("2 configurations: KS p < 0.05 in ")


def test_a_generic_loop_batch_with_mixed_noise_runs_its_configurations_one_by_one(tmp_path):
    """SGA is not the interval engine's pair: its batch would run in the generic loop, which
    takes one payoff noise scale, so configurations of different noise run one at a time (and
    finish)."""
    spec = {
        "name": "sga",
        "base": {
            "env_id": "hic/Duopoly-v0",
            "leader": "sga",
            "seeds": 2,
            "stages": 200,
            "backend": "jax",
        },
        "grid": {"noise_std": [0.0, 1.0]},
    }
    points = load_sweep(spec).points()
    tasks = [{"index": p.index, "out_dir": str(tmp_path / p.name)} for p in points]
    (group,) = group_tasks(tasks, {p.index: p.config for p in points}, workers=0)
    assert group["index"] == [0, 1]
    summary = run_sweep(spec, tmp_path / "s", executor="serial", progress=False)
    assert summary["counts"]["finished"] == 2 and summary["counts"]["failed"] == 0
    # Each ran alone: its files are those of hic run of it (the noisy one's noise included).
    for c in summary["configurations"]:
        alone = tmp_path / f"alone-{c['hash']}"
        run_experiment(ExperimentConfig.from_dict(c["config"]), alone, progress=False)
        got = (tmp_path / "s" / c["dir"] / "updates.csv").read_bytes()
        assert got == (alone / "updates.csv").read_bytes(), c["name"]


@pytest.mark.parametrize("leader", ["hic", "sga"])
def test_a_jax_batched_sweep_writes_checkpoints_that_hic_run_resumes(leader, tmp_path):
    """On the JAX engine (the interval engine for Hi-C, the generic loop for SGA) each
    configuration of a batch gets hic run's checkpoint too: its rows' state. `--resume`
    (run_experiment(resume=True)) reads and checks it against the run, loads it, finds the run
    finished and writes the summary again from the loaded state: the same summary but for
    the timing (the final distances, strategies and update counts come from the checkpoint's
    arrays), and the CSV and checkpoint arrays unchanged."""
    from agents.compose.experiments.results import read_checkpoint

    spec = {
        "name": "jaxckpt",
        "base": {
            "env_id": "hic/Duopoly-v0",
            "leader": leader,
            "seeds": 2,
            "stages": 200,
            "backend": "jax",
        },  # fmt: skip
        "grid": {"seed": [1, 2], "step_size": [0.01, 0.02]},
    }
    out = tmp_path / "s"
    summary = run_sweep(spec, out, executor="serial", progress=False)
    assert summary["counts"]["finished"] == 4
    for c in summary["configurations"]:
        d = out / c["dir"]
        before = json.loads((d / "summary.json").read_text())
        assert before["files"] == {"updates": "updates.csv", "checkpoint": "checkpoint.npz"}
        csv, (state, meta) = (d / "updates.csv").read_bytes(), read_checkpoint(d / "checkpoint.npz")
        assert meta["stage"] == 200 and meta["csv_bytes"] == len(csv)
        run_experiment(ExperimentConfig.from_dict(c["config"]), d, resume=True, progress=False)
        after = json.loads((d / "summary.json").read_text())
        before.pop("timing"), after.pop("timing")
        assert after == before, c["name"]
        assert (d / "updates.csv").read_bytes() == csv
        again, _ = read_checkpoint(d / "checkpoint.npz")
        assert again.keys() == state.keys()
        assert all(np.array_equal(again[k], state[k], equal_nan=True) for k in state)
