"""Every rule of the contract rejects what it should, reports the first rule and the value."""

import random
import string

import polars as pl
import pytest
from stdnum.cn import ric, uscc

from sources.contracts import (
    COLUMN_RULES,
    INVESTMENT_PROJECTS,
    MARKET_ENTITIES,
    PERMIT_CASES,
    SERVICE_ITEMS,
    SOURCES,
)
from sources.validate import (
    PY_WHITESPACE,
    USCC_ALPHABET,
    cn_id_valid,
    mask_expr,
    uscc_valid,
    validate,
)

DIGITS = string.digits

# Published examples of a valid credit code (GB 32100 annex) and ID number (GB 11643).
USCC = "91350100M000100Y43"
RIC = "11010519491231002X"

GOOD = {
    "market_entities": {
        "event_id": "E1",
        "uscc": USCC,
        "entity_name": "开州某某公司",
        "entity_type": "企业",
        "industry_section": "C",
        "township": "汉丰街道",
        "registered_capital": "100.5",
        "event_type": "设立",
        "submitted_at": "2022-01-01 09:00:00",
        "completed_at": "2022-01-01 11:00:00",
        "is_returnee": "否",
        "legal_rep_name": "张三",
        "legal_rep_id": RIC,
        "updated_at": "2022-01-02 00:00:00",
    },
    "permit_cases": {
        "case_id": "C1",
        "item_code": "I1",
        "channel": "全程网办",
        "intake": "网上申报",
        "applicant_type": "自然人",
        "applicant_id": RIC,
        "submitted_at": "2022-01-01 09:00:00",
        "accepted_at": "2022-01-01 10:00:00",
        "completed_at": "2022-01-03 10:00:00",
        "status": "已办结",
        "trips": "0",
        "promised_days": "5",
        "rating": "满意",
        "updated_at": "2022-01-04 00:00:00",
    },
    "service_items": {
        "item_code": "I1",
        "item_name": "x",
        "item_type": "行政许可",
        "department": "区民政局",
        "online_enabled": "是",
        "high_frequency": "否",
        "one_window": "1",
        "reform": None,
        "item_status": "在用",
        "updated_at": "2022-01-01 00:00:00",
    },
    "investment_projects": {
        "project_id": "P1",
        "project_name": "x",
        "investor": "y",
        "cluster": "电子信息",
        "team": "绿色工业",
        "is_industrial": "是",
        "stage": "投产",
        "planned_investment": "10",
        "contract_investment": "8",
        "land_mu": "100",
        "lead_date": "2022-01-01",
        "first_talk_date": "2022-01-05",
        "signed_date": "2022/02/01",
        "started_date": "2022-03-01",
        "production_date": "2022-12-01",
        "updated_at": "2022-12-02 08:00:00",
    },
}

