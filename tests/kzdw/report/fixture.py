"""A small serving copy with the agreed KPI tables (notes of issue 4): a few KPIs with their
display facts as the seed has them, the demo's published 2022 figures, eight 2023 targets
whose sentences are written by the dbt macro format_kpi_value itself, breakdowns, the project
funnel of a hand-made set of projects, and two revisions."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import jinja2

AS_OF = date(2023, 6, 30)
MACRO = Path(__file__).resolve().parents[3] / "dbt_project" / "macros" / "format_kpi_value.sql"

DDL = """
create schema if not exists marts;
create schema if not exists seeds;
create table seeds.kpi_definitions (
    kpi_code varchar, kpi_name_zh varchar, unit varchar, domain varchar, description varchar,
    headline_rank integer, display_order integer, unit_word varchar, decimals integer,
    description_zh varchar
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
create table marts.project_funnel (
    cohort varchar, cohort_name_zh varchar, cohort_start date, cohort_end date, as_of date,
    stage_order integer, stage varchar, milestone_zh varchar, cohort_projects bigint,
    projects_reached bigint, projects_at_stage bigint, share_of_cohort double
);
create table marts.kpi_revisions (
    kpi_code varchar, kpi_name_zh varchar, period_type varchar, period_start date,
    period_end date, old_value double, new_value double, old_as_of date, new_as_of date,
    revised_at timestamp, caused_by_files varchar, caused_by_load_ids varchar
);
"""

# By domain, code: (name, unit, headline_rank, display_order, unit_word, decimals), as the
# seed kpi_definitions has them.
FACTS = {
    "permit_cases": {
        "avg_trips_per_case": ("平均跑动次数", "trips", 1, 1, "次", 2),
        "online_case_rate": ("全程网办办件占比", "ratio", 2, 2, "%", 1),
        "cases_completed": ("办结办件量", "count", None, 5, "件", 0),
        "one_window_cases": ("一窗综办办件量", "count", 7, 3, "件", 0),
    },
    "service_items": {
        "online_licensing_item_rate": ("行政许可事项全程网办率", "ratio", 3, 1, "%", 1),
        "one_window_items": ("一窗综办事项数", "count", 5, 3, "项", 0),
        "one_window_departments": ("一窗综办部门数", "count", 6, 4, "个", 0),
    },
    "market_entities": {
        "entities_total": ("经营主体总量", "count", 14, 1, "户", 0),
        "entities_net_growth_rate": ("经营主体净增长率", "ratio", 15, 2, "%", 1),
        "entities_new": ("新增市场主体", "count", 16, 3, "户", 0),
        "returnee_entities_new": ("返乡创业新增主体", "count", 17, 6, "户", 0),
    },
    "investment_projects": {
        "industrial_projects_signed": ("引进工业项目数", "count", 18, 1, "个", 0),
        "industrial_investment_signed": ("引进工业项目总投资", "100m_cny", 19, 2, "亿元", 1),
        "industrial_projects_started": ("工业项目开工数", "count", 20, 3, "个", 0),
        "projects_signed": ("新引进（签约）项目数", "count", 21, 4, "个", 0),
        "contract_investment_signed": ("合同引资额", "100m_cny", 22, 5, "亿元", 1),
        "projects_started": ("动工项目数", "count", 23, 6, "个", 0),
        "projects_in_production": ("竣工投产项目数", "count", 24, 7, "个", 0),
        "lead_week_coverage": ("周周有项目信息", "ratio", None, 9, "%", 1),
        "talk_month_coverage": ("月月有考察洽谈", "ratio", None, 10, "%", 1),
        "sign_start_quarter_coverage": ("季季有签约开工", "ratio", None, 11, "%", 1),
    },
}
# code: (name, unit, domain, headline_rank, display_order, unit_word, decimals)
KPIS = {
    code: (name, unit, domain, *rest)
    for domain, kpis in FACTS.items()
    for code, (name, unit, *rest) in kpis.items()
}
DESCRIPTIONS = {
    "avg_trips_per_case": "统计期内办结的办件中，申请人平均每件到现场跑动的次数。",
    "online_case_rate": "统计期内办结的办件中，全程网办的办件所占比例。",
    "cases_completed": "统计期内办结的政务服务办件数量。",
    "one_window_cases": "统计期内办结的办件中，通过一窗综办受理的办件数量。",
    "online_licensing_item_rate": "统计期末在用的行政许可事项中，可以全程网办的事项所占比例。",
    "one_window_items": "统计期末在用且纳入一窗综办的政务服务事项数量。",
    "one_window_departments": "统计期末在用且纳入一窗综办的事项所涉及的实施部门数量。",
    "entities_total": "统计期末存续的经营主体数量。",
    "entities_net_growth_rate": "统计期末经营主体总量比上一个同类统计期末增长的比例。",
    "entities_new": "统计期内办结设立登记的市场主体数量。",
    "returnee_entities_new": "统计期内办结设立登记的市场主体中，由返乡人员创业设立的主体数量。",
    "industrial_projects_signed": "统计期内签约的工业项目数量。",
    "industrial_investment_signed": "统计期内签约的工业项目计划总投资合计。",
    "industrial_projects_started": "统计期内开工的工业项目数量。",
    "projects_signed": "统计期内签约的招商项目数量，签约后终止的项目也计入。",
    "contract_investment_signed": "统计期内签约的招商项目合同引资额合计。",
    "projects_started": "统计期内开工的招商项目数量。",
    "projects_in_production": "统计期内竣工投产的招商项目数量。",
    "lead_week_coverage": "统计期内各周中，至少有一条新项目线索的周数所占比例。",
    "talk_month_coverage": "统计期内各月中，至少有一个项目首次考察洽谈的月数所占比例。",
    "sign_start_quarter_coverage": "统计期内各季度中，既有项目签约又有项目开工的季度所占比例。",
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
    "returnee_entities_new": (3120, 3365, 1780),
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
    "returnee_entities_new": 10000,
    "avg_trips_per_case": 0.1,
    "online_case_rate": 0.75,
    "lead_week_coverage": 1.0,
    "talk_month_coverage": 1.0,
    "sign_start_quarter_coverage": 1.0,
}

# The scorecard of 2023 to 30 June, one row per target, as kpi_scorecard computes it: a flow
# projected by last year's pace (value × last year ÷ same period last year), a ratio or an
# average judged on its value. (code, same period last year, status); the rest follows.
SCORECARD_ROWS = [
    ("projects_signed", 31, "预警"),  # 28 × 73 ÷ 31 = 65.9 ≥ 90% of 70
    ("contract_investment_signed", 150.2, "落后"),  # 159.8 × 282.3 ÷ 150.2 = 300.3 < 360
    ("projects_started", 16, "达标"),  # 20 × 44 ÷ 16 = 55 ≥ 50
    ("projects_in_production", 12, "达标"),  # 16 × 30 ÷ 12 = 40 ≥ 40
    ("returnee_entities_new", 1602, "落后"),  # 1780 × 3365 ÷ 1602 = 3738.9 < 9000
    ("avg_trips_per_case", 0.1213, "达标"),  # 0.09 ≤ the ceiling 0.10
    ("online_case_rate", 0.66, "预警"),  # 69.8% ≥ 90% of 75%
    ("lead_week_coverage", 25 / 26, "达标"),
]
FLOWS = {
    "projects_signed",
    "contract_investment_signed",
    "projects_started",
    "projects_in_production",
    "returnee_entities_new",
}
LOWER_IS_BETTER = {"avg_trips_per_case"}


def scorecard() -> list[tuple]:
    rows = []
    for code, last_period, status in SCORECARD_ROWS:
        value, target = YEARS[code][2], TARGETS_2023[code]
        if code in FLOWS:
            last_year = YEARS[code][1]
            expected = last_period / last_year
            projected, method = value / expected, "seasonal"
        else:
            expected, projected, method = 1.0, None, "none"
        yoy = value / last_period - 1
        rows.append(
            (code, value, target, value / target, projected, method, last_period, yoy, expected)
            + (status,)
        )
    return rows


# The scorecard's sentence as kpi_scorecard.sql writes it, every figure by the dbt macro
# format_kpi_value itself (read from the dbt project), so that a test can hold the Python
# formatter against the SQL one.
SENTENCE = """
update marts.kpi_scorecard as s set status_reason = case
    when s.projection_method <> 'none' then
        '截至' || strftime(s.as_of, '%Y年%-m月%-d日') || '完成' || {value}
        || '，为年度目标' || {target}
        || '的' || format('{{:.1f}}%', s.value_to_date / s.target * 100)
        || '；按去年同期进度推算全年约' || {projected}
        || case s.status
            when '达标' then '，预计可完成目标。'
            else '，为目标的' || format('{{:.1f}}%', s.projected_year_end / s.target * 100)
                || case s.status when '预警' then '，略低于目标，需加快进度。'
                    else '，明显落后于目标。' end
        end
    else '截至' || strftime(s.as_of, '%Y年%-m月%-d日') || '为' || {value}
        || '，年度目标' || {target}
        || case
            when s.status = '达标' and s.kpi_code in ({lower}) then '，未超过目标。'
            when s.status = '达标' then '，已达到目标。'
            when s.status = '预警' then '，略低于目标（不低于目标的九成）。'
            else '，低于目标的九成。'
        end
end
from seeds.kpi_definitions as d
where d.kpi_code = s.kpi_code
"""


# The macros format_kpi_value calls, dispatched by engine in dbt (DuckDB's here).
CALLED = ("format_decimals.sql",)


class _DuckDB:
    """dbt's `adapter.dispatch` as the DuckDB engine resolves it, over plain Jinja macros."""

    module = None

    def dispatch(self, name: str, namespace: str | None = None):
        return getattr(self.module, f"duckdb__{name}", None) or getattr(
            self.module, f"default__{name}"
        )


def format_kpi_value_sql(value: str, unit: str, decimals: str, unit_word: str) -> str:
    """The SQL expression the dbt macro format_kpi_value renders for these columns, on DuckDB."""
    source = "".join(
        (MACRO.parent / name).read_text(encoding="utf-8") for name in (*CALLED, MACRO.name)
    )
    adapter = _DuckDB()
    env = jinja2.Environment()
    # dbt's `return(x)` hands x to the caller; a macro's output is what plain Jinja passes on.
    env.globals.update(adapter=adapter, **{"return": lambda result: result})
    adapter.module = env.from_string(source).module
    return str(adapter.module.format_kpi_value(value, unit, decimals, unit_word)).strip()


def _sentence_sql() -> str:
    def fmt(column: str) -> str:
        return format_kpi_value_sql(f"s.{column}", "s.unit", "d.decimals", "d.unit_word")

    return SENTENCE.format(
        value=fmt("value_to_date"),
        target=fmt("target"),
        projected=fmt("projected_year_end"),
        lower=", ".join(f"'{c}'" for c in sorted(LOWER_IS_BETTER)),
    )


TEAMS = {"绿色工业": 9, "商贸物流": 6, "文旅融合": 5, "绿色农业": 4, "城市提升": 3, "乡镇街道": 1}
# Cases completed in 2023 to 30 June, their average trips and fully-online share, by
# department: 部门01-10 with thousands of cases; 部门11 with 30 (just enough to rank), 部门12
# with 29 and 部门13 with 2 (too few), which have the most trips and the highest online share.
DEPARTMENTS = {
    f"部门{i:02d}": (1000 * (11 - i), 0.04 + 0.01 * i, 0.58 + 0.02 * i) for i in range(1, 11)
}
DEPARTMENTS |= {"部门11": (30, 0.4, 0.5), "部门12": (29, 0.6, 28 / 29), "部门13": (2, 1.5, 1.0)}

# The project funnel of these hand-made projects, as-of 30 June 2023 (stages reached by then;
# a later stage implies the earlier ones; 终止 keeps the stages reached):
#   2022's leads: P01, P02 投产; P03, P04 开工; P05 (then 终止), P06, P07 (no talk date) 签约;
#     P08, P09 洽谈; P10 (lead on 2022-12-31) 线索. 10 leads.
#     Reached at least: 线索 10, 洽谈 9, 签约 7, 开工 4, 投产 2 (100%, 90%, 70%, 40%, 20%);
#     exactly: 1, 2, 3, 2, 2.
#   2023's leads to 30 June: Q1 开工 (started on 06-30), Q2 签约, Q3 洽谈, Q4 线索. 4 leads;
#     Q5 (lead on 07-01) and P00 (lead in 2021) are in neither cohort.
#     Reached: 4, 3, 2, 1, 0 (100%, 75%, 50%, 25%, 0%); exactly: 1, 1, 1, 1, 0.
STAGES = (("线索", "线索日期"), ("洽谈", "首次洽谈日期"), ("签约", "签约日期"))
STAGES += (("开工", "开工日期"), ("投产", "投产日期"))
FUNNEL = {
    # cohort: (name, start, end, leads, reached by stage, exactly at stage)
    "prior_year": ("上年全年", date(2022, 1, 1), date(2022, 12, 31), 10, (10, 9, 7, 4, 2),
                   (1, 2, 3, 2, 2)),
    "year_to_date": ("本年至今", date(2023, 1, 1), AS_OF, 4, (4, 3, 2, 1, 0), (1, 1, 1, 1, 0)),
}  # fmt: skip

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
            "insert into seeds.kpi_definitions values (?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
            [(c, *facts[:3], *facts[3:], DESCRIPTIONS[c]) for c, facts in KPIS.items()],
        )
        rows = []
        for code, (name, unit, *_) in KPIS.items():
            for year, value in zip((2021, 2022, 2023), YEARS[code], strict=True):
                target = TARGETS_2023.get(code) if year == 2023 else None
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
                name, unit, *_ = KPIS[code]
                rows.append(
                    (code, name, "month", start, end, None if missing else value, unit, None, AS_OF)
                )
        con.executemany("insert into marts.kpi_values values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany(
            "insert into marts.kpi_scorecard values "
            "(?, ?, ?, ?, 2023, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
            [
                (code, KPIS[code][0], KPIS[code][1], KPIS[code][2], AS_OF, *rest)
                for code, *rest in scorecard()
            ],
        )
        con.execute(_sentence_sql())
        breakdowns = [
            ("projects_signed", "team", "招商团", team, n) for team, n in TEAMS.items()
        ] + [
            (code, "department", "实施部门", dept, figures[k])
            for dept, figures in DEPARTMENTS.items()
            for k, code in enumerate(("cases_completed", "avg_trips_per_case", "online_case_rate"))
        ]
        con.executemany(
            "insert into marts.kpi_breakdowns values "
            "(?, ?, ?, 'year', date '2023-01-01', date '2023-12-31', ?, ?, ?, ?, ?)",
            [
                (code, KPIS[code][0], KPIS[code][1], dim, dim_zh, val, n, AS_OF)
                for code, dim, dim_zh, val, n in breakdowns
            ],
        )
        con.executemany(
            "insert into marts.project_funnel values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (cohort, name, start, end, AS_OF, i + 1, stage, milestone, leads)
                + (reached[i], exactly[i], reached[i] / leads if leads else None)
                for cohort, (name, start, end, leads, reached, exactly) in FUNNEL.items()
                for i, (stage, milestone) in enumerate(STAGES)
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
