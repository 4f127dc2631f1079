"""The device state around a run (harness/device_state.py) through a real local transport on a fake /sys tree, and
what the Transport interface says where a transport cannot reach the device's state (a farm device)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.config.profile import load_profile
from edgebench.harness.device_state import record_state, system_call, tuned
from edgebench.transports.base import NotSupportedError, Transport
from edgebench.transports.local import LocalTransport
from tests.run_fixtures import case, make_run
from tests.unit.test_system_ops import fake_tree

PROFILE = """\
name = "bench-box"
[transport]
kind = "local"
[backends.null]
[prepare]
governor = "performance"
fan = "max"
"""


class TreeTransport(LocalTransport):
    """The local transport with /sys read under a copied tree (what ``edgebench system --root`` does)."""

    def __init__(self, profile, tree: Path) -> None:
        super().__init__(profile)
        self.tree = tree

    def system(self, action, prepare, root=None):
        return super().system(action, prepare, root or str(self.tree))


@pytest.fixture
def bench_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where tune keeps what it replaced
    path = tmp_path / "bench-box.toml"
    path.write_text(PROFILE)
    return load_profile(path), fake_tree(tmp_path / "tree")


def test_tuned_applies_then_restores_even_when_the_run_fails(bench_box) -> None:
    profile, tree = bench_box
    governor = tree / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
    heard = []
    with pytest.raises(RuntimeError, match="the run broke"):
        with tuned(profile, TreeTransport(profile, tree), report=lambda action, outcome: heard.append(
                (action, outcome["ok"], governor.read_text()))):
            assert governor.read_text() == "performance\n"
            raise RuntimeError("the run broke")
    assert heard == [("tune", True, "performance\n"), ("reset", True, "schedutil\n")]
    assert governor.read_text() == "schedutil\n"


def test_tuned_disabled_touches_nothing(bench_box) -> None:
    profile, tree = bench_box
    heard = []
    with tuned(profile, TreeTransport(profile, tree), enabled=False, report=lambda *a: heard.append(a)):
        pass
    assert heard == []
    assert (tree / "sys/devices/pwm-fan/target_pwm").read_text() == "0\n"


def test_record_state_keeps_the_state_and_a_failure_in_run_json(bench_box, tmp_path: Path) -> None:
    profile, tree = bench_box
    store = make_run(tmp_path / "run", cases=[case("kws", "null", 1)])
    record_state(store, profile, TreeTransport(profile, tree))
    states = {s["name"]: s["ok"] for s in store.document["system_state"]["operations"]}
    assert states == {"governor": False, "fan": False}  # the tree is not as the profile asks

    class Broken(TreeTransport):
        def system(self, action, prepare, root=None):
            raise OSError("device gone")

    record_state(store, profile, Broken(profile, tree))
    assert store.document["system_state"] == {"ok": False, "error": "OSError: device gone"}


def test_a_transport_without_the_device_state_says_so_in_one_line(bench_box) -> None:
    profile, _ = bench_box
    plain = Transport(profile)
    with pytest.raises(NotSupportedError, match=r"^bench-box: the local transport cannot show, tune or reset"):
        system_call(profile, plain, "show")
    with pytest.raises(NotSupportedError, match=r"^bench-box: the local transport cannot list the device's sensors"):
        plain.sensors()


def test_a_farm_device_refuses_system_and_doctor_skips_its_sensors(tmp_path: Path, capsys) -> None:
    pytest.importorskip("distributed")
    from edgebench.cli.main import main
    from edgebench.transports.dask_farm import DaskTransport

    path = tmp_path / "farmdev.toml"
    path.write_text('name = "farmdev"\n[transport]\nkind = "dask"\nscheduler = "tcp://127.0.0.1:1"\n'
                    '[backends.null]\n[prepare]\ngovernor = "performance"\n')
    farm = DaskTransport(load_profile(path))  # connects only when a case or probe needs the scheduler
    with pytest.raises(NotSupportedError):
        farm.sensors()
    assert main(["system", "show", "--profile", str(path)]) == 2
    assert capsys.readouterr().err == ("edgebench: error: farmdev: `edgebench system` needs a local or ssh profile; "
                                       "on a farm, run it on the device itself\n")
