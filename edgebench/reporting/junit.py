"""JUnit XML of a comparison, for CI systems that show test results: one test case per case and rule;
*worse* is a failure, *incomparable* an error, *same* and *better* pass."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET


def render_junit(comparison: Any) -> str:
    checks = comparison.checks
    failures, errors = comparison.count("worse"), comparison.count("incomparable")
    suites = ET.Element("testsuites", name="edgebench compare")
    suite = ET.SubElement(suites, "testsuite", name="edgebench compare", tests=str(len(checks)),
                          failures=str(failures), errors=str(errors), skipped="0")
    props = ET.SubElement(suite, "properties")
    for name, value in (("baseline", comparison.baseline_label), ("current", comparison.current_label),
                        ("alpha", f"{comparison.alpha:g}"), ("test", comparison.test)):
        ET.SubElement(props, "property", name=name, value=str(value))
    for c in checks:
        case = ET.SubElement(suite, "testcase", classname=f"edgebench.{c.model}", name=f"{c.case_id} [{c.rule}]")
        change = "n/a" if c.change is None else f"{100 * c.change:+.2f}%"
        message = (f"{c.metric}: {c.baseline} -> {c.current} {c.unit} ({change}, threshold {c.threshold}); "
                   f"{c.detail}")
        if c.verdict == "worse":
            ET.SubElement(case, "failure", message=message, type="regression").text = message
        elif c.verdict == "incomparable":
            ET.SubElement(case, "error", message=message, type="incomparable").text = message
        else:
            ET.SubElement(case, "system-out").text = f"{c.verdict}: {message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
