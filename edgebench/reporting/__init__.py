"""Renderings of runs: terminal table, Markdown, HTML, CSV, JSON, JUnit."""
