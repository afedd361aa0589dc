"""Report: results.json, run reports (markdown + plots) and comparisons across runs."""

from mssr.report.compare import compare_runs
from mssr.report.results import load_results, write_results
from mssr.report.run_report import write_report

__all__ = ["compare_runs", "load_results", "write_report", "write_results"]
