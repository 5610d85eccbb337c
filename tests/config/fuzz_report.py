"""The API fuzz test's request count at the end of the session (a plugin of
the root conftest: under pytest-xdist only the controller prints, and it loads
no conftest below the root)."""

import sys

import pytest

# The fuzz test's figures from every xdist worker, added up in the controller.
_from_workers = {"cases": 0, "seconds": 0.0, "operations": set()}


def _fuzz_stats() -> dict | None:
    fuzz = sys.modules.get("tests.config.test_api_fuzz")
    return fuzz.STATS if fuzz is not None and fuzz.STATS["cases"] else None


def pytest_sessionfinish(session):
    """In an xdist worker: hand this process's figures to the controller."""
    output = getattr(session.config, "workeroutput", None)
    stats = _fuzz_stats()
    if output is not None and stats:
        output["api_fuzz"] = {**stats, "operations": sorted(stats["operations"])}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    stats = getattr(node, "workeroutput", {}).get("api_fuzz")
    if stats:
        _from_workers["cases"] += stats["cases"]
        _from_workers["seconds"] += stats["seconds"]
        _from_workers["operations"].update(stats["operations"])


def pytest_terminal_summary(terminalreporter):
    """How many requests the API fuzz test sent, and how long they took."""
    stats = _fuzz_stats() or _from_workers
    if not stats["cases"]:
        return
    terminalreporter.write_line(
        f"API fuzz: {stats['cases']} cases over {len(stats['operations'])} "
        f"operations in {stats['seconds']:.1f} s of requests "
        f"({1000 * stats['seconds'] / stats['cases']:.1f} ms a case)"
    )
