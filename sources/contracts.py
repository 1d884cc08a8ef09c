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
            # The keyed digest as a BIGINT, the first 8 bytes of SHA-256(key|value) read as a
            # signed big-endian integer: 8 bytes a row instead of 64 hex characters, integer
            # joins and distinct counts, and a type every engine and Parquet reader has (one
            # without unsigned or 128-bit integers too). Among 50 million distinct people,
            # 64 bits give about 7e-5 colliding pairs to expect: nothing a count would show.
            return ((f"{self.name}_hash", "BIGINT"), (f"{self.name}_masked", "VARCHAR"))
        return ((self.name, DUCKDB_TYPES[self.dtype]),)


@dataclass(frozen=True)
class RuleText:
    """What the people who fix the data read about a rule: the problem and what to do, in
    Chinese (the operators' language) and English. Kept apart so a report can show the fix in
    a column of its own; `message` is the one-line form the audit stores. `column_zh` and
    `column_en` name the column of a row rejection; they stay empty for a whole file."""

    problem_zh: str
    fix_zh: str
    problem_en: str
    fix_en: str
    column_zh: str = ""
    column_en: str = ""

    @property
    def message(self) -> str:
        zh = f"{self.problem_zh}；{self.fix_zh}。"
        en = f"{self.problem_en}; {self.fix_en}."
        if self.column_en:
            zh = f"{self.column_zh}（{self.column_en}）：{zh}"
            en = f"{self.column_en}: {en}"
        return f"{zh} / {en}"


@dataclass(frozen=True)
class RowRule:
    """A rule across columns. `broken` returns an expression that is true where the row breaks it,
    evaluated on the typed frame (nulls already parsed)."""

    name: str
    column: str
    text: RuleText
    broken: Callable[[], pl.Expr]

    @property
    def description(self) -> str:
        return self.text.problem_en


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
            RuleText(
                "早于申请时间",
                "请核对申请时间和办结时间后重新导出",
                "earlier than submitted_at",
                "check both times and export again",
            ),
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
            RuleText(
                "早于申请时间",
                "请核对申请时间和受理时间后重新导出",
                "earlier than submitted_at",
                "check both times and export again",
            ),
            lambda: _c("accepted_at") < _c("submitted_at"),
        ),
        RowRule(
            "completed_before_accepted",
            "completed_at",
            RuleText(
                "早于受理时间（未受理的，早于申请时间）",
                "请核对申请、受理和办结时间后重新导出",
                "earlier than accepted_at (or submitted_at when not accepted)",
                "check the three times and export again",
            ),
            lambda: _c("completed_at") < pl.coalesce(_c("accepted_at"), _c("submitted_at")),
        ),
        RowRule(
            "completed_at_required_when_completed",
            "completed_at",
            RuleText(
                "办件状态为“已办结”，但办结时间为空",
                "请补填办结时间，或更正办件状态",
                "status is 已办结 but completed_at is empty",
                "fill in completed_at or correct the status",
            ),
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
            RuleText(
                "项目已签约（有签约日期，或阶段为签约、开工、投产），但合同引资为空",
                "请补填合同引资",
                "the project is signed (a signed_date, or stage 签约/开工/投产) but "
                "contract_investment is empty",
                "fill in contract_investment",
            ),
            lambda: (
                (_c("signed_date").is_not_null() | _c("stage").is_in(_SIGNED_STAGES))
                & _c("contract_investment").is_null()
            ),
        ),
        RowRule(
            "first_talk_before_lead",
            "first_talk_date",
            RuleText(
                "早于线索日期",
                "请核对线索日期和首次洽谈日期后重新导出",
                "earlier than lead_date",
                "check both dates and export again",
            ),
            lambda: _c("first_talk_date") < _c("lead_date"),
        ),
        RowRule(
            "signed_before_lead",
            "signed_date",
            RuleText(
                "早于线索日期",
                "请核对线索日期和签约日期后重新导出",
                "earlier than lead_date",
                "check both dates and export again",
            ),
            lambda: _c("signed_date") < _c("lead_date"),
        ),
        RowRule(
            "signed_date_required_for_stage",
            "signed_date",
            RuleText(
                "项目阶段为签约、开工或投产，但签约日期为空",
                "请补填签约日期，或更正项目阶段",
                "stage is 签约, 开工 or 投产 but signed_date is empty",
                "fill in signed_date or correct the stage",
            ),
            lambda: _c("stage").is_in(_SIGNED_STAGES) & _c("signed_date").is_null(),
        ),
        RowRule(
            "started_before_signed",
            "started_date",
            RuleText(
                "早于签约日期",
                "请核对签约日期和开工日期后重新导出",
                "earlier than signed_date",
                "check both dates and export again",
            ),
            lambda: _c("started_date") < _c("signed_date"),
        ),
        RowRule(
            "started_date_required_for_stage",
            "started_date",
            RuleText(
                "项目阶段为开工或投产，但开工日期为空",
                "请补填开工日期，或更正项目阶段",
                "stage is 开工 or 投产 but started_date is empty",
                "fill in started_date or correct the stage",
            ),
            lambda: _c("stage").is_in(("开工", "投产")) & _c("started_date").is_null(),
        ),
        RowRule(
            "production_before_started",
            "production_date",
            RuleText(
                "早于开工日期",
                "请核对开工日期和投产日期后重新导出",
                "earlier than started_date",
                "check both dates and export again",
            ),
            lambda: _c("production_date") < _c("started_date"),
        ),
        RowRule(
            "production_date_required_for_stage",
            "production_date",
            RuleText(
                "项目阶段为投产，但投产日期为空",
                "请补填投产日期，或更正项目阶段",
                "stage is 投产 but production_date is empty",
                "fill in production_date or correct the stage",
            ),
            lambda: (_c("stage") == "投产") & _c("production_date").is_null(),
        ),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s for s in (MARKET_ENTITIES, PERMIT_CASES, SERVICE_ITEMS, INVESTMENT_PROJECTS)
}

