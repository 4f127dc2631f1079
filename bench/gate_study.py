"""Does the recommended CI gate hold? Real back-to-back runs with the CLI, paired, judged by the recommended rules.

Each pair runs three times, back to back, as CI would (``edgebench run --profile local --suite gate``):

    A    the gate suite as shipped (suites/gate.toml)
    B    the same suite again: A/A, identical builds; any "worse" verdict is a false alarm
    C    the suite made slower (``SLOW_EDITS``): onnxruntime with graph optimisation disabled (a real model made
         slower), the null_body synthetic at 220 us instead of 200 us (a 10 % median slowdown), and the
         null_tail synthetic stalling 400 us on every 50th call (p99 about x2: ~300 -> ~600 us; p50 unchanged)

and compares B with A and C with A (``edgebench compare --json``) using the rules ``docs/github-actions.yml``
recommends (``RECOMMENDED_RULES``) plus the same rules scoped ``@backend=null`` (the null backend is not gated by
default; here its known service times are the yardstick). It prints, and writes as JSON:

* false alarms: A/A pairs with any "worse" verdict (target: at most 1 in 20), and which rule raised them;
* catches: per slowed case, pairs whose C verdict for that case is "worse" (target: at least 19 in 20 for the
  10 % median slowdowns and, with the tail rule on, the tail-only regression);
* undecidable verdicts and noise lines, and the time a run takes (the CI job runs the suite once and compares:
  target under 5 minutes with the install).

    python bench/gate_study.py                    # 20 pairs: 60 runs, about 45 min on a quiet 2-core VM
    python bench/gate_study.py --quick            # 2 pairs, to check the study itself works
    python bench/gate_study.py --pairs 5 --out reports/gate-study --json gate-study.json

The full study must run on a quiet machine of the kind CI uses; docs/ci-gates.md has its figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO / "suites" / "gate.toml"
#: what docs/github-actions.yml passes to ``edgebench compare`` (keep the two in step)
RECOMMENDED_RULES = ("latency.p50:+5%", "latency.p99:+30%", "memory.peak:+10%")
#: the slowed-down suite: (line in suites/gate.toml, its replacement); every line must be found
SLOW_EDITS = (
    ('graph_optimization = "all"', 'graph_optimization = "disable"'),
    # null_body: the first include's busy wait; null_tail: the stall
    ('backend = "null"\nbusy_wait_us = 200\n\n', 'backend = "null"\nbusy_wait_us = 220\n\n'),
    ('backend = "null"\nbusy_wait_us = 200\nstall_every = 0\nstall_us = 0\n',
     'backend = "null"\nbusy_wait_us = 200\nstall_every = 50\nstall_us = 400\n'),
)
#: case (by model and backend) -> what C does to it, and the rule that must catch it
EXPECTED = {
    ("kws_dscnn", "onnxruntime"): ("graph optimisation disabled", "latency.p50:+5%"),
    ("null_body", "null"): ("10 % median slowdown (200 -> 220 us)", "latency.p50:+5%@backend=null"),
    ("null_tail", "null"): ("tail only: 400 us stall every 50th call", "latency.p99:+30%@backend=null"),
}


def slow_suite_text(text: str) -> str:
    for old, new in SLOW_EDITS:
        if old not in text:
            raise SystemExit(f"{SUITE}: the study cannot find {old!r} to slow the suite down; update SLOW_EDITS")
        text = text.replace(old, new, 1)
    return text


def run_suite(suite: Path, out: Path, profile: str) -> float:
    """One ``edgebench run``; returns its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "edgebench", "run", "--profile", profile, "--suite", str(suite),
                           "--out", str(out)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"edgebench run --suite {suite} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def compare(base: Path, current: Path, rules: list[str]) -> tuple[int, dict, float]:
    """``edgebench compare`` with the rules; (exit code, its JSON, wall seconds)."""
    report = current / "compare.json"
    args = [sys.executable, "-m", "edgebench", "compare", str(base), str(current), "--json", str(report)]
    for rule in rules:
        args += ["--fail-on", rule]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode not in (0, 1, 4):
        raise SystemExit(f"edgebench compare failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr}")
    return done.returncode, json.loads(report.read_text()), time.perf_counter() - started