# (source, changes to a good row, expected first rule, column reported)
CASES = [
    ("permit_cases", {"case_id": None}, "required", "case_id"),
    ("permit_cases", {"channel": "线下"}, "not_allowed_value", "channel"),
    ("permit_cases", {"submitted_at": "2022-13-01 09:00:00"}, "invalid_timestamp", "submitted_at"),
    ("permit_cases", {"submitted_at": "01/02/2022"}, "invalid_timestamp", "submitted_at"),
    ("permit_cases", {"submitted_at": "2022-1-1 09:00:00"}, "invalid_timestamp", "submitted_at"),
    ("permit_cases", {"submitted_at": "2022-01-01"}, "invalid_timestamp", "submitted_at"),
    ("investment_projects", {"lead_date": "2022-01-01 00:00:00"}, "invalid_date", "lead_date"),
    ("permit_cases", {"trips": "1.5"}, "invalid_integer", "trips"),
    ("permit_cases", {"trips": "-1"}, "below_minimum", "trips"),
    ("permit_cases", {"trips": "21"}, "above_maximum", "trips"),
    ("permit_cases", {"promised_days": "366"}, "above_maximum", "promised_days"),
    ("permit_cases", {"rating": "好"}, "not_allowed_value", "rating"),
    (
        "permit_cases",
        {"accepted_at": "2022-01-01 08:59:59"},
        "accepted_before_submitted",
        "accepted_at",
    ),
    (
        "permit_cases",
        {"completed_at": "2022-01-01 09:59:00"},
        "completed_before_accepted",
        "completed_at",
    ),
    (
        "permit_cases",
        {"accepted_at": None, "completed_at": "2022-01-01 08:00:00"},
        "completed_before_accepted",
        "completed_at",
    ),
    (
        "permit_cases",
        {"completed_at": None},
        "completed_at_required_when_completed",
        "completed_at",
    ),
    ("market_entities", {"uscc": USCC[:-1] + "4"}, "uscc_check_character", "uscc"),
    ("market_entities", {"uscc": USCC[:-1]}, "wrong_length", "uscc"),
    ("market_entities", {"legal_rep_id": RIC[:-1] + "1"}, "cn_id_check_digit", "legal_rep_id"),
    ("market_entities", {"entity_type": "公司"}, "not_allowed_value", "entity_type"),
    ("market_entities", {"industry_section": "Z"}, "not_allowed_value", "industry_section"),
    ("market_entities", {"registered_capital": "-1"}, "below_minimum", "registered_capital"),
    ("market_entities", {"registered_capital": "1,000"}, "invalid_number", "registered_capital"),
    ("market_entities", {"registered_capital": "nan"}, "invalid_number", "registered_capital"),
    ("market_entities", {"is_returnee": "可能"}, "invalid_flag", "is_returnee"),
    (
        "market_entities",
        {"completed_at": "2022-01-01 08:59:59"},
        "completed_before_submitted",
        "completed_at",
    ),
    ("service_items", {"online_enabled": None}, "required", "online_enabled"),
    ("service_items", {"reform": "取消"}, "not_allowed_value", "reform"),
    ("service_items", {"item_status": "废止"}, "not_allowed_value", "item_status"),
    ("investment_projects", {"lead_date": "2022-02-30"}, "invalid_date", "lead_date"),
    (
        "investment_projects",
        {"contract_investment": None},
        "contract_investment_required_when_signed",
        "contract_investment",
    ),
    (
        "investment_projects",
        {"first_talk_date": "2021-12-31"},
        "first_talk_before_lead",
        "first_talk_date",
    ),
    (
        "investment_projects",
        {"signed_date": "2021-12-31", "first_talk_date": None},
        "signed_before_lead",
        "signed_date",
    ),
    (
        "investment_projects",
        {"signed_date": None, "contract_investment": "1"},
        "signed_date_required_for_stage",
        "signed_date",
    ),
    (
        "investment_projects",
        {"started_date": "2022-01-31"},
        "started_before_signed",
        "started_date",
    ),
    (
        "investment_projects",
        {"started_date": None, "production_date": None, "stage": "开工"},
        "started_date_required_for_stage",
        "started_date",
    ),
    (
        "investment_projects",
        {"production_date": "2022-02-28"},
        "production_before_started",
        "production_date",
    ),
    (
        "investment_projects",
        {"production_date": None},
        "production_date_required_for_stage",
        "production_date",
    ),
]


def _frame(source: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c.name: pl.Utf8 for c in SOURCES[source].columns})


@pytest.mark.parametrize("source", sorted(GOOD))
def test_good_row_loads_typed(source):
    result = validate(_frame(source, [GOOD[source]]), SOURCES[source])
    assert result.rejected.height == 0
    assert result.good.height == 1


@pytest.mark.parametrize(("source", "change", "rule", "column"), CASES)
def test_rule_rejects_row(source, change, rule, column):
    bad = {**GOOD[source], **change}
    result = validate(_frame(source, [GOOD[source], bad, GOOD[source]]), SOURCES[source])
    assert result.good.height == 2
    assert result.good.get_column("_row_number").to_list() == [1, 3]
    rejected = result.rejected.row(0, named=True)
    assert (rejected["_row_number"], rejected["rule"], rejected["column_name"]) == (2, rule, column)
    assert rejected["message"].startswith(SOURCES[source].column(column).header_zh)


def test_every_rule_of_the_contract_is_exercised_here():
    rules = {r.name for s in SOURCES.values() for r in s.row_rules} | set(COLUMN_RULES)
    tested = {c[2] for c in CASES} | {"excel_number_lost_digits"}
    assert rules - tested == set()


def test_first_rule_wins_and_all_are_counted():
    bad = {**GOOD["permit_cases"], "channel": "x", "trips": "99", "completed_at": None}
    rejected = validate(_frame("permit_cases", [bad]), PERMIT_CASES).rejected.row(0, named=True)
    assert rejected["rule"] == "not_allowed_value"
    assert rejected["rules_broken"] == 3
    assert rejected["value"] == "x"


def test_typed_values():
    project = validate(
        _frame("investment_projects", [GOOD["investment_projects"]]), INVESTMENT_PROJECTS
    ).good.row(0, named=True)
    assert str(project["signed_date"]) == "2022-02-01"
    assert project["is_industrial"] is True
    assert project["planned_investment"] == 10.0
    case = {
        **GOOD["permit_cases"],
        "trips": "2.0",
        "submitted_at": "2022/01/01 09:00:00",
        "accepted_at": "2022-01-01 09:30",
    }
    row = validate(_frame("permit_cases", [case]), PERMIT_CASES).good.row(0, named=True)
    assert row["trips"] == 2
    assert str(row["submitted_at"]) == "2022-01-01 09:00:00"
    assert str(row["accepted_at"]) == "2022-01-01 09:30:00"


