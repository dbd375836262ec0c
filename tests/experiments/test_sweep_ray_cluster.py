"""hic sweep on a simulated two-node Ray cluster (``ray.cluster_utils.Cluster``): tasks run on
both nodes and the results equal the serial executor's."""

from __future__ import annotations

import time

import pytest
from sweep_cases import TINY, run_files

from agents.compose.sweeps import run_sweep

ray = pytest.importorskip("ray", reason="ray is not installed (the ray extra)")
from ray.cluster_utils import Cluster  # noqa: E402
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # noqa: E402


# JAX warns at any os.fork() once it is imported; Ray starts its processes with
# subprocess (fork, then exec at once), which that warning does not concern.
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
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
        nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
        assert len(nodes) == 2
        # Start a worker process on each node before the sweep, so a node that is slow to
        # come up under load (its first worker takes seconds) still gets its share.
        deadline = time.monotonic() + 60
        while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        warm = ray.remote(num_cpus=1)(lambda: ray.get_runtime_context().get_node_id())
        got = ray.get(
            [
                warm.options(
                    scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)
                ).remote()
                for n in nodes
            ]
        )
        assert sorted(got) == sorted(nodes)
        out = tmp_path / "cluster"
        summary = run_sweep(TINY, out, executor="ray", progress=False)
        assert summary["counts"]["finished"] == 4
        assert len({c["ray_node"] for c in summary["configurations"]}) == 2
        assert run_files(out) == run_files(serial)
    finally:
        ray.shutdown()
        cluster.shutdown()
