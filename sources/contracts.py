"""The landing contract, once, as data.

Every source's columns (Chinese header, English name, type, whether required, allowed values,
ranges, check characters) and its cross-column rules live here and only here. The reader, the
reject rules, the raw-table DDL, the Great Expectations suites, the dbt source docs and the demo
generator all read these definitions; a new column is one edit in this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

DType = Literal["text", "timestamp", "date", "decimal", "integer", "flag"]

# How each contract type is stored in DuckDB's raw layer.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "decimal": "DOUBLE",
    "integer": "INTEGER",
    "flag": "BOOLEAN",
}

# Columns the loader adds to every raw row: where it came from and when.
LINEAGE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_load_id", "BIGINT", "audit.file_loads.load_id of the file the row came from"),
    ("_file_name", "VARCHAR", "name of the landing file"),
    ("_row_number", "INTEGER", "data row number in the file (1 = first row after the header)"),
    ("_loaded_at", "TIMESTAMP", "when the file was loaded (local time)"),
)


@dataclass(frozen=True)
class Column:
    name: str
    header_zh: str
    dtype: DType
    required: bool
    description: str
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Fixed length after trimming (e.g. the 18-character credit code).
    length: int | None = None
    # A check character validated with python-stdnum: GB 32100 (uscc) or GB 11643 (cn_id).
    check: Literal["uscc", "cn_id"] | None = None
    # Personal data (PIPL): never stored in clear; the raw layer keeps a keyed hash and a mask.
    personal: Literal["id", "name"] | None = None
    # Upper-case before checking and storing (credit codes are case-insensitive on paper).
    upper: bool = False

    @property
    def stored_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, DuckDB type) of what the raw layer stores for this column."""
        if self.personal:
            return ((f"{self.name}_hash", "VARCHAR"), (f"{self.name}_masked", "VARCHAR"))
        return ((self.name, DUCKDB_TYPES[self.dtype]),)


@dataclass(frozen=True)
class RowRule:
    """A rule across columns. `broken` returns an expression that is true where the row breaks it,
    evaluated on the typed frame (nulls already parsed)."""

    name: str
    column: str
    description: str
    broken: Callable[[], pl.Expr]


@dataclass(frozen=True)
class Source:
    name: str
    title_zh: str
    system_zh: str
    description: str
    key: str
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    def raw_schema(self) -> list[tuple[str, str]]:
        """(name, DuckDB type) of every column of raw.<source>, in table order."""
        cols: list[tuple[str, str]] = []
        for c in self.columns:
            cols.extend(c.stored_columns)
        cols.extend((n, t) for n, t, _ in LINEAGE_COLUMNS)
        return cols


def _c(name: str) -> pl.Expr:
    return pl.col(name)


FLAG_TRUE = ("是", "y", "yes", "1", "true", "t")
FLAG_FALSE = ("否", "n", "no", "0", "false", "f")

MARKET_ENTITIES = Source(
    name="market_entities",
    title_zh="市场主体登记事件",
    system_zh="市场监管",
    description="One row per market-entity registration event (establish, change, deregister, "
    "revoke) from the market-regulation system. Key: event_id.",
    key="event_id",
    columns=(
        Column("event_id", "事件编号", "text", True, "registration event id"),
        Column(
            "uscc",
            "统一社会信用代码",
            "text",
            True,
            "unified social credit code (GB 32100-2015) of the entity",
            length=18,
            check="uscc",
            upper=True,
        ),
        Column("entity_name", "主体名称", "text", True, "registered name of the entity"),
        Column(
            "entity_type",
            "主体类型",
            "text",
            True,
            "kind of market entity",
            allowed=("企业", "个体工商户", "农民专业合作社"),
        ),
        Column(
            "industry_section",
            "行业门类",
            "text",
            False,
            "industry section letter A-T (GB/T 4754-2017)",
            allowed=tuple("ABCDEFGHIJKLMNOPQRST"),
            upper=True,
        ),
        Column("township", "乡镇街道", "text", False, "town or street (乡镇街道) of the entity"),
        Column(
            "registered_capital",
            "注册资本（万元）",
            "decimal",
            False,
            "registered capital, 10k CNY (万元)",
            minimum=0,
        ),
        Column(
            "event_type",
            "事件类型",
            "text",
            True,
            "设立 establish / 变更 change / 注销 deregister / 吊销 revoke",
            allowed=("设立", "变更", "注销", "吊销"),
        ),
        Column("submitted_at", "申请时间", "timestamp", True, "when the application was made"),
        Column("completed_at", "办结时间", "timestamp", True, "when the registration completed"),
        Column(
            "is_returnee", "返乡创业", "flag", False, "founded by a returning migrant (返乡创业)"
        ),
        Column(
            "legal_rep_name",
            "法定代表人",
            "text",
            False,
            "legal representative's name (personal data)",
            personal="name",
        ),
        Column(
            "legal_rep_id",
            "法定代表人证件号码",
            "text",
            False,
            "legal representative's ID number (personal data, GB 11643)",
            check="cn_id",
            personal="id",
            upper=True,
        ),
        Column("updated_at", "更新时间", "timestamp", True, "when this version was exported"),
    ),
    row_rules=(
        RowRule(
            "completed_before_submitted",
            "completed_at",
            "办结时间 is earlier than 申请时间",
            lambda: _c("completed_at") < _c("submitted_at"),
        ),
    ),
)