def test_excel_date_cells_read_as_midnight_are_dates_in_workbooks_only():
    project = {**GOOD["investment_projects"], "lead_date": "2022-01-01 00:00:00"}
    frame = _frame("investment_projects", [project])
    xlsx = validate(frame, INVESTMENT_PROJECTS, file_format="xlsx")
    assert str(xlsx.good.row(0, named=True)["lead_date"]) == "2022-01-01"
    csv = validate(frame, INVESTMENT_PROJECTS, file_format="csv")
    assert csv.rejected.row(0, named=True)["rule"] == "invalid_date"


def test_credit_code_is_upper_cased_before_its_check():
    row = {**GOOD["market_entities"], "uscc": USCC.lower(), "legal_rep_id": RIC.lower()}
    good = validate(_frame("market_entities", [row]), MARKET_ENTITIES).good.row(0, named=True)
    assert (good["uscc"], good["legal_rep_id"]) == (USCC, RIC)


def test_excel_number_that_lost_digits_is_named_as_such():
    # 500234199001011234 typed into Excel as a number comes back as the nearest float64.
    lost = str(int(float("500234199001011234")))
    assert lost != "500234199001011234"
    row = {**GOOD["market_entities"], "legal_rep_id": lost}
    xlsx = validate(_frame("market_entities", [row]), MARKET_ENTITIES, file_format="xlsx")
    assert xlsx.rejected.row(0, named=True)["rule"] == "excel_number_lost_digits"
    csv = validate(_frame("market_entities", [row]), MARKET_ENTITIES, file_format="csv")
    assert csv.rejected.row(0, named=True)["rule"] == "cn_id_check_digit"
    # A valid code stored as text in a workbook loads.
    ok = validate(
        _frame("market_entities", [GOOD["market_entities"]]), MARKET_ENTITIES, file_format="xlsx"
    )
    assert ok.rejected.height == 0


def test_personal_values_are_masked_in_rejects():
    bad = {**GOOD["market_entities"], "legal_rep_id": "500234199001011235"}
    rejected = validate(_frame("market_entities", [bad]), MARKET_ENTITIES).rejected
    assert rejected.row(0, named=True)["value"] == "500234********1235"


def test_masks():
    frame = pl.DataFrame({"v": ["500234199001011234", "张三丰", "欧阳娜娜", None, "12345"]})
    ids = frame.select(mask_expr(pl.col("v"), "id")).to_series().to_list()
    names = frame.select(mask_expr(pl.col("v"), "name")).to_series().to_list()
    assert ids[0] == "500234********1234"
    assert ids[3] is None and ids[4] == "*****"
    assert names[1:3] == ["张**", "欧***"]


def test_empty_frame():
    result = validate(_frame("service_items", []), SERVICE_ITEMS)
    assert result.good.height == 0 and result.rejected.height == 0


# --- check characters, as expressions -----------------------------------------------------

# Unicode White_Space: what str.isspace() takes but for the separators \x1c-\x1f.
WHITE_SPACE = [ch for ch in PY_WHITESPACE if ch not in "\x1c\x1d\x1e\x1f"]


def _stdnum_uscc(value: str) -> bool:
    # stdnum raises for seven digits and a newline (its isdigits takes "1234567\n"): not valid.
    try:
        return uscc.is_valid(value)
    except ValueError:
        return False


def _cn_id_rule(value: str) -> bool:
    # The contract's GB 11643 rule: 17 ASCII digits and the right check digit, nothing more.
    body = value[:17]
    return (
        len(value) == 18
        and body.isascii()
        and body.isdigit()
        and ric.calc_check_digit(value) == value[17]
    )


# What turns a good code into a near miss, or into one stdnum still takes after compacting it.
NEAR = [
    *"0123456789ABXYZIOSVabxyz-* .,/:'\n\t\x1c",
    *"９０－—　\u00a0\u2009\u200b\u0131\u017f\ufb00ß\U0001d7ce",
]


def _mutations(rng: random.Random, value: str) -> str:
    chars = list(value)
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(chars) + 1)
        op = rng.randrange(5)
        if op == 0 and chars:
            chars[min(at, len(chars) - 1)] = rng.choice(NEAR)
        elif op == 1:
            chars.insert(at, rng.choice(NEAR))
        elif op == 2 and chars:
            del chars[min(at, len(chars) - 1)]
        elif op == 3 and len(chars) > 1:
            i, j = rng.randrange(len(chars)), rng.randrange(len(chars))
            chars[i], chars[j] = chars[j], chars[i]
        else:
            chars = [c.lower() for c in chars]
    return "".join(chars)


