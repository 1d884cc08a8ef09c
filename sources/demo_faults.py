"""Rule-breaking rows for the demo landing set, so the demo exercises the audit.

Every single-column rule of `sources.contracts.COLUMN_RULES` and every `RowRule` of every
source is broken by at least one row. Each broken row is either a new key or a *newer* version
of a good row (a later 更新时间): rejected, it must not replace the good version, so the
calibrated figures only hold if the loader rejects it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from stdnum.cn import ric, uscc

from sources.contracts import SOURCES
from sources.demo_files import LandingFile, text_rows
from sources.demo_reference import uscc_check_chars

Typed = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class Fault:
    rule: str
    # Text values that replace the rendered ones ("" = an empty cell).
    text: dict[str, str] = field(default_factory=dict)
    # A change to the typed row before it is rendered (for cross-column rules).
    typed: Typed | None = None
    # A new key instead of a newer version of a good row.
    fresh: bool = False
    # Which good rows of the host file may serve as the base.
    where: pl.Expr | None = None


def _set(**values: object) -> Typed:
    return lambda row: row.with_columns(
        (v if isinstance(v, pl.Expr) else pl.lit(v)).alias(k) for k, v in values.items()
    )


def _shifted(column: str, base: str, **delta: int) -> Typed:
    return _set(**{column: pl.col(base) - pl.duration(**delta)})


def _other_check(code: str, alphabet: str) -> str:
    return code[:-1] + next(c for c in alphabet if c != code[-1])


# Every demo key ends in a running number, four digits wide that never reach 9000, or for
# cases the six of the day's running number, which stays below demo_cases.CASE_SEQ_LIMIT
# (999000) at any scale: 9s there make a key no good row uses.
RUNNING_DIGITS = {"permit_cases": 6}


def _broken(host: LandingFile, faults: list[Fault]) -> pl.DataFrame:
    key = SOURCES[host.source].key
    digits = RUNNING_DIGITS.get(host.source, 4)
    out = []
    for i, fault in enumerate(faults):
        base = host.rows if fault.where is None else host.rows.filter(fault.where)
        row = base.slice((i * 7_919 + 13) % base.height, 1)
        row = row.with_columns(pl.col("updated_at") + pl.duration(days=2))
        if fault.fresh:
            fresh = f"9{i:03d}".rjust(digits, "9")
            row = row.with_columns(
                pl.col(key).str.slice(0, pl.col(key).str.len_chars() - digits) + pl.lit(fresh)
            )
        if fault.typed is not None:
            row = fault.typed(row)
        text = text_rows(host, row)
        text = text.with_columns(pl.lit(v, dtype=pl.String).alias(c) for c, v in fault.text.items())
        out.append(
            text.with_columns(
                pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
                for c in fault.text
            )
        )
    return pl.concat(out)


def _may_case_faults(_: LandingFile) -> list[Fault]:
    completed = pl.col("status") == "已办结"
    return [
        Fault("required", {"case_id": ""}, fresh=True),
        Fault("required", {"submitted_at": ""}),
        Fault("invalid_timestamp", {"submitted_at": "2022-02-30 10:15:00"}, fresh=True),
        Fault("invalid_timestamp", {"updated_at": "2022/05/32 09:00:00"}),
        Fault("invalid_integer", {"trips": "1.5"}),
        Fault("not_allowed_value", {"status": "办理中"}),
        Fault("not_allowed_value", {"intake": "自助终端"}, fresh=True),
        Fault("below_minimum", {"trips": "-1"}),
        Fault("above_maximum", {"promised_days": "400"}, fresh=True),
        Fault("above_maximum", {"trips": "25"}),
        Fault(
            "accepted_before_submitted",
            typed=_shifted("accepted_at", "submitted_at", days=1),
            fresh=True,
            where=completed,
        ),
        Fault(
            "completed_before_accepted",
            typed=_shifted("completed_at", "accepted_at", hours=2),
            where=completed,
        ),
        Fault("completed_at_required_when_completed", {"completed_at": ""}, where=completed),
    ]


def _february_case_faults(_: LandingFile) -> list[Fault]:
    completed = pl.col("status") == "已办结"
    return [
        Fault("required", {"item_code": ""}),
        Fault(
            "invalid_timestamp", {"accepted_at": "2023-02-29 10:00:00"}, fresh=True, where=completed
        ),
        Fault("not_allowed_value", {"rating": "一般"}, where=completed),
    ]


def _lossy_digits(code: str) -> bool:
    """Whether an all-digit 18-character code stored as an Excel number comes back changed
    and no longer valid (so any reader rejects it, whether or not it spots the number)."""
    if not code.isdigit():
        return False
    back = f"{int(float(code)):d}"
    # Wrong check character, not just an implausible birthplace: a reader that tests only the
    # check character (as the contract asks) must still refuse it.
    id_check_wrong = ric.calc_check_digit(back) != back[17]
    return back != code and id_check_wrong and not uscc.is_valid(back)


def _digit_credit_code(serial: int) -> str:
    """A valid all-digit credit code (an individual business with a numeric body) that an
    Excel number cell would corrupt."""
    for s in range(serial, serial + 10_000):
        body = f"{(s * 48_271 + 7) % 100_000_000:08d}"
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        c = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
        if c >= 10:
            continue
        first17 = f"92500154{body}{c}"
        code = first17 + str(uscc_check_chars(np.array([first17]))[0])
        if code.isdigit() and uscc.is_valid(code) and _lossy_digits(code):
            return code
    raise ValueError("no all-digit credit code found")


def _april_entity_faults(_: LandingFile) -> list[Fault]:
    setup = pl.col("event_type") == "设立"
    with_rep = pl.col("legal_rep_id").is_not_null()
    return [
        Fault("required", {"entity_name": ""}),
        Fault("required", {"event_type": ""}, fresh=True),
        Fault("invalid_number", {"registered_capital": "五十"}),
        Fault("invalid_flag", {"is_returnee": "不详"}, where=setup),
        Fault("below_minimum", {"registered_capital": "-10"}, fresh=True),
        Fault("not_allowed_value", {"entity_type": "外资企业"}, fresh=True),
        Fault("not_allowed_value", {"industry_section": "Z"}),
        Fault(
            "wrong_length",
            typed=_set(uscc=pl.col("uscc").str.slice(0, 8) + pl.col("uscc").str.slice(9)),
        ),
        Fault(
            "uscc_check_character",
            typed=lambda r: r.with_columns(
                pl.col("uscc").map_elements(
                    lambda c: _other_check(c, "0123456789ABCDEFGHJKLMNPQRTUWXY"),
                    return_dtype=pl.String,
                )
            ),
        ),
        Fault(
            "cn_id_check_digit",
            where=with_rep,
            typed=lambda r: r.with_columns(
                pl.col("legal_rep_id").map_elements(
                    lambda c: _other_check(c, "0123456789X"), return_dtype=pl.String
                )
            ),
        ),
        Fault("invalid_timestamp", {"completed_at": "2021-04-31 10:00:00"}, fresh=True),
        Fault(
            "completed_before_submitted",
            typed=_shifted("completed_at", "submitted_at", hours=1),
            fresh=True,
        ),
    ]


def _october_entity_faults(host_xlsx: LandingFile) -> list[Fault]:
    setup = pl.col("event_type") == "设立"
    with_rep = pl.col("legal_rep_id").is_not_null()
    lossy = host_xlsx.rows.filter(
        with_rep & pl.col("legal_rep_id").map_elements(_lossy_digits, return_dtype=pl.Boolean)
    )
    ids = lossy.get_column("event_id").head(2).to_list()
    return [
        Fault("excel_number_lost_digits", where=pl.col("event_id") == ids[0]),
        Fault("excel_number_lost_digits", where=pl.col("event_id") == ids[1]),
        Fault(
            "excel_number_lost_digits",
            fresh=True,
            where=setup,
            typed=_set(uscc=_digit_credit_code(20_221_031), entity_type="个体工商户"),
        ),
    ]


def _item_faults(_: LandingFile) -> list[Fault]:
    return [
        Fault("invalid_flag", {"online_enabled": "部分"}),
        Fault("not_allowed_value", {"item_type": "行政检查"}, fresh=True),
        Fault("required", {"department": ""}, fresh=True),
        Fault("invalid_timestamp", {"updated_at": "2022-07-32 10:00:00"}),
        Fault("not_allowed_value", {"item_status": "暂停"}),
        Fault("not_allowed_value", {"reform": "简化审批"}),
    ]


def _project_faults(_: LandingFile) -> list[Fault]:
    signed = pl.col("signed_date").is_not_null()
    talked = pl.col("first_talk_date").is_not_null()
    started = pl.col("started_date").is_not_null()
    return [
        Fault("invalid_date", {"lead_date": "2021-02-30"}, fresh=True),
        Fault("invalid_number", {"planned_investment": "约5"}),
        Fault("invalid_flag", {"is_industrial": "待定"}),
        Fault("below_minimum", {"land_mu": "-20"}),
        Fault("not_allowed_value", {"cluster": "新材料"}, fresh=True),
        Fault(
            "contract_investment_required_when_signed", {"contract_investment": ""}, where=signed
        ),
        Fault(
            "first_talk_before_lead",
            where=talked,
            typed=_shifted("first_talk_date", "lead_date", days=10),
        ),
        Fault(
            "signed_before_lead",
            where=signed & ~started,
            fresh=True,
            typed=_shifted("signed_date", "lead_date", days=5),
        ),
        Fault(
            "signed_date_required_for_stage",
            {"signed_date": "", "stage": "签约"},
            where=signed & ~started,
            fresh=True,
        ),
        Fault(
            "started_before_signed",
            where=started,
            typed=_shifted("started_date", "signed_date", days=3),
        ),
        Fault(
            "started_date_required_for_stage",
            {"started_date": "", "production_date": ""},
            where=started,
            typed=_set(stage="开工"),
        ),
        Fault(
            "production_before_started",
            where=started,
            fresh=True,
            typed=_set(stage="投产", production_date=pl.col("started_date") - pl.duration(days=30)),
        ),
        Fault(
            "production_date_required_for_stage",
            {"production_date": ""},
            where=started,
            typed=_set(stage="投产"),
        ),
    ]


# The host files and the rule-breaking rows each carries.
HOSTS: dict[str, Callable[[LandingFile], list[Fault]]] = {
    "cases_2022-05.csv": _may_case_faults,
    "cases_2023-02.csv": _february_case_faults,
    "entities_2021-04.csv": _april_entity_faults,
    "entities_2022-10.xlsx": _october_entity_faults,
    "catalogue_changes_2022-H1.csv": _item_faults,
    "projects_2021Q4.csv": _project_faults,
}


def add_faults(f: LandingFile) -> bool:
    """Append rule-breaking rows to `f` if it is one of the HOSTS (and say whether it is);
    called on each file just before it is written, so a host needs only its own rows."""
    make = HOSTS.get(f.name)
    if make is None:
        return False
    faults = make(f)
    f.broken = _broken(f, faults)
    for values in f.extra_columns.values():
        values.extend([None] * len(faults))
    if f.name == "entities_2022-10.xlsx":
        f.excel_number_columns = ("legal_rep_id", "uscc")
    return True
