"""Each sensor declares its options (`OPTIONS`); a profile's `[sensors.options.NAME]` is checked against them when
it loads, with one line naming the profile file and the key, like every other profile and suite key."""

from __future__ import annotations

import pytest

from edgebench.config.profile import load_profile
from edgebench.errors import ConfigError
from edgebench.sensors.registry import builtin_sensor_names, sensor_class

PROFILE = """name = "p"
[sensors]
expected = ["psutil", "thermal"]
{options}
"""

CASES = [
    ("[sensors.options.nvml]\nindex = 300", "sensors.options.nvml.index", "must be between 0 and 255, got 300"),
    ('[sensors.options.nvml]\nindex = "0"', "sensors.options.nvml.index", "expected an integer, got a string '0'"),
    ("[sensors.options.thermal]\nzones = 2", "sensors.options.thermal.zones", "unknown key"),
    ("[sensors.options.rpi]\npmic = 1", "sensors.options.rpi.pmic", "expected a boolean, got an integer 1"),
    ('[sensors.options.hwmon]\nchips = "ina3221"', "sensors.options.hwmon.chips", "expected a list"),
    ("[sensors.options.tegrastats]\ninterval_ms = 0", "sensors.options.tegrastats.interval_ms",
     "must be between 1 and 60000, got 0"),
    ("[sensors.options.psutil]\nroot = 1", "sensors.options.psutil.root", "expected a string, got an integer 1"),
    ("[sensors.options.nope]\nx = 1", "sensors.options.nope", "options of an unknown sensor 'nope'"),
    ('[sensors.options.serial_meter]\nport = "/dev/ttyUSB0"\nbaud = 10', "sensors.options.serial_meter.baud",
     "must be between 50 and 4000000, got 10"),
    ('expected = ["serial_meter"]', "sensors.options.serial_meter.port", "missing required key"),
]


@pytest.mark.parametrize("options, key, problem", CASES, ids=[c[1] for c in CASES])
def test_bad_sensor_option_is_one_line_naming_file_and_key(tmp_path, options, key, problem):
    text = PROFILE.format(options=options)
    if options.startswith("expected"):
        text = text.replace('expected = ["psutil", "thermal"]\n', "") + "\n"
        text = text.replace("[sensors]\n", "[sensors]\n" + options + "\n").replace(options + "\n\n", "", 1)
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert str(info.value).startswith(f"{path}: {key}: {problem}"), str(info.value)


def test_good_options_load_and_every_builtin_declares_its_options(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROFILE.format(options='[sensors.options.psutil]\nroot = "/"\npid = 1\n'
                                           '[sensors.options.jetson_power]\ntotal_rail = "VDD_IN"\n'))
    assert load_profile(path).sensors.options["jetson_power"] == {"total_rail": "VDD_IN"}
    for name in builtin_sensor_names():
        assert isinstance(sensor_class(name).OPTIONS, tuple)