def _verdicts(expr, values: list[str | None]) -> list[bool | None]:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
        .select(expr(pl.col("v")))
        .to_series()
        .to_list()
    )


def test_credit_code_check_agrees_with_stdnum_on_random_and_mutated_codes():
    rng = random.Random(32100)
    codes = []
    for _ in range(5_000):
        body = "".join(rng.choice(DIGITS) for _ in range(8))
        body += "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        code = body + uscc.calc_check_digit(body)
        codes += [code, _mutations(rng, code), _mutations(rng, code)]
    codes += [USCC, "1234567\n" + "0" * 10, "９1350100M000100Y43", "91350100-M000100Y43", ""]
    got = _verdicts(uscc_valid, [*codes, None])
    assert got[-1] is None  # no code, no verdict: the required rule speaks for it
    assert got[:-1] == [_stdnum_uscc(c) for c in codes]
    assert 0.3 < sum(got[:-1]) / len(codes) < 0.8  # both verdicts well represented


def test_id_number_check_agrees_with_the_gb_11643_rule_on_random_and_mutated_numbers():
    rng = random.Random(11643)
    numbers = []
    for _ in range(5_000):
        body = "".join(rng.choice(DIGITS) for _ in range(17))
        number = body + ric.calc_check_digit(body + "0")
        numbers += [number, _mutations(rng, number).upper(), _mutations(rng, number).upper()]
    numbers += [RIC, "１" + RIC[1:], RIC[:-1] + "x", RIC + "0", ""]
    got = _verdicts(cn_id_valid, [*numbers, None])
    assert got[-1] is None
    assert got[:-1] == [_cn_id_rule(n) for n in numbers]
    assert 0.2 < sum(got[:-1]) / len(numbers) < 0.8


def test_python_whitespace_is_what_str_isspace_takes():
    assert set(PY_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


# --- values with blanks around them -------------------------------------------------------


def test_polars_reads_no_number_with_blanks_around_it():
    # What trimmed_here relies on: a number that parses had no blanks around it.
    texts = [f"{ch}{n}" for ch in WHITE_SPACE for n in ("5", "1.5", "1e3")]
    texts += [f"{n}{ch}" for ch in WHITE_SPACE for n in ("5", "1.5", "1e3")]
    assert pl.Series(texts).cast(pl.Float64, strict=False).null_count() == len(texts)


def test_typed_values_are_trimmed_where_they_do_not_fit_as_they_stand():
    case = {
        **GOOD["permit_cases"],
        "submitted_at": "\u3000 2022-01-01 09:00:00\t",
        "accepted_at": " 2022/01/01 10:00:00 ",
        "channel": " 窗口办理\u00a0",
        "trips": "\u20033 ",
        "promised_days": "\n5",
    }
    row = validate(_frame("permit_cases", [case]), PERMIT_CASES).good.row(0, named=True)
    assert str(row["submitted_at"]) == "2022-01-01 09:00:00"
    assert str(row["accepted_at"]) == "2022-01-01 10:00:00"
    assert (row["channel"], row["trips"], row["promised_days"]) == ("窗口办理", 3, 5)
    item = {**GOOD["service_items"], "online_enabled": " 否 ", "item_status": "停用\r"}
    row = validate(_frame("service_items", [item]), SERVICE_ITEMS).good.row(0, named=True)
    assert (row["online_enabled"], row["item_status"]) == (False, "停用")


@pytest.mark.parametrize(
    ("change", "rule", "column", "value"),
    [
        ({"submitted_at": " \t "}, "required", "submitted_at", None),
        ({"trips": " 99 "}, "above_maximum", "trips", "99"),
        (
            {"submitted_at": " 2022-13-01 09:00:00"},
            "invalid_timestamp",
            "submitted_at",
            "2022-13-01 09:00:00",
        ),
        ({"channel": "\u3000线下"}, "not_allowed_value", "channel", "线下"),
    ],
)
def test_a_value_with_blanks_around_it_is_judged_and_reported_trimmed(change, rule, column, value):
    bad = {**GOOD["permit_cases"], **change}
    result = validate(_frame("permit_cases", [GOOD["permit_cases"], bad]), PERMIT_CASES)
    rejected = result.rejected.row(0, named=True)
    assert (rejected["_row_number"], rejected["rule"]) == (2, rule)
    assert (rejected["column_name"], rejected["value"]) == (column, value)


def test_allowed_values_have_no_blanks_around_them():
    # A listed value that fits as it stands is stored as it stands (trimmed_here).
    for source in SOURCES.values():
        for col in source.columns:
            for value in col.allowed or ():
                assert value == value.strip()
