"""calor.ensemble (issue 21): members on a dask LocalCluster of 2 workers are bit for bit the
members run alone; a failing member does not affect the rest; a killed worker's member is
retried; the executor variants agree."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("pandas")

import calor.ensemble as ens  # noqa: E402

STATS = ["heat", "min", "max", "l2", "reached"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_sweep_is_the_product_of_its_axes():
    members = ens.sweep({"steps": 5}, n=[8, 16], alpha=[0.5, 1.0, 2.0])
    assert len(members) == 6
    assert members[0] == {"steps": 5, "n": 8, "alpha": 0.5}
    assert members[-1] == {"steps": 5, "n": 16, "alpha": 2.0}
    with pytest.raises(TypeError, match="alpha= needs a list"):
        ens.sweep(alpha=1.0)


def test_members_match_their_runs_alone_and_failures_stay_in_their_rows(client, tmp_path):
    members = ens.sweep({"preset": "stencil", "steps": 30}, n=[32, 48], energy=[1.0, 2.5])
    members.append({"preset": "stencil", "n": -5})  # a bad setting
    members.append({"preset": "stencil", "n": 32, "steps": 3000, "dt": 0.3,
                    "allow_unstable": True})  # blows up
    table = ens.run(members, scheduler=client, output_dir=tmp_path, progress=False)
    assert list(table["member"]) == list(range(len(members)))
    assert list(table["status"]) == ["ok"] * 4 + ["failed"] * 2
    assert "key 'n'" in table["error"][4]
    assert "blew up" in table["error"][5]
    for i in range(4):
        alone = ens.run_member(i, members[i])
        row = table.iloc[i]
        assert [row[k] for k in STATS] == [alone[k] for k in STATS]  # bit for bit
        assert os.path.exists(row["file"])
    # The sweep's order: n slowest, energy fastest; the field is linear in the energy.
    assert table["heat"][1] == pytest.approx(2.5 * table["heat"][0], rel=1e-12)


def test_a_killed_workers_member_is_retried(client):
    # Two members of a few seconds each, one per worker; the worker running the first is killed
    # (SIGKILL) while it runs: the scheduler resubmits that member, and its row is still the
    # member's own result. (600 steps, once a few seconds, came to take 0.4 s alone: over before
    # the kill half a second in, so no worker was replaced; 2500 steps came to 1.1-1.3 s.)
    members = [{"preset": "stencil", "n": 1500, "steps": 6000} for _ in range(2)]
    pids = client.run(os.getpid)  # worker address -> pid
    result = {}
    runner = threading.Thread(target=lambda: result.update(
        table=ens.run(members, scheduler=client, progress=False)))
    runner.start()
    busy = {}
    for _ in range(100):  # wait until a member is running on a worker
        busy = {w: tasks for w, tasks in client.processing().items() if tasks}
        if busy:
            break
        time.sleep(0.05)
    assert busy, "no member started"
    victim = next(iter(busy))
    time.sleep(0.5)
    os.kill(pids[victim], signal.SIGKILL)
    runner.join(timeout=300)
    table = result["table"]
    assert list(table["status"]) == ["ok", "ok"]
    assert set(client.run(os.getpid).values()) != set(pids.values()), "no worker was replaced"
    alone = ens.run_member(0, members[0])
    for i in range(2):
        assert [table.iloc[i][k] for k in STATS] == [alone[k] for k in STATS]


def test_executor_variants_agree(client):
    members = ens.sweep({"preset": "gaussian2d", "steps": 20}, n=[24, 40])
    on_dask = ens.run(members, scheduler=client, progress=False)
    with ProcessPoolExecutor(max_workers=2) as pool:
        on_pool = ens.run(members, scheduler=pool, progress=False)
    assert on_dask[STATS + ["status"]].equals(on_pool[STATS + ["status"]])


def test_the_progress_bar_counts_members_and_failures(capsys):
    # The plain bar (without tqdm): the members done, the failures, and the time left.
    bar = ens._Progress(4)
    bar.tqdm = None
    bar.update(False)
    bar.update(True)
    text = bar.line()
    assert text.startswith("calor.ensemble [##########..........] 2/4 members, 1 failed")
    assert "s left" in text
    bar.update(False)
    bar.update(False)
    assert "4/4 members, 1 failed" in bar.line() and "left" not in bar.line()


def test_a_run_draws_its_bar_on_stderr(capsys):
    from concurrent.futures import ThreadPoolExecutor

    members = ens.sweep({"preset": "gaussian2d", "steps": 2}, n=[8, 9])
    with ThreadPoolExecutor(max_workers=1) as pool:
        table = ens.run(members, scheduler=pool)
    assert list(table["status"]) == ["ok", "ok"]
    assert "2/2" in capsys.readouterr().err
