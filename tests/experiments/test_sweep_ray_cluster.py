"""hic sweep on a simulated two-node Ray cluster (``ray.cluster_utils.Cluster``): tasks run on
both nodes and the results equal the serial executor's."""

from __future__ import annotations

import pytest
import ray
from ray.cluster_utils import Cluster
from sweep_cases import TINY, run_files

from agents.compose.sweep import run_sweep


@pytest.mark.slow
def test_two_node_cluster_runs_configurations_on_both_nodes(tmp_path):
    serial = tmp_path / "serial"
    run_sweep(TINY, serial, executor="serial", progress=False)
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "include_dashboard": False,
            "object_store_memory": 100 * 2**20,
        },
    )
    try:
        cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        out = tmp_path / "cluster"
        summary = run_sweep(TINY, out, executor="ray", progress=False)
        assert summary["counts"]["finished"] == 4
        assert len({c["ray_node"] for c in summary["configurations"]}) == 2
        assert run_files(out) == run_files(serial)
    finally:
        ray.shutdown()
        cluster.shutdown()