PERMIT_CASES = Source(
    name="permit_cases",
    title_zh="政务服务办件",
    system_zh="政务服务平台",
    description="One row per version of a government-service case; the platform exports a case "
    "again whenever it moves on. Key: case_id.",
    key="case_id",
    columns=(
        Column("case_id", "办件编号", "text", True, "case id"),
        Column("item_code", "事项编码", "text", True, "service item code (事项编码)"),
        Column(
            "channel",
            "办理渠道",
            "text",
            True,
            "全程网办 fully online / 窗口办理 at a counter",
            allowed=("全程网办", "窗口办理"),
        ),
        Column(
            "intake",
            "受理方式",
            "text",
            True,
            "how the case was taken in",
            allowed=("网上申报", "一窗综办", "部门窗口", "跨省通办", "川渝通办", "五省通办"),
        ),
        Column(
            "applicant_type",
            "申请人类型",
            "text",
            True,
            "自然人 person / 法人 legal person",
            allowed=("自然人", "法人"),
        ),
        Column(
            "applicant_id",
            "申请人证件号码",
            "text",
            False,
            "applicant's ID number or credit code (personal data)",
            personal="id",
            upper=True,
        ),
        Column("submitted_at", "申请时间", "timestamp", True, "when the application was made"),
        Column("accepted_at", "受理时间", "timestamp", False, "when the case was accepted"),
        Column("completed_at", "办结时间", "timestamp", False, "when the case was completed"),
        Column(
            "status",
            "办件状态",
            "text",
            True,
            "case status",
            allowed=("已申请", "已受理", "已办结", "不予受理", "已撤回"),
        ),
        Column(
            "trips",
            "跑动次数",
            "integer",
            True,
            "in-person trips the applicant made",
            minimum=0,
            maximum=20,
        ),
        Column(
            "promised_days",
            "承诺时限（工作日）",
            "integer",
            True,
            "promised time limit, working days",
            minimum=0,
            maximum=365,
        ),
        Column(
            "rating",
            "评价",
            "text",
            False,
            "applicant's rating",
            allowed=("非常满意", "满意", "基本满意", "不满意", "非常不满意"),
        ),
        Column("updated_at", "更新时间", "timestamp", True, "when this version was exported"),
    ),
    row_rules=(
        RowRule(
            "accepted_before_submitted",
            "accepted_at",
            "受理时间 is earlier than 申请时间",
            lambda: _c("accepted_at") < _c("submitted_at"),
        ),
        RowRule(
            "completed_before_accepted",
            "completed_at",
            "办结时间 is earlier than 受理时间 (or 申请时间 when not accepted)",
            lambda: _c("completed_at") < pl.coalesce(_c("accepted_at"), _c("submitted_at")),
        ),
        RowRule(
            "completed_at_required_when_completed",
            "completed_at",
            "办件状态 is 已办结 but 办结时间 is empty",
            lambda: (_c("status") == "已办结") & _c("completed_at").is_null(),
        ),
    ),
)

SERVICE_ITEMS = Source(
    name="service_items",
    title_zh="政务服务事项目录",
    system_zh="事项目录",
    description="One row per version of a government-service item in the catalogue. "
    "Key: item_code.",
    key="item_code",
    columns=(
        Column("item_code", "事项编码", "text", True, "service item code"),
        Column("item_name", "事项名称", "text", True, "service item name"),
        Column(
            "item_type",
            "事项类型",
            "text",
            True,
            "kind of item",
            allowed=("行政许可", "行政确认", "行政给付", "公共服务", "其他"),
        ),
        Column("department", "实施部门", "text", True, "department that delivers the item"),
        Column("online_enabled", "全程网办", "flag", True, "can be done fully online"),
        Column("high_frequency", "高频事项", "flag", True, "a high-frequency item"),
        Column("one_window", "一窗综办", "flag", True, "in the one-window scheme"),
        Column(
            "reform",
            "改革方式",
            "text",
            False,
            "approval reform applied to the item",
            allowed=("直接取消审批", "审批改为备案", "实行告知承诺", "优化审批服务"),
        ),
        Column(
            "item_status",
            "状态",
            "text",
            True,
            "在用 in use / 停用 retired",
            allowed=("在用", "停用"),
        ),
        Column("updated_at", "更新时间", "timestamp", True, "when this version was exported"),
    ),
)

_SIGNED_STAGES = ("签约", "开工", "投产")

