"""The cells of the hardware tables, as plain text, shared by the Markdown and HTML reports (each escapes them its
own way): the devices of the runs, the best case per device and model, the served QPS, and the combinations that
meet a budget."""

from __future__ import annotations

from typing import Sequence

from edgebench.reporting.model import Candidate, ReportModel, Selection
from edgebench.reporting.values import format_value

HARDWARE_NOTE = ("Per device and model, the case with the highest throughput (the null backend, which runs no "
                 "model, is left out). Power, per-watt and energy figures are measured; a device without a power "
                 "reading has none.")
TDP_NOTE = " The TDP column divides by the profile's rated power: an estimate, not a measurement."
SELECTION_NOTE = ("Per model, every device, backend, precision and threads combination that meets the budget, "
                  "ranked by measured energy per inference (unmeasured last), then the device's price, then "
                  "latency; the null backend is left out. Pareto: no other combination is at least as fast and as "
                  "frugal (energy) or as cheap (price), and better in one.")
TDP_ESTIMATE = "inf/s per TDP W (estimate)"
SERVED_QPS_NOTE = ("Served QPS: the highest rate of Poisson-arriving queries whose latency percentile stayed within "
                   "the bound (MLPerf server scenario), from a run LoadGen called valid.")


def hardware_note(model: ReportModel) -> str:
    """What the hardware table shows, and what its TDP column is, when it has one."""
    estimate = any(h.ips_per_tdp_w_estimate is not None for h in model.hardware)
    return HARDWARE_NOTE + (TDP_NOTE if estimate else "")


def devices_table(model: ReportModel) -> tuple[list[str], list[list[str]], list[bool]]:
    """(header, rows, numeric): each device of the runs and where it ran; ``numeric`` marks the figure columns
    (the others are names)."""
    rows = [[d.name, d.run, d.host or "-", d.board or "-", d.cpu or "-", format_value(d.price_usd),
             format_value(d.tdp_w), d.total_power_channel or "-"] for d in model.devices]
    return (["device", "run", "host", "board", "cpu", "price USD", "TDP W", "total power channel"], rows,
            [False] * 5 + [True, True, False])


def served_qps_table(model: ReportModel) -> tuple[list[str], list[list[str]], list[bool]]:
    """(header, rows, numeric): the served QPS of each device and model that has one (LoadGen's server scenario)."""
    rows = [[h.device, h.model, h.server_case, format_value(h.served_qps), format_value(h.qps_per_w),
             format_value(h.qps_per_usd)] for h in model.hardware if h.served_qps is not None]
    return (["device", "model", "server case", "served QPS", "QPS per W", "QPS per USD"], rows,
            [False, False, False, True, True, True])


def hardware_table(model: ReportModel) -> tuple[list[str], list[list[str]]]:
    """(header, rows): the first three columns are names, the rest figures."""
    estimate = any(h.ips_per_tdp_w_estimate is not None for h in model.hardware)
    header = ["device", "model", "case", "inf/s", "measured W", "inf/s per W", "mJ/inf", "price USD",
              "inf/s per USD", *([TDP_ESTIMATE] if estimate else [])]
    rows = [[h.device, h.model, h.case, format_value(h.throughput_ips), format_value(h.power_w),
             format_value(h.ips_per_w), format_value(h.energy_per_inference_mj), format_value(h.price_usd),
             format_value(h.ips_per_usd), *([format_value(h.ips_per_tdp_w_estimate)] if estimate else [])]
            for h in model.hardware]
    return header, rows


def selection_table(candidates: Sequence[Candidate], stat: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one model's candidates: rank, device, case, figures, Pareto marks."""
    header = ["rank", "device", "case", f"{stat} ms", "inf/s", "mJ/inf", "measured W", "price USD", "Pareto"]
    rows = [[str(c.rank), c.device, c.case, format_value(c.latency_ms), format_value(c.throughput_ips),
             format_value(c.energy_per_inference_mj), format_value(c.power_w), format_value(c.price_usd),
             pareto_text(c)] for c in candidates]
    return header, rows


def pareto_text(c: Candidate) -> str:
    """``energy, price``: the fronts ``c`` is on ("-" for none)."""
    return ", ".join(n for n, on in (("energy", c.pareto_energy), ("price", c.pareto_price)) if on) or "-"


def budget_title(selection: Selection) -> str:
    return f"Choosing hardware: {selection.budget.text}"