# Rule codes for single-column checks, with what a person reads in the audit. The codes are
# stored and tested; the texts may change. {allowed}, {minimum}, {maximum} and {length} are
# filled from the column by `rule_text` (allowed values joined by 、 in Chinese and by / in
# English, so the first " / " of a message is always where the English begins).
COLUMN_RULES: dict[str, RuleText] = {
    "required": RuleText(
        "必填项为空", "请补填后重新导出", "a required value is empty", "fill it in and export again"
    ),
    "invalid_timestamp": RuleText(
        "不是有效的时间",
        "请写成 YYYY-MM-DD HH:MM:SS、YYYY-MM-DD HH:MM 或 YYYY/MM/DD HH:MM:SS"
        "（月日时分秒都写两位，不带时区），或用 Excel 日期时间单元格",
        "not a valid time",
        "write it as YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM or YYYY/MM/DD HH:MM:SS (two-digit "
        "fields, no time zone), or use an Excel date-time cell",
    ),
    "invalid_date": RuleText(
        "不是有效的日期",
        "请写成 YYYY-MM-DD 或 YYYY/MM/DD（月、日都写两位），或用 Excel 日期单元格",
        "not a valid date",
        "write it as YYYY-MM-DD or YYYY/MM/DD (two-digit month and day), or use an Excel date cell",
    ),
    "invalid_number": RuleText(
        "不是数字",
        "请只填数字，不要带单位、千位分隔符或文字",
        "not a number",
        "enter digits only, without units, thousands separators or words",
    ),
    "invalid_integer": RuleText(
        "不是整数", "请填写整数", "not a whole number", "enter a whole number"
    ),
    "invalid_flag": RuleText(
        "不是“是/否”",
        "请填“是”或“否”（也可用 Y/N、1/0、true/false）",
        "not a yes/no flag",
        "enter 是 or 否 (or Y/N, 1/0, true/false)",
    ),
    "not_allowed_value": RuleText(
        "不是规定的取值",
        "请改为以下之一：{allowed}",
        "not one of the allowed values",
        "use one of: {allowed}",
    ),
    "below_minimum": RuleText(
        "小于下限 {minimum}",
        "请核对，数值不能小于 {minimum}",
        "below the minimum {minimum}",
        "check it: the value must be at least {minimum}",
    ),
    "above_maximum": RuleText(
        "大于上限 {maximum}",
        "请核对，数值不能大于 {maximum}",
        "above the maximum {maximum}",
        "check it: the value must be at most {maximum}",
    ),
    "wrong_length": RuleText(
        "长度不是 {length} 位",
        "请核对，应为 {length} 位字符",
        "not {length} characters long",
        "check it: it must be exactly {length} characters",
    ),
    "uscc_check_character": RuleText(
        "校验码不对（GB 32100）",
        "请对照营业执照逐位核对这 18 位代码",
        "the GB 32100 check character is wrong",
        "check all 18 characters against the business licence",
    ),
    "cn_id_check_digit": RuleText(
        "校验码不对（GB 11643）",
        "请对照身份证件逐位核对这 18 位号码",
        "the GB 11643 check digit is wrong",
        "check all 18 characters against the ID card",
    ),
    "excel_number_lost_digits": RuleText(
        "18 位代码被 Excel 存成了数字，末几位已丢失",
        "请把该列设为文本格式，重新录入代码后再导出",
        "an 18-digit code stored as an Excel number has lost its last digits",
        "format the column as text, enter the codes again and export again",
    ),
}


def rule_text(source: Source | str, rule: str, column: str) -> RuleText:
    """The text of a rule as it applies to one column of a source (the contract or its name):
    allowed values, bounds and lengths filled in, the column named by its Chinese header and
    English name."""
    if isinstance(source, str):
        source = SOURCES[source]
    col = source.column(column)
    template = COLUMN_RULES.get(rule) or next(
        (r.text for r in source.row_rules if r.name == rule), None
    )
    if template is None:
        raise KeyError(f"{source.name} has no rule {rule!r}")
    values = {
        "minimum": "" if col.minimum is None else f"{col.minimum:g}",
        "maximum": "" if col.maximum is None else f"{col.maximum:g}",
        "length": "" if col.length is None else str(col.length),
    }
    zh = {**values, "allowed": "、".join(col.allowed or ())}
    en = {**values, "allowed": " / ".join(col.allowed or ())}
    return RuleText(
        template.problem_zh.format(**zh),
        template.fix_zh.format(**zh),
        template.problem_en.format(**en),
        template.fix_en.format(**en),
        column_zh=col.header_zh,
        column_en=col.name,
    )
