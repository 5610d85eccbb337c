"""The load test's arithmetic: percentiles, stage summaries and the knee."""

import pytest

from benchmarks.load_stats import Sample, Stage, knee, percentile, summarize, table


def stage(users, requests_per_second, p95, *, errors=0, actions=100):
    return Stage(
        users=users,
        window=10,
        requests_per_second=requests_per_second,
        runs_per_second=requests_per_second / 10,
        latency={"page": (p95 / 2, p95, p95), "run": (p95 / 4, p95 / 2, p95)},
        errors=errors,
        actions=actions,
    )


def test_percentile_is_the_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0.0) == 1.0


def test_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_throughput_counts_what_finished_in_the_window_and_latency_everything():
    samples = [
        Sample("page", 0.0, 0.1),
        Sample("page", 1.0, 1.3),
        Sample("post", 2.0, 2.1),
        Sample("run", 2.0, 3.0),
        # Started in the window, finished while the stage drained.
        Sample("page", 9.5, 12.0),
        Sample("page", 4.0, 4.2, ok=False),
    ]
    summary = summarize(2, 10, samples)
    assert summary.requests_per_second == pytest.approx(0.3)  # 3 in 10 s
    assert summary.runs_per_second == pytest.approx(0.1)
    assert summary.counts == {"page": 3, "post": 1, "run": 1}
    assert summary.latency["page"][2] == pytest.approx(2.5)
    assert summary.errors == 1
    assert summary.actions == 6
    assert summary.worst_p95() == pytest.approx(2.5)


def test_the_knee_is_the_fastest_stage_under_the_limit_and_the_first_one_over():
    stages = [
        stage(1, 5, 0.1),
        stage(2, 10, 0.2),
        stage(4, 20, 0.9),
        stage(8, 18, 1.4),
        stage(16, 19, 3.0),
    ]
    best, first_over = knee(stages, limit=1.0)
    assert best.users == 4
    assert first_over.users == 8


def test_a_passing_stage_with_less_throughput_than_an_earlier_one_is_not_the_knee():
    stages = [stage(1, 5, 0.2), stage(2, 12, 0.5), stage(4, 11, 0.7)]
    best, first_over = knee(stages, limit=1.0)
    assert best.users == 2
    assert first_over is None


def test_a_stage_with_too_many_errors_does_not_pass_however_fast():
    stages = [stage(1, 5, 0.2), stage(2, 50, 0.05, errors=30, actions=100)]
    best, first_over = knee(stages, limit=1.0)
    assert best.users == 1
    assert first_over.users == 2


def test_slow_runs_leave_the_request_knee_alone_and_have_their_own():
    slow_runs = stage(4, 20, 0.5)
    slow_runs.latency["run"] = (1.0, 4.0, 5.0)
    stages = [stage(1, 5, 0.2), stage(2, 10, 0.4), slow_runs]
    best, first_over = knee(stages, limit=1.0)
    assert best.users == 4
    assert first_over is None
    best, first_over = knee(stages, limit=1.0, kinds=("run",))
    assert best.users == 2
    assert first_over.users == 4


def test_no_knee_when_the_first_stage_is_already_over():
    best, first_over = knee([stage(1, 3, 1.5), stage(2, 4, 2.5)], limit=1.0)
    assert best is None
    assert first_over.users == 1


def test_the_table_has_a_row_a_stage_with_milliseconds():
    text = table([stage(1, 5, 0.25), stage(2, 9, 0.5)])
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| 1 | 5.0 | 0.50 | 125 / 250 / 250 |")
    assert "| - |" in lines[2]  # no API POST samples
