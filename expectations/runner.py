"""Run a Great Expectations suite on a frame read from DuckDB.

GX's SQL datasource fails on DuckDB (every expectation raises an IndexError upstream), so the
suites run on GX's pandas datasource over an Arrow batch read from the warehouse. The suite is
the same object either way; only where GX reads the rows differs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    critical_success: bool
    evaluated: int
    rows: int
    failures: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, quote: Callable[[str], str] = str) -> str:
        """One line per failed expectation; `quote` shows a detail (it quotes the data)."""
        if self.success:
            return f"{self.suite}: all {self.evaluated} expectations met on {self.rows:,} rows"
        lines = [f"{self.suite}: {len(self.failures)} of {self.evaluated} expectations failed"]
        lines += [f"- {f['expectation']}: {quote(f['detail'])}" for f in self.failures]
        return "\n".join(lines)


_context_lock = threading.Lock()


def warm_up() -> None:
    """Import Great Expectations and make its context now (≈3 s, almost all imports), for
    example in a thread while dbt builds, so that the checks after the build do not wait."""
    _batch_definition()


def _batch_definition():
    with _context_lock:
        return _new_batch_definition()


@lru_cache(maxsize=1)
def _new_batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("kzdw_warehouse")
    asset = source.add_dataframe_asset("batch")
    return context, asset.add_batch_definition_whole_dataframe("whole_batch")


def _describe(result) -> str:
    cfg = result.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
    res = result.result or {}
    bits = []
    if res.get("observed_value") is not None:
        bits.append(f"observed {res['observed_value']!r}")
    if res.get("unexpected_count"):
        sample = res.get("partial_unexpected_list") or []
        bits.append(f"{res['unexpected_count']} unexpected, e.g. {sample[:5]!r}")
    if result.exception_info and result.exception_info.get("raised_exception"):
        bits.append(f"error: {result.exception_info.get('exception_message')}")
    return f"{kwargs} -> {'; '.join(bits) or 'failed'}"


def run_suite(suite, frame) -> SuiteOutcome:
    """Validate a pandas DataFrame (or anything with `to_pandas()`) against a suite.

    Expectations whose `meta` has `critical: True` decide `critical_success`; the others are
    warnings.
    """
    import great_expectations as gx

    if hasattr(frame, "to_pandas"):
        frame = frame.to_pandas()
    context, batch_definition = _batch_definition()
    name = suite.name
    try:
        context.suites.delete(name)
    except Exception:
        pass
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=suite.expectations))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite)
    failures = []
    critical_ok = True
    for r in result.results:
        if r.success:
            continue
        critical = bool((r.expectation_config.meta or {}).get("critical"))
        critical_ok = critical_ok and not critical
        failures.append(
            {
                "expectation": r.expectation_config.type,
                "critical": critical,
                "detail": _describe(r),
            }
        )
    return SuiteOutcome(
        suite=name,
        success=bool(result.success),
        critical_success=critical_ok,
        evaluated=len(result.results),
        rows=len(frame),
        failures=failures,
    )
