"""Reports for tests in this folder."""

import sys


def pytest_terminal_summary(terminalreporter):
    """How many requests the API fuzz test sent, and how long they took."""
    fuzz = sys.modules.get("tests.config.test_api_fuzz")
    if fuzz is None or not fuzz.STATS["cases"]:
        return
    stats = fuzz.STATS
    terminalreporter.write_line(
        f"API fuzz: {stats['cases']} cases over {stats['operations']} operations "
        f"in {stats['seconds']:.1f} s of requests "
        f"({1000 * stats['seconds'] / stats['cases']:.1f} ms a case)"
    )
