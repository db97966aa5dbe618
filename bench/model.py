"""A small mean-value model of the worker tier, fed with measured costs (bench/capacity.py measures them).

Pure arithmetic, no Django: tests/reliability/test_capacity_model.py pins every formula.

The system is a closed queueing network: the `qclusters × workers` worker processes are the customers; each run
visits three centres:
- the CPU (`cores` servers): the run's own CPU in the worker plus what the database spends on it (PostgreSQL runs on
  the same cores here), plus the read-and-match a lost claim makes another worker redo (`convoy`);
- one lock that serialises runs (SQLite's single write lock; on PostgreSQL the conversation row lock only serialises
  runs of the same conversation, so its demand is divided by the conversations the traffic is spread over);
- a delay (no queueing): the time a step waits on a remote system (an HTTP call answering in 20–50 ms).

Exact mean-value analysis (MVA) solves the network for N customers; the multi-server CPU uses Seidmann's
approximation (a c-server centre of demand D = one queueing server of demand D/c plus a delay of D·(c−1)/c). The
three laws the bench checks the machine against are here too: the utilisation law (X = U / D), the response-time
law of a closed system (X = N / (R + Z)) and Little's law (L = X · W).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, fields, replace

CONVOYS = ("none", "worst")


@dataclass(frozen=True)
class Costs:
    """What one unit of work costs, in seconds (all measured, see bench/capacity.py)."""

    cpu_per_run: float  # CPU in the worker per run (a qcluster, not in-process)
    db_cpu_per_run: float = 0.0  # CPU of the database server per run (PostgreSQL on the same cores; 0 for SQLite)
    cpu_per_request: float = 0.0  # CPU of the web tier per accepted POST
    match_per_event: float = 0.0  # CPU to read and match one event of a batch (redone by a worker that loses it)
    lock_per_run: float = 0.0  # time a run holds the serialising lock (SQLite: the write lock)
    lock_per_request: float = 0.0  # time a POST holds it
    latency_per_run: float = 0.0  # time a run waits on a remote system (no CPU)
    runs_per_message: float = 3.0
    lock_domains: int = 1  # independent locks the runs spread over (PostgreSQL: conversations; SQLite: 1)


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one configuration."""

    cores: float
    workers: int
    runs_per_s: float
    response_s: float  # time a run spends in the system (CPU, lock, delay, queueing), per worker cycle
    cpu_utilisation: float
    bound: str  # which centre saturates first: "cpu", "lock", "workers" (too few to fill the machine)


def utilisation_law_rate(cores: float, demand: float) -> float:
    """The most a centre of `cores` servers can do when each job needs `demand` seconds of it: X = U / D at U = c."""
    if demand <= 0:
        raise ValueError("demand must be positive")
    return cores / demand


def utilisation(rate: float, demand: float, cores: float) -> float:
    """The utilisation law read the other way: U = X · D / c (1.0 = every core busy)."""
    return rate * demand / cores


def littles_law_population(rate: float, time_in_system: float) -> float:
    """L = X · W: how many jobs are in the system on average."""
    return rate * time_in_system


