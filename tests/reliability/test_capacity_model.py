"""The capacity model's arithmetic (bench/model.py), pinned by hand-computed cases so it cannot silently break."""

from __future__ import annotations

import pytest

from bench.model import (
    Costs,
    arrival_rate,
    average_costs,
    backlog_drain_rate,
    calibrated_wait,
    calibrated_wait_on,
    convoy_cpu_per_run,
    cpu_demand,
    littles_law_population,
    littles_law_time,
    message_capacity,
    mva,
    predict,
    relative_error,
    scale_table,
    sustained_capacity,
    utilisation,
    utilisation_law_rate,
    with_latency,
)

RUN = Costs(cpu_per_run=0.008, match_per_event=0.0006, runs_per_message=3)


def test_the_utilisation_law_both_ways():
    assert utilisation_law_rate(2, 0.01) == pytest.approx(200)
    assert utilisation_law_rate(0.5, 0.01) == pytest.approx(50)
    assert utilisation(100, 0.01, 2) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        utilisation_law_rate(1, 0)


def test_littles_law_both_ways():
    assert littles_law_population(120, 0.25) == pytest.approx(30)
    assert littles_law_time(30, 120) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        littles_law_time(3, 0)


def test_mva_of_one_customer_is_the_sum_of_demands_and_many_customers_reach_the_bottleneck():
    throughput, response = mva(1, [0.01, 0.004], 0.02)
    assert response == pytest.approx(0.034)
    assert throughput == pytest.approx(1 / 0.034)
    # Hand-computed second step: residences 0.01·(1+0.01/0.034), 0.004·(1+0.004/0.034).
    throughput2, response2 = mva(2, [0.01, 0.004], 0.02)
    expected = 0.01 * (1 + 0.01 / 0.034) + 0.004 * (1 + 0.004 / 0.034) + 0.02
    assert response2 == pytest.approx(expected)
    assert throughput2 == pytest.approx(2 / expected)
    assert mva(500, [0.01, 0.004], 0.02)[0] == pytest.approx(100, rel=1e-3)  # 1 / the largest demand
    with pytest.raises(ValueError):
        mva(0, [0.01], 0)


def test_the_convoy_adds_the_redone_matching_only_when_workers_collide():
    assert convoy_cpu_per_run(RUN, 4, "none") == 0
    assert convoy_cpu_per_run(RUN, 1, "worst") == 0
    assert convoy_cpu_per_run(RUN, 4, "worst") == pytest.approx(3 * 0.0006 / 3)
    assert cpu_demand(RUN, 4, "worst") == pytest.approx(0.008 + 0.0006)
    with pytest.raises(ValueError):
        convoy_cpu_per_run(RUN, 2, "sometimes")


def test_cpu_bound_prediction_meets_the_utilisation_law_with_enough_workers():
    result = predict(RUN, cores=2, workers=64)
    assert result.bound == "cpu"
    assert result.runs_per_s == pytest.approx(2 / 0.008, rel=0.02)
    assert result.cpu_utilisation == pytest.approx(1, abs=0.02)
    half = predict(RUN, cores=0.5, workers=2)
    assert half.runs_per_s == pytest.approx(0.5 / 0.008, rel=0.05)


def test_one_worker_cannot_use_two_cores():
    result = predict(RUN, cores=2, workers=1)
    assert result.runs_per_s == pytest.approx(1 / 0.008)
    assert result.bound == "workers"


def test_latency_bound_steps_scale_with_workers_until_the_cores_are_full():
    remote = with_latency(RUN, 0.035)
    four, sixteen, many = (predict(remote, cores=2, workers=n) for n in (4, 16, 400))
    assert four.runs_per_s == pytest.approx(4 / (0.008 + 0.035), rel=0.1)
    assert four.bound == "workers"
    assert sixteen.runs_per_s > 2.5 * four.runs_per_s
    assert many.runs_per_s == pytest.approx(2 / 0.008, rel=0.01)


def test_a_serialising_lock_caps_the_runs_whatever_the_cores():
    sqlite = Costs(cpu_per_run=0.004, lock_per_run=0.005)
    result = predict(sqlite, cores=16, workers=64)
    assert result.bound == "lock"
    assert result.runs_per_s == pytest.approx(200, rel=0.01)
    spread = Costs(cpu_per_run=0.004, lock_per_run=0.005, lock_domains=100)
    assert predict(spread, cores=16, workers=64).bound == "cpu"


def test_message_capacity_is_the_lower_of_the_cpu_and_the_lock_bounds():
    costs = Costs(cpu_per_run=0.009, cpu_per_request=0.018, runs_per_message=3)
    assert message_capacity(costs, 2) == pytest.approx(2 / (0.018 + 3 * 0.009))
    locked = Costs(cpu_per_run=0.009, cpu_per_request=0.018, lock_per_request=0.01, lock_per_run=0.01)
    assert message_capacity(locked, 2) == pytest.approx(1 / 0.04)


def test_the_scale_table_grows_with_cores_and_the_worst_convoy_never_beats_no_convoy():
    costs = Costs(cpu_per_run=0.004, db_cpu_per_run=0.002, match_per_event=0.001)
    rows = scale_table(costs, cores_list=(1, 2, 16), qclusters_list=(1, 8))
    assert len(rows) == 6
    by_key = {(row["cores"], row["qclusters"]): row for row in rows}
    assert by_key[(16, 8)]["none"] > by_key[(2, 8)]["none"] > by_key[(1, 8)]["none"]
    assert all(row["worst"] <= row["none"] + 1e-9 for row in rows)
    assert by_key[(16, 8)]["worst"] < by_key[(16, 8)]["none"]


