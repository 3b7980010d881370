"""The suite's mutation score: every planted bug of mutants.yaml, one at a time, behind the
mutating proxy (admin API hidden), and the suite run against it through EnKash's API alone. The
suite is first run against the proxy with no bug planted: it must pass, or a catch means nothing.

`quick` stops at the first violation of each mutant (its seconds are the time to the verdict);
`full` runs every stage against every mutant and lists all the contracts that broke."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .api import Target
from .contract import Context, ContractViolation
from .generated import OPERATIONS, check_invalid_requests, check_valid_requests
from .identity import RunIds, new_run_id
from .links import ROUTES
from .magic import MagicTable
from .profiles import Budget
from .properties import CHECKS, NotApplicable
from .proxy import MutatingProxy, ProxyThread, catalogue
from .session import Session
from .stateful import run_machine

Stage = tuple[str, Callable[[Session], None]]


def stages() -> list[Stage]:
    """The suite in the order it runs: the contract checks, then the generated properties, then the state machine."""
    out: list[Stage] = [(c.name, c.run) for c in CHECKS]
    out += [(f"valid {r.operation}", lambda s, r=r: check_valid_requests(s, r)) for r in OPERATIONS]
    out += [(f"invalid {r.operation}", lambda s, r=r: check_invalid_requests(s, r)) for r in OPERATIONS]
    out.append(("state machine", run_machine))
    return out


@dataclass
class Verdict:
    mutant: dict[str, Any]
    status: str  # caught, missed, n/a
    contract: str = ""  # the first contract found broken
    stage: str = ""
    seconds: float = 0.0
    detail: str = ""
    contracts: list[str] = field(default_factory=list)  # full mode: every contract found broken


class Recorder:
    """Every violation raised while one mutant is planted, with the time it was raised."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, ContractViolation, str]] = []
        self.stage = ""

    def __call__(self, violation: ContractViolation) -> None:
        self.seen.append((time.perf_counter(), violation, self.stage))


def run_stages(session_factory: Callable[[], Session], chosen: Iterable[Stage], stop_at_first: bool) -> tuple[Recorder, list[str]]:
    recorder = Recorder()
    problems: list[str] = []
    Context.listeners.append(recorder)
    try:
        recorder.stage = "session start"
        session = session_factory()
        for name, stage in chosen:
            recorder.stage = name
            try:
                stage(session)
            except NotApplicable:
                pass
            except ContractViolation:
                pass
            except Exception as error:  # hypothesis' own errors wrap the violation, which the recorder kept
                if not any(stage_name == name for _, _, stage_name in recorder.seen):
                    problems.append(f"{name}: {type(error).__name__}: {str(error)[:300]}")
            if stop_at_first and (recorder.seen or problems):
                break
        session.close()
    except ContractViolation:
        pass
    finally:
        Context.listeners.remove(recorder)
    return recorder, problems


def score(upstream_url: str, target: Target, budget: Budget, seed: int, *, admin_token: str = "", full: bool = False,
          mutants: list[dict[str, Any]] | None = None, magic: MagicTable | None = None) -> tuple[list[Verdict], float]:
    """(one verdict per mutant, seconds of the clean baseline run)."""
    served = {route.operation for route in ROUTES}
    magic = magic or MagicTable.of_files([])
    proxy = MutatingProxy(upstream_url, admin_token)
    verdicts: list[Verdict] = []
    with ProxyThread(proxy) as running:
        aimed = Target(**{**target.__dict__, "url": running.url, "is_sandbox": False, "owned": False})

        def session() -> Session:
            return Session(aimed, RunIds(new_run_id(), magic), magic, budget, seed)

        started = time.perf_counter()
        recorder, problems = run_stages(session, stages(), stop_at_first=False)
        baseline = time.perf_counter() - started
        if recorder.seen or problems:
            first = recorder.seen[0][1].report() if recorder.seen else problems[0]
            raise AssertionError(f"the suite fails against the sandbox with no bug planted, so no mutant verdict means anything:\n{first}")
        for spec in mutants or catalogue():
            if spec.get("requires") and spec["requires"] not in served:
                verdicts.append(Verdict(spec, "n/a", detail=f"the sandbox does not serve {spec['requires']}"))
                continue
            proxy.plant(spec)
            started = time.perf_counter()
            recorder, problems = run_stages(session, stages(), stop_at_first=not full)
            proxy.plant(None)
            if recorder.seen:
                at, violation, stage = recorder.seen[0]
                contracts = sorted({v.contract for _, v, _ in recorder.seen})
                verdicts.append(Verdict(spec, "caught", violation.contract, stage, at - started, violation.detail, contracts))
            elif problems:
                verdicts.append(Verdict(spec, "caught", "(error)", problems[0].split(":")[0], time.perf_counter() - started, problems[0]))
            else:
                verdicts.append(Verdict(spec, "missed", seconds=time.perf_counter() - started))
    return verdicts, baseline


def table(verdicts: list[Verdict], baseline: float) -> str:
    """The catalogue and the score, as a Markdown table."""
    caught = sum(v.status == "caught" for v in verdicts)
    applicable = sum(v.status != "n/a" for v in verdicts)
    lines = [f"Mutation score: {caught}/{applicable} planted bugs caught"
             + (f" ({len(verdicts) - applicable} n/a)" if applicable < len(verdicts) else "")
             + f"; clean run {baseline:.1f} s", "",
             "| planted bug | contract it breaks | verdict | caught by | in | seconds |", "|---|---|---|---|---|---|"]
    for v in verdicts:
        by = ", ".join(v.contracts) if len(v.contracts) > 1 else v.contract
        lines.append(f"| {v.mutant['id']}: {v.mutant['bug']} | {v.mutant['contract']} | {v.status} | {by or '-'} | {v.stage or '-'} "
                     f"| {v.seconds:.2f} |")
    return "\n".join(lines)