def worse_checks(result: dict) -> list[dict]:
    return [c for c in result["checks"] if c["verdict"] == "worse"]


def study(pairs: int, out_dir: Path, profile: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    # the slowed copy points at the shipped model files: the same bytes, so the same model sha256
    slow_suite = out_dir / "gate-slow.toml"
    slow_suite.write_text(slow_suite_text(SUITE.read_text()).replace('"models/', f'"{SUITE.parent}/models/'))
    rules = list(RECOMMENDED_RULES) + [f"{r}@backend=null" for r in RECOMMENDED_RULES if "@" not in r]
    figures: dict = {"pairs": pairs, "profile": profile, "rules": rules, "run_seconds": [], "compare_seconds": [],
                     "false_alarms": 0, "false_alarm_rules": {}, "undecidable_aa": 0, "noise_lines": [],
                     "caught": {f"{m}/{b}": 0 for m, b in EXPECTED}, "aa_exit_codes": [], "slow_exit_codes": []}
    for index in range(pairs):
        a, b, c = (out_dir / f"pair{index:02d}-{name}" for name in ("A", "B", "C"))
        figures["run_seconds"].append(run_suite(SUITE, a, profile))
        figures["run_seconds"].append(run_suite(SUITE, b, profile))
        figures["run_seconds"].append(run_suite(slow_suite, c, profile))
        code, aa, seconds = compare(a, b, rules)
        figures["compare_seconds"].append(seconds)
        figures["aa_exit_codes"].append(code)
        alarms = worse_checks(aa)
        figures["false_alarms"] += bool(alarms)
        for check in alarms:
            figures["false_alarm_rules"][check["rule"]] = figures["false_alarm_rules"].get(check["rule"], 0) + 1
        figures["undecidable_aa"] += aa["counts"].get("undecidable", 0)
        figures["noise_lines"] += aa.get("noise", [])
        code, slow, seconds = compare(a, c, rules)
        figures["compare_seconds"].append(seconds)
        figures["slow_exit_codes"].append(code)
        for check in worse_checks(slow):
            for (model, backend), (_, rule) in EXPECTED.items():
                if check["model"] == model and check["backend"] == backend and check["rule"] == rule:
                    figures["caught"][f"{model}/{backend}"] += 1
        print(f"pair {index + 1}/{pairs}: A/A {'FALSE ALARM' if alarms else 'pass'} (exit "
              f"{figures['aa_exit_codes'][-1]}), slowed: exit {code}, "
              f"{', '.join(f'{k} {v}' for k, v in figures['caught'].items())} caught so far", flush=True)
    return figures


def render(figures: dict) -> str:
    pairs = figures["pairs"]
    runs = figures["run_seconds"]
    lines = [f"gate study: {pairs} pairs on profile {figures['profile']}, rules: {' '.join(figures['rules'])}",
             f"A/A false alarms: {figures['false_alarms']}/{pairs} (target <= {max(1, pairs // 20)})"
             + (f" from {figures['false_alarm_rules']}" if figures["false_alarm_rules"] else ""),
             f"A/A undecidable checks: {figures['undecidable_aa']}"]
    for (model, backend), (what, rule) in EXPECTED.items():
        caught = figures["caught"][f"{model}/{backend}"]
        lines.append(f"caught {model}/{backend} ({what}) by {rule}: {caught}/{pairs}")
    if runs:
        lines.append(f"one run of the gate suite: median {sorted(runs)[len(runs) // 2]:.1f} s, max {max(runs):.1f} s; "
                     f"compare: max {max(figures['compare_seconds']):.1f} s")
    for line in sorted(set(figures["noise_lines"])):
        lines.append(f"noisy: {line}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=20, help="pairs (each: A, B = A again, C = slowed); default 20")
    parser.add_argument("--quick", action="store_true", help="2 pairs: checks that the study works, not the gate")
    parser.add_argument("--profile", default="local")
    parser.add_argument("--out", type=Path, default=None, help="where the runs go (default reports/gate-study-<time>)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    pairs = 2 if args.quick else args.pairs
    if pairs < 1:
        parser.error("--pairs must be at least 1")
    out = args.out or REPO / "reports" / f"gate-study-{time.strftime('%Y%m%d-%H%M%S')}"
    figures = study(pairs, out, args.profile)
    text = render(figures)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