INVESTMENT_PROJECTS = Source(
    name="investment_projects",
    title_zh="招商项目库",
    system_zh="招商项目库",
    description="One row per version of an investment-promotion project. Key: project_id.",
    key="project_id",
    columns=(
        Column("project_id", "项目编号", "text", True, "project id"),
        Column("project_name", "项目名称", "text", True, "project name"),
        Column("investor", "投资方", "text", True, "investor"),
        Column(
            "cluster",
            "产业集群",
            "text",
            True,
            "industrial cluster",
            allowed=("能源建材", "食品医药", "电子信息", "装备制造", "其他"),
        ),
        Column(
            "team",
            "招商团",
            "text",
            True,
            "investment-promotion team",
            allowed=("绿色工业", "绿色农业", "商贸物流", "文旅融合", "城市提升", "乡镇街道"),
        ),
        Column("is_industrial", "工业项目", "flag", True, "an industrial project"),
        Column(
            "stage",
            "项目阶段",
            "text",
            True,
            "project stage",
            allowed=("线索", "洽谈", "签约", "开工", "投产", "终止"),
        ),
        Column(
            "planned_investment",
            "计划总投资（亿元）",
            "decimal",
            False,
            "planned total investment, 100m CNY (亿元)",
            minimum=0,
        ),
        Column(
            "contract_investment",
            "合同引资（亿元）",
            "decimal",
            False,
            "contracted investment, 100m CNY (亿元)",
            minimum=0,
        ),
        Column("land_mu", "用地面积（亩）", "decimal", False, "land area, mu (亩)", minimum=0),
        Column("lead_date", "线索日期", "date", True, "when the lead came in"),
        Column("first_talk_date", "首次洽谈日期", "date", False, "first visit or talks"),
        Column("signed_date", "签约日期", "date", False, "when the contract was signed"),
        Column("started_date", "开工日期", "date", False, "when construction started"),
        Column("production_date", "投产日期", "date", False, "when production started"),
        Column("updated_at", "更新时间", "timestamp", True, "when this version was exported"),
    ),
    row_rules=(
        RowRule(
            "contract_investment_required_when_signed",
            "contract_investment",
            "the project is signed (签约日期 or a signed stage) but 合同引资 is empty",
            lambda: (
                (_c("signed_date").is_not_null() | _c("stage").is_in(_SIGNED_STAGES))
                & _c("contract_investment").is_null()
            ),
        ),
        RowRule(
            "first_talk_before_lead",
            "first_talk_date",
            "首次洽谈日期 is earlier than 线索日期",
            lambda: _c("first_talk_date") < _c("lead_date"),
        ),
        RowRule(
            "signed_before_lead",
            "signed_date",
            "签约日期 is earlier than 线索日期",
            lambda: _c("signed_date") < _c("lead_date"),
        ),
        RowRule(
            "signed_date_required_for_stage",
            "signed_date",
            "项目阶段 is 签约, 开工 or 投产 but 签约日期 is empty",
            lambda: _c("stage").is_in(_SIGNED_STAGES) & _c("signed_date").is_null(),
        ),
        RowRule(
            "started_before_signed",
            "started_date",
            "开工日期 is earlier than 签约日期",
            lambda: _c("started_date") < _c("signed_date"),
        ),
        RowRule(
            "started_date_required_for_stage",
            "started_date",
            "项目阶段 is 开工 or 投产 but 开工日期 is empty",
            lambda: _c("stage").is_in(("开工", "投产")) & _c("started_date").is_null(),
        ),
        RowRule(
            "production_before_started",
            "production_date",
            "投产日期 is earlier than 开工日期",
            lambda: _c("production_date") < _c("started_date"),
        ),
        RowRule(
            "production_date_required_for_stage",
            "production_date",
            "项目阶段 is 投产 but 投产日期 is empty",
            lambda: (_c("stage") == "投产") & _c("production_date").is_null(),
        ),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s for s in (MARKET_ENTITIES, PERMIT_CASES, SERVICE_ITEMS, INVESTMENT_PROJECTS)
}

# Rule codes for single-column checks, with the sentence a person reads in the audit.
COLUMN_RULES: dict[str, str] = {
    "required": "a required value is empty",
    "invalid_timestamp": "not a time as YYYY-MM-DD HH:MM[:SS], YYYY/MM/DD HH:MM:SS or an Excel "
    "date-time",
    "invalid_date": "not a date as YYYY-MM-DD, YYYY/MM/DD or an Excel date",
    "invalid_number": "not a number",
    "invalid_integer": "not a whole number",
    "invalid_flag": "not a flag (是/否, Y/N, 1/0, true/false)",
    "not_allowed_value": "not one of the allowed values",
    "below_minimum": "below the allowed minimum",
    "above_maximum": "above the allowed maximum",
    "wrong_length": "not the required number of characters",
    "uscc_check_character": "the GB 32100 check character of the credit code is wrong",
    "cn_id_check_digit": "the GB 11643 check digit of the ID number is wrong",
    "excel_number_lost_digits": "an 18-digit code stored as an Excel number has lost its last "
    "digits; export the column as text",
}
