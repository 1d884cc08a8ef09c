"""A small serving copy with the agreed KPI tables (notes of issue 4): a few KPIs, the demo's
published 2022 figures, four 2023 targets, two breakdowns and two revisions."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

AS_OF = date(2023, 6, 30)

DDL = """
create schema if not exists marts;
create schema if not exists seeds;
create table seeds.kpi_definitions (
    kpi_code varchar, kpi_name_zh varchar, unit varchar, domain varchar, description varchar
);
create table marts.kpi_values (
    kpi_code varchar, kpi_name_zh varchar, period_type varchar, period_start date,
    period_end date, value double, unit varchar, target double, as_of date
);
create table marts.kpi_scorecard (
    kpi_code varchar, kpi_name_zh varchar, unit varchar, domain varchar,
    year integer, as_of date,
    value_to_date double, target double, share_of_target double,
    projected_year_end double, projection_method varchar,
    same_period_last_year double, yoy_change double, expected_share_to_date double,
    status varchar, status_reason varchar
);
create table marts.kpi_breakdowns (
    kpi_code varchar, kpi_name_zh varchar, unit varchar, period_type varchar,
    period_start date, period_end date, dimension varchar, dimension_name_zh varchar,
    dimension_value varchar, value double, as_of date
);
create table marts.kpi_revisions (
    kpi_code varchar, kpi_name_zh varchar, period_type varchar, period_start date,
    period_end date, old_value double, new_value double, old_as_of date, new_as_of date,
    revised_at timestamp, caused_by_files varchar, caused_by_load_ids varchar
);
"""

KPIS = {
    # code: (name, unit, domain)
    "avg_trips_per_case": ("平均跑动次数", "trips", "permit_cases"),
    "online_case_rate": ("全程网办办件占比", "ratio", "permit_cases"),
    "cases_completed": ("办结办件量", "count", "permit_cases"),
    "one_window_cases": ("一窗综办办件量", "count", "permit_cases"),
    "online_licensing_item_rate": ("行政许可事项全程网办率", "ratio", "service_items"),
    "one_window_items": ("一窗综办事项数", "count", "service_items"),
    "one_window_departments": ("一窗综办部门数", "count", "service_items"),
    "entities_total": ("经营主体总量", "count", "market_entities"),
    "entities_net_growth_rate": ("经营主体净增长率", "ratio", "market_entities"),
    "entities_new": ("新增市场主体", "count", "market_entities"),
    "industrial_projects_signed": ("引进工业项目数", "count", "investment_projects"),
    "industrial_investment_signed": ("引进工业项目总投资", "100m_cny", "investment_projects"),
    "industrial_projects_started": ("工业项目开工数", "count", "investment_projects"),
    "projects_signed": ("新引进（签约）项目数", "count", "investment_projects"),
    "contract_investment_signed": ("合同引资额", "100m_cny", "investment_projects"),
    "projects_started": ("动工项目数", "count", "investment_projects"),
    "projects_in_production": ("竣工投产项目数", "count", "investment_projects"),
    "lead_week_coverage": ("周周有项目信息", "ratio", "investment_projects"),
    "talk_month_coverage": ("月月有考察洽谈", "ratio", "investment_projects"),
    "sign_start_quarter_coverage": ("季季有签约开工", "ratio", "investment_projects"),
}

# Year values: 2021, 2022, 2023 (to 2023-06-30). 2022 is the district report's figures.
YEARS = {
    "avg_trips_per_case": (0.1799945897579957, 0.1100013871549452, 0.09001163265947747),
    "online_case_rate": (0.6321243523316062, 0.6987446247745873, 0.6983997233313421),
    "cases_completed": (48057, 57672, 31807),
    "one_window_cases": (7967, 10488, 5731),
    "online_licensing_item_rate": (0.7608695652173914, 0.9568034557235421, 0.9617021276595744),
    "one_window_items": (339, 492, 518),
    "one_window_departments": (18, 18, 19),
    "entities_total": (94473, 100425, 103832),
    "entities_net_growth_rate": (0.0728131636025029, 0.06300212759201052, 0.033925815285038574),
    "entities_new": (11812, 12000, 6307),
    "industrial_projects_signed": (44, 53, 19),
    "industrial_investment_signed": (211.0, 289.9, 110.70000000000002),
    "industrial_projects_started": (27, 31, 14),
    "projects_signed": (62, 73, 28),
    "contract_investment_signed": (221.7, 282.29999999999995, 159.80000000000004),
    "projects_started": (39, 44, 20),
    "projects_in_production": (22, 30, 16),
    "lead_week_coverage": (1.0, 0.9423076923076923, 1.0),
    "talk_month_coverage": (1.0, 1.0, 1.0),
    "sign_start_quarter_coverage": (1.0, 1.0, 1.0),
}
TARGETS_2023 = {
    "projects_signed": 70,
    "contract_investment_signed": 400,
    "projects_started": 50,
    "projects_in_production": 40,
}

SCORECARD = [
    # code, value, target, share, projected, method, lly, yoy, expected, status, reason
    (
        "projects_signed",
        28,
        70,
        0.4,
        59.2,
        "seasonal",
        31,
        -0.0967741935483871,
        0.42,
        "预警",
        "完成目标的40.0%，低于按进度应完成的42.0%，差距在10个百分点以内。",
    ),
    (
        "contract_investment_signed",
        159.8,
        400,
        0.3995,
        330.5,
        "seasonal",
        120.1,
        0.33055786844296413,
        0.55,
        "落后",
        "完成目标的40.0%，比按进度应完成的55.0%低15.1个百分点。",
    ),
    (
        "projects_started",
        20,
        50,
        0.4,
        44.0,
        "seasonal",
        18,
        0.1111111111111111,
        0.35,
        "达标",
        "完成目标的40.0%，不低于按进度应完成的35.0%。",
    ),
    (
        "projects_in_production",
        16,
        40,
        0.4,
        41.3,
        "seasonal",
        12,
        0.3333333333333333,
        0.38,
        "达标",
        "完成目标的40.0%，不低于按进度应完成的38.0%。",
    ),
    (
        "lead_week_coverage",
        1.0,
        1.0,
        1.0,
        None,
        "none",
        0.9615384615384616,
        0.04,
        None,
        "达标",
        "截至目前每周都有项目信息。",
    ),
]

TEAMS = {"绿色工业": 9, "商贸物流": 6, "文旅融合": 5, "绿色农业": 4, "城市提升": 3, "乡镇街道": 1}
DEPARTMENTS = {f"部门{i:02d}": 1000 * (11 - i) for i in range(1, 11)}

REVISIONS = [
    # this period's (new_as_of = AS_OF) and an earlier one
    (
        "entities_new",
        "新增市场主体",
        "month",
        date(2023, 3, 1),
        date(2023, 3, 31),
        1021,
        1023,
        date(2023, 6, 15),
        AS_OF,
        datetime(2023, 7, 1, 6, 0),
        "市场主体登记_补报_20230630.csv",
        "41",
    ),
    (
        "projects_signed",
        "新引进（签约）项目数",
        "quarter",
        date(2022, 10, 1),
        date(2022, 12, 31),
        20,
        21,
        date(2023, 1, 15),
        date(2023, 3, 31),
        datetime(2023, 4, 1, 6, 0),
        "招商项目_更正_20230331.xlsx",
        "17",
    ),
]


def _month_ends(year: int) -> list[tuple[date, date]]:
    out = []
    for m in range(1, 13):
        nxt = date(year + (m == 12), m % 12 + 1, 1)
        out.append((date(year, m, 1), date.fromordinal(nxt.toordinal() - 1)))
    return out


def build_fixture(path: Path, *, revisions: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        con.executemany(
            "insert into seeds.kpi_definitions values (?, ?, ?, ?, '')",
            [(c, n, u, d) for c, (n, u, d) in KPIS.items()],
        )
        rows = []
        for code, (name, unit, _) in KPIS.items():
            for year, value in zip((2021, 2022, 2023), YEARS[code], strict=True):
                target = TARGETS_2023.get(code) if year == 2023 else None
                if code.endswith("coverage") and year == 2023:
                    target = 1.0
                rows.append(
                    (
                        code,
                        name,
                        "year",
                        date(year, 1, 1),
                        date(year, 12, 31),
                        value,
                        unit,
                        target,
                        AS_OF,
                    )
                )
        # Monthly trend, 2022-01 … 2023-06: trips fall by 0.01 a month from 0.25, the online
        # share rises by 1 point a month from 50%; 2022-03 has no completed case (NULL).
        months = _month_ends(2022) + _month_ends(2023)[:6]
        for i, (start, end) in enumerate(months):
            missing = start == date(2022, 3, 1)
            for code, value in (
                ("avg_trips_per_case", round(0.25 - 0.01 * i, 4)),
                ("online_case_rate", round(0.50 + 0.01 * i, 4)),
            ):
                name, unit, _ = KPIS[code]
                rows.append(
                    (code, name, "month", start, end, None if missing else value, unit, None, AS_OF)
                )
        con.executemany("insert into marts.kpi_values values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany(
            "insert into marts.kpi_scorecard values "
            "(?, ?, ?, ?, 2023, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (code, KPIS[code][0], KPIS[code][1], KPIS[code][2], AS_OF, *rest)
                for code, *rest in SCORECARD
            ],
        )
        breakdowns = [
            ("projects_signed", "count", "team", "招商团", team, n) for team, n in TEAMS.items()
        ] + [
            ("cases_completed", "count", "department", "实施部门", dept, n)
            for dept, n in DEPARTMENTS.items()
        ]
        con.executemany(
            "insert into marts.kpi_breakdowns values "
            "(?, ?, ?, 'year', date '2023-01-01', date '2023-12-31', ?, ?, ?, ?, ?)",
            [
                (code, KPIS[code][0], unit, dim, dim_zh, val, n, AS_OF)
                for code, unit, dim, dim_zh, val, n in breakdowns
            ],
        )
        if revisions:
            con.executemany(
                "insert into marts.kpi_revisions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                REVISIONS,
            )
    finally:
        con.close()
    return path