def littles_law_time(population: float, rate: float) -> float:
    """W = L / X: how long a job stays, from the mean population and the throughput."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    return population / rate


def convoy_cpu_per_run(costs: Costs, drainers: int, convoy: str) -> float:
    """CPU per run spent redoing other workers' read-and-match. "worst": every draining worker reads and matches the
    same batch and all but one lose the claim, so n − 1 redo it for each event; "none": claims never collide."""
    if convoy not in CONVOYS:
        raise ValueError(f"convoy must be one of {CONVOYS}")
    if convoy == "none" or drainers <= 1:
        return 0.0
    return (drainers - 1) * costs.match_per_event / costs.runs_per_message


def cpu_demand(costs: Costs, drainers: int = 1, convoy: str = "none") -> float:
    """CPU seconds per run on the shared cores: worker + database + redone matching."""
    return costs.cpu_per_run + costs.db_cpu_per_run + convoy_cpu_per_run(costs, drainers, convoy)


def mva(customers: int, queueing: list[float], delay: float) -> tuple[float, float]:
    """Exact MVA of a closed network of single-server queueing centres (their demands) plus a pure delay.
    Returns (throughput, time in the queueing centres and the delay per cycle) at `customers`."""
    if customers < 1:
        raise ValueError("at least one customer")
    queues = [0.0] * len(queueing)
    throughput = response = 0.0
    for n in range(1, customers + 1):
        residence = [demand * (1 + queue) for demand, queue in zip(queueing, queues)]
        response = sum(residence) + delay
        throughput = n / response
        queues = [throughput * r for r in residence]
    return throughput, response


def predict(costs: Costs, cores: float, workers: int, convoy: str = "none") -> Prediction:
    """Runs/s of `workers` worker processes (all qclusters together) sharing `cores` with the database."""
    demand = cpu_demand(costs, workers, convoy)
    lock = costs.lock_per_run / max(1, costs.lock_domains)
    servers = max(cores, 1e-9)
    # Seidmann: the c-server CPU as one server of demand D/c plus a delay of D(c-1)/c. A fraction of a core (a cgroup
    # quota) is not a slower core: a run computes at full speed until the quota of the period is spent, so it is one
    # full-speed server with the quota as a throughput bound (X <= c / D, the utilisation law).
    queueing_cpu = demand / servers if servers >= 1 else demand
    extra_delay = demand * (servers - 1) / servers if servers > 1 else 0.0
    centres = [queueing_cpu] + ([lock] if lock > 0 else [])
    throughput, response = mva(workers, centres, costs.latency_per_run + extra_delay)
    if servers < 1 and throughput > servers / demand:
        throughput = servers / demand
        response = workers / throughput
    bounds = {
        "cpu": utilisation_law_rate(servers, demand),
        "lock": 1 / lock if lock > 0 else float("inf"),
        "workers": workers / (demand + lock + costs.latency_per_run),
    }
    return Prediction(
        cores=cores,
        workers=workers,
        runs_per_s=throughput,
        response_s=response,
        cpu_utilisation=utilisation(throughput, demand, servers),
        bound=min(bounds, key=bounds.get),
    )


def message_capacity(costs: Costs, cores: float) -> float:
    """Messages/s the whole system (web + workers on the same `cores`) can take with every run finished: the lower
    of the CPU bound cores / (P + k·r) and the lock bound 1 / (lock per request + k · lock per run)."""
    per_message_cpu = costs.cpu_per_request + costs.runs_per_message * cpu_demand(costs)
    per_message_lock = (costs.lock_per_request + costs.runs_per_message * costs.lock_per_run) / max(
        1, costs.lock_domains
    )
    cpu_bound = utilisation_law_rate(cores, per_message_cpu)
    return min(cpu_bound, 1 / per_message_lock) if per_message_lock > 0 else cpu_bound


def scale_table(
    costs: Costs,
    cores_list: tuple[float, ...] = (1, 2, 4, 8, 16),
    qclusters_list: tuple[int, ...] = (1, 2, 4, 8),
    workers_per_cluster: int = 2,
    convoys: tuple[str, ...] = CONVOYS,
) -> list[dict]:
    """The predicted runs/s for each cores × qclusters × convoy, as rows for a table."""
    rows = []
    for cores in cores_list:
        for clusters in qclusters_list:
            row = {"cores": cores, "qclusters": clusters, "workers": clusters * workers_per_cluster}
            for convoy in convoys:
                result = predict(costs, cores, clusters * workers_per_cluster, convoy)
                row[convoy] = result.runs_per_s
                row[f"{convoy}_bound"] = result.bound
            rows.append(row)
    return rows


def backlog_drain_rate(costs: Costs, cores: float, workers: int, backlog: int, batch: int) -> tuple[float, int]:
    """Runs/s while `workers` drain a backlog of `backlog` events that the engine hands out `batch` events at a time,
    each batch claimed and its runs then executed one after the other by the worker that claimed it
    (workflows/engine/drain.py); every event starts `costs.runs_per_message` runs, which cancels out below.
    Only ceil(backlog / batch) workers ever get a batch, and the drain lasts as many rounds of the largest batch as
    each drainer takes batches: X = backlog / (ceil(batches / drainers) · min(batch, backlog) · R), R the time one
    run takes with that many drainers sharing the cores. Returns (runs/s, drainers)."""
    if backlog < 1 or batch < 1:
        raise ValueError("backlog and batch must be at least 1")
    batches = -(-backlog // batch)
    drainers = min(workers, batches)
    rounds = -(-batches // drainers)
    per_run = predict(costs, cores, drainers).response_s
    return backlog / (rounds * min(batch, backlog) * per_run), drainers


def calibrated_wait(costs: Costs, drainers: int, runs_per_s: float) -> float:
    """The time a run waits beyond its CPU and its remote calls, read from a measured drain: R = drainers / X (the
    response-time law with no think time) minus the CPU demand and the latency. On an oversubscribed machine this is
    the run queue every database round trip waits in; on dedicated cores it tends to the network round trips."""
    if runs_per_s <= 0:
        raise ValueError("runs_per_s must be positive")
    return max(0.0, drainers / runs_per_s - cpu_demand(costs) - costs.latency_per_run)


def average_costs(measured: list[Costs]) -> Costs:
    """The mean of costs measured in several rounds, field by field (e.g. the uncapped drains just before and after
    a capped one, so that both sides of a comparison are measured in the same minutes)."""
    if not measured:
        raise ValueError("at least one measurement")
    means = {item.name: statistics.fmean(getattr(costs, item.name) for costs in measured) for item in fields(Costs)}
    means["lock_domains"] = measured[0].lock_domains
    return Costs(**means)


def with_latency(costs: Costs, latency: float) -> Costs:
    """The same costs with every run waiting `latency` seconds on a remote system."""
    return replace(costs, latency_per_run=latency)


def relative_error(predicted: float, measured: float) -> float:
    """(predicted − measured) / measured: +0.2 means the model promised 20 % more than the machine did."""
    if measured <= 0:
        raise ValueError("measured must be positive")
    return (predicted - measured) / measured


def arrival_rate(answered: list[tuple[int, float]], rate: float) -> float:
    """The rate an open-loop client's posts were taken at, from (place in the schedule, moment answered) pairs:
    `rate` / the least-squares slope of the answer moments against the scheduled ones (i / rate). A system keeping
    up answers post i about i / rate after the first (slope 1); one falling behind answers later and later (slope
    > 1). Unlike count / (last answer − start), one slow answer at the end of a short step does not move it."""
    if len(answered) < 2:
        return rate
    xs, ys = [index / rate for index, _ in answered], [moment for _, moment in answered]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return rate
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread
    return rate / slope if slope > 0 else rate


def sustained_capacity(tries: list[tuple[float, float, bool]]) -> float | None:
    """The capacity found by stepping an offered rate, from (offered, accepted, sustained) tries in the order run:
    the highest accepted rate of a sustained try whose offered rate is below the lowest offered rate that failed at
    its last try (a rate that failed once and was sustained when offered again does not bound it)."""
    last_try: dict[float, bool] = {}
    for offered, _, sustained in tries:
        last_try[offered] = sustained
    failing = min((offered for offered, ok in last_try.items() if not ok), default=float("inf"))
    return max((accepted for offered, accepted, ok in tries if ok and offered < failing), default=None)


def calibrated_wait_on(costs: Costs, cores: float, drainers: int, runs_per_s: float) -> float:
    """The per-run wait beyond CPU that makes the model reproduce a measured drain on the cores its workers actually
    got (their CPU / wall, not the machine's): the extra latency w with predict(costs + w, cores, drainers) = runs_per_s,
    found by bisection (the prediction falls as w grows). 0 when the CPU those cores give already explains the rate.

    Unlike `calibrated_wait` (R = drainers / X minus the CPU), the run queue of a loaded machine is not counted as a
    wait here: it is already in the cores the workers got, and counting it twice makes a capped drain, fed the cores
    it got, look slower than it was."""
    if runs_per_s <= 0:
        raise ValueError("runs_per_s must be positive")
    if predict(costs, cores, drainers).runs_per_s <= runs_per_s:
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if predict(with_latency(costs, costs.latency_per_run + middle), cores, drainers).runs_per_s > runs_per_s:
            low = middle
        else:
            high = middle
    return (low + high) / 2