def test_relative_error_is_signed_against_the_measurement():
    assert relative_error(120, 100) == pytest.approx(0.2)
    assert relative_error(80, 100) == pytest.approx(-0.2)
    with pytest.raises(ValueError):
        relative_error(1, 0)


def test_a_backlog_drain_gets_one_worker_per_batch_and_lasts_as_long_as_the_largest_batch():
    remote = Costs(cpu_per_run=0.005, latency_per_run=0.035, runs_per_message=1)
    rate, drainers = backlog_drain_rate(remote, cores=2, workers=16, backlog=150, batch=100)
    assert drainers == 2
    per_run = predict(remote, 2, 2).response_s
    assert rate == pytest.approx(150 / (100 * per_run))
    many, all_workers = backlog_drain_rate(remote, cores=2, workers=4, backlog=4000, batch=100)
    assert all_workers == 4
    assert many == pytest.approx(4 / predict(remote, 2, 4).response_s)  # 40 batches = 10 rounds of 4
    small, one = backlog_drain_rate(remote, cores=2, workers=8, backlog=30, batch=100)
    assert one == 1 and small == pytest.approx(1 / predict(remote, 2, 1).response_s)
    with pytest.raises(ValueError):
        backlog_drain_rate(remote, cores=2, workers=2, backlog=0, batch=100)


def test_the_calibrated_wait_is_what_the_response_time_law_leaves_after_cpu_and_latency():
    costs = Costs(cpu_per_run=0.010, db_cpu_per_run=0.004, latency_per_run=0.020)
    assert calibrated_wait(costs, drainers=2, runs_per_s=40) == pytest.approx(2 / 40 - 0.034)
    assert calibrated_wait(costs, drainers=1, runs_per_s=1000) == 0
    with pytest.raises(ValueError):
        calibrated_wait(costs, drainers=1, runs_per_s=0)


def test_a_fraction_of_a_core_is_a_full_speed_core_capped_by_its_quota():
    waiting = Costs(cpu_per_run=0.006, latency_per_run=0.02)
    assert predict(waiting, cores=0.1, workers=1).runs_per_s == pytest.approx(0.1 / 0.006)  # the quota binds
    assert predict(waiting, cores=0.5, workers=1).runs_per_s == pytest.approx(1 / 0.026)  # the wait binds


def test_costs_measured_in_several_rounds_average_field_by_field():
    before = Costs(cpu_per_run=0.002, db_cpu_per_run=0.001, lock_per_run=0.004, lock_domains=100, runs_per_message=3)
    after = Costs(cpu_per_run=0.004, db_cpu_per_run=0.002, lock_per_run=0.006, lock_domains=100, runs_per_message=3)
    mean = average_costs([before, after])
    assert mean.cpu_per_run == pytest.approx(0.003)
    assert mean.db_cpu_per_run == pytest.approx(0.0015)
    assert mean.lock_per_run == pytest.approx(0.005)
    assert (mean.lock_domains, mean.runs_per_message) == (100, 3)
    assert average_costs([before]) == before
    with pytest.raises(ValueError):
        average_costs([])


def test_the_arrival_rate_ignores_one_slow_last_answer_but_not_a_growing_backlog():
    rate = 100.0
    keeping_up = [(i, 10 + i / rate + 0.01) for i in range(500)]
    assert arrival_rate(keeping_up, rate) == pytest.approx(100)
    slow_last = keeping_up[:-1] + [(499, 10 + 4.99 + 0.4)]  # count / (last - start) would read 92/s
    assert arrival_rate(slow_last, rate) > 99
    falling_behind = [(i, 10 + i / 80) for i in range(500)]  # the server answers 80/s whatever is offered
    assert arrival_rate(falling_behind, rate) == pytest.approx(80)
    assert arrival_rate([(0, 1.0)], rate) == rate


def test_the_capacity_is_bounded_by_a_rate_that_failed_at_its_last_try():
    tries = [(10, 10, True), (20, 19.9, True), (30, 27, False), (30, 29.8, True), (40, 33, False), (40, 34, False)]
    assert sustained_capacity(tries) == pytest.approx(29.8)  # 30 failed once, then held; 40 failed twice
    refined = tries + [(35, 34.9, True), (37.5, 35, False)]
    assert sustained_capacity(refined) == pytest.approx(34.9)
    assert sustained_capacity([(10, 8, False)]) is None


def test_the_wait_calibrated_on_the_cores_got_reproduces_the_drain_and_ignores_the_run_queue():
    costs = Costs(cpu_per_run=0.002, runs_per_message=3)
    # The workers got 0.5 cores: the CPU alone explains 250 runs/s, so no wait is left to calibrate.
    assert calibrated_wait_on(costs, 0.5, 3, 250) == 0.0
    # A slower drain on the same cores: the wait found makes the model say exactly that rate.
    wait = calibrated_wait_on(costs, 2, 3, 600)
    assert wait > 0
    assert predict(with_latency(costs, wait), 2, 3).runs_per_s == pytest.approx(600, rel=1e-6)
    # The response-time version counts the machine's run queue as a wait as well.
    assert calibrated_wait(costs, 3, 250) == pytest.approx(3 / 250 - 0.002)
    with pytest.raises(ValueError):
        calibrated_wait_on(costs, 1, 1, 0)
