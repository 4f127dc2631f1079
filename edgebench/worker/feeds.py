"""The values fed to a model, built once before the loop from the checked :class:`~edgebench.worker.inputs.
InputPlan` of each input: seeded values made directly in the input's dtype (float16 through float32, never
float64), fixed values, or a data file's samples, fed in turn by :class:`Feeder` between iterations, outside the
timed region. Runs on the device (Python 3.8, numpy)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Sequence

from edgebench.worker.inputs import (
    InputError,
    InputPlan,
    InputSkip,
    InputSpec,
    default_int_range,
    kind_of,
    numpy_dtype,
)


def check_data_files(specs: Iterable[InputSpec], source: str) -> None:
    """Every data file the specs read is the one the run planned, by sha256 (each file hashed once; a file edited
    during the run fails by the key of the first input that reads it)."""
    from pathlib import Path

    from edgebench.digest import sha256_of

    seen = set()
    for spec in specs:
        data = spec.data
        if data is None or not data.sha256 or (data.path, data.sha256) in seen:
            continue
        seen.add((data.path, data.sha256))
        path, key = data.path, spec.key_of("data")
        try:
            found = sha256_of(Path(path))
        except OSError as exc:
            raise InputError(source, key, f"cannot read {path}: {exc.strerror}") from None
        if found != data.sha256:
            raise InputError(source, key, f"data file {path} has sha256 {found[:16]}..., not the "
                                          f"{data.sha256[:16]}... the run planned: it changed during the run")


def load_samples(spec: InputSpec, source: str) -> Any:
    """The data file's array (axis 0: samples), memory-mapped where numpy can (its sha256 is checked before, by
    :func:`check_data_files`)."""
    import numpy as np

    assert spec.data is not None
    path = spec.data.path
    key = spec.key_of("data")
    try:
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as archive:
                array = archive[spec.name]
        else:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(source, key, f"cannot read {path}: {exc}") from None
    return array  # cast per sample by Feeder.build, so a float64 file is never copied whole


def generate(plan: InputPlan, rng: Any) -> Any:
    """One seeded value of the input, made directly in its dtype (float16 through float32, never float64)."""
    import numpy as np

    spec, tensor, shape = plan.spec, plan.tensor, plan.shape
    dtype = numpy_dtype(tensor.dtype)
    kind = kind_of(tensor.dtype)
    if spec.value is not None:
        array = np.array(spec.value, dtype=object if kind == "s" else dtype)
        if array.shape != tuple(shape):
            array = np.broadcast_to(array, shape).copy() if array.ndim == 0 or array.shape[0] == 1 else array
        return array
    work = dtype if dtype in (np.dtype("float32"), np.dtype("float64")) else np.dtype("float32")
    if kind == "f":
        if spec.range is not None:
            low, high = spec.range
            out = rng.random(shape, dtype=work)
            out *= high - low
            out += low
        else:
            mean, std = spec.normal if spec.normal is not None else (0.0, 1.0)
            out = rng.standard_normal(shape, dtype=work)
            if std != 1.0:
                out *= std
            if mean != 0.0:
                out += mean
        return out if out.dtype == dtype else out.astype(dtype)
    if kind == "i":
        low, high = (int(spec.range[0]), int(spec.range[1])) if spec.range is not None \
            else default_int_range(tensor.dtype)
        return rng.integers(low, high, size=shape, dtype=dtype, endpoint=True)
    if kind == "b":
        return rng.integers(0, 1, size=shape, dtype=np.bool_, endpoint=True)
    raise InputSkip(f"input {tensor.name}: cannot generate data of dtype {tensor.dtype}")


def describe_generated(plan: InputPlan) -> str:
    """``int64 in [0, 1]``: the values :func:`generate` makes for an integer or boolean input."""
    dtype = plan.tensor.dtype
    if kind_of(dtype) == "i":
        low, high = plan.spec.range if plan.spec.range is not None else default_int_range(dtype)
        return f"{dtype} in [{low}, {high}]"
    return f"{dtype} random"


def _data_feeds(plan: InputPlan, batch: int, source: str) -> List[Any]:
    import numpy as np

    array = load_samples(plan.spec, source)
    count = int(array.shape[0])
    string = kind_of(plan.tensor.dtype) == "s"
    dtype = None if string else numpy_dtype(plan.tensor.dtype)

    def one(index: int) -> Any:
        sample = array[index % count]
        return np.array(sample, dtype=object) if string else np.ascontiguousarray(sample, dtype=dtype)

    sample_shape = tuple(array.shape[1:])
    if batch == 1 or not sample_shape or sample_shape[0] == batch:
        return [one(i) for i in range(count)]
    # samples of first dimension 1, stacked ``batch`` at a time: every sample is fed once per cycle
    return [np.concatenate([one(k * batch + j) for j in range(batch)]) for k in range(-(-count // batch))]


class Feeder:
    """The input values of a case: one value per input, or several data samples fed in turn. ``advance`` (called
    between iterations, outside the timed region) moves every input with several samples to its next one."""

    def __init__(self, samples: Mapping[str, Sequence[Any]]) -> None:
        self.samples = {name: list(values) for name, values in samples.items()}
        self._index = 0

    @property
    def cycles(self) -> bool:
        return any(len(values) > 1 for values in self.samples.values())

    def current(self) -> Dict[str, Any]:
        return {name: values[self._index % len(values)] for name, values in self.samples.items()}

    def advance(self) -> Dict[str, Any]:
        self._index += 1
        return self.current()

    def take(self, count: int) -> List[Dict[str, Any]]:
        """The next ``count`` feeds, from the current one on (the feeder moves past them)."""
        feeds = []
        for _ in range(count):
            feeds.append(self.current())
            self.advance()
        return feeds

    def fork(self) -> Feeder:
        """Another stream's feeder over the same samples (not copied), from the first sample."""
        return Feeder(self.samples)

    @classmethod
    def build(cls, plans: Sequence[InputPlan], batch: int, seed: int, source: str) -> Feeder:
        import numpy as np

        rng = np.random.default_rng(seed)
        samples: Dict[str, List[Any]] = {}
        for plan in plans:
            if plan.spec.data is not None:
                samples[plan.tensor.name] = _data_feeds(plan, batch, source)
            else:
                samples[plan.tensor.name] = [generate(plan, rng)]
        return cls(samples)

    def describe(self) -> Dict[str, Dict[str, Any]]:
        """Per input: how many samples, and the smallest and largest value fed (what the model really saw)."""
        out: Dict[str, Dict[str, Any]] = {}
        for name, values in self.samples.items():
            entry: Dict[str, Any] = {"samples": len(values)}
            numeric = [v for v in values if getattr(v, "dtype", None) is not None and v.dtype.kind in "fiub"
                       and v.size]
            if numeric and len(numeric) == len(values):
                entry["min"] = min(v.min().item() for v in numeric)
                entry["max"] = max(v.max().item() for v in numeric)
            out[name] = entry
        return out
