"""A few hand-made raw rows whose KPI values are worked out by hand in test_dbt_build.py.

Rows are grouped by landing file, in load order; each file's rows get `_row_number` 1, 2, ...
Columns not given are NULL, as the loader leaves an empty optional cell.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from sources.contracts import SOURCES

Row = dict[str, Any]

# (source, file name, rows), in the order the files were loaded.
FILES: list[tuple[str, str, list[Row]]] = [
    (
        "service_items",
        "items_2021.csv",
        [
            # I1: licensing, online, high-frequency, one window (dept A), approval cancelled.
            dict(
                item_code="I1",
                item_name="企业登记",
                item_type="行政许可",
                department="A",
                online_enabled=True,
                high_frequency=True,
                one_window=True,
                reform="直接取消审批",
                item_status="在用",
                updated_at="2021-12-15 09:00:00",
            ),
        ],
    ),
    (
        "market_entities",
        "entities_2021.csv",
        [
            # U1 set up in exactly 2 hours (counts), U2 in 2h00m01s (does not).
            dict(
                event_id="E1",
                uscc="U1",
                entity_name="甲公司",
                entity_type="企业",
                event_type="设立",
                submitted_at="2021-12-20 09:00:00",
                completed_at="2021-12-20 11:00:00",
                updated_at="2021-12-20 11:00:00",
            ),
            dict(
                event_id="E2",
                uscc="U2",
                entity_name="乙公司",
                entity_type="企业",
                event_type="设立",
                submitted_at="2021-12-21 09:00:00",
                completed_at="2021-12-21 11:00:01",
                updated_at="2021-12-21 11:00:01",
            ),
        ],
    ),
    (
        "service_items",
        "items_2022.csv",
        [
            dict(
                item_code="I2",
                item_name="食品经营许可",
                item_type="行政许可",
                department="B",
                online_enabled=False,
                high_frequency=False,
                one_window=True,
                reform="实行告知承诺",
                item_status="在用",
                updated_at="2022-01-10 09:00:00",
            ),
            dict(
                item_code="I3",
                item_name="社保查询",
                item_type="公共服务",
                department="A",
                online_enabled=False,
                high_frequency=True,
                one_window=True,
                item_status="在用",
                updated_at="2022-02-01 09:00:00",
            ),
            dict(
                item_code="I4",
                item_name="旧许可",
                item_type="行政许可",
                department="C",
                online_enabled=True,
                high_frequency=False,
                one_window=True,
                reform="审批改为备案",
                item_status="停用",
                updated_at="2022-03-01 09:00:00",
            ),
        ],
    ),
    (
        "investment_projects",
        "projects_2022a.xlsx",
        [
            dict(
                project_id="P1",
                project_name="电池厂",
                investor="甲",
                cluster="能源建材",
                team="绿色工业",
                is_industrial=True,
                stage="投产",
                planned_investment=10.0,
                contract_investment=8.0,
                land_mu=100.0,
                lead_date="2022-01-03",
                first_talk_date="2022-01-20",
                signed_date="2022-03-15",
                started_date="2022-06-01",
                production_date="2022-12-01",
                updated_at="2022-12-01 10:00:00",
            ),
            dict(
                project_id="P2",
                project_name="商贸城",
                investor="乙",
                cluster="其他",
                team="商贸物流",
                is_industrial=False,
                stage="洽谈",
                planned_investment=6.0,
                land_mu=50.0,
                lead_date="2022-02-08",
                updated_at="2022-02-08 10:00:00",
            ),
            dict(
                project_id="P3",
                project_name="药厂",
                investor="丙",
                cluster="食品医药",
                team="绿色工业",
                is_industrial=True,
                stage="终止",
                contract_investment=3.0,
                land_mu=20.0,
                lead_date="2022-03-01",
                signed_date="2022-05-10",
                updated_at="2022-08-01 10:00:00",
            ),
        ],
    ),
    (
        "market_entities",
        "entities_2022a.csv",
        [
            dict(
                event_id="E3",
                uscc="U3",
                entity_name="丙个体",
                entity_type="个体工商户",
                event_type="设立",
                submitted_at="2022-03-01 10:00:00",
                completed_at="2022-03-01 10:30:00",
                is_returnee=True,
                updated_at="2022-03-01 10:30:00",
            ),
            dict(
                event_id="E4",
                uscc="U1",
                entity_name="甲公司",
                entity_type="企业",
                event_type="注销",
                submitted_at="2022-05-30 09:00:00",
                completed_at="2022-06-01 09:00:00",
                updated_at="2022-06-01 09:00:00",
            ),
            # E5 first arrives as a change, then is corrected to an establishment (below).
            dict(
                event_id="E5",
                uscc="U1",
                entity_name="甲公司",
                entity_type="企业",
                event_type="变更",
                submitted_at="2022-08-01 09:00:00",
                completed_at="2022-08-01 10:00:00",
                updated_at="2022-08-01 12:00:00",
            ),
        ],
    ),
    (
        "market_entities",
        "entities_2022b.csv",
        [
            # U1 deregistered on 06-01 and established again on 08-01.
            dict(
                event_id="E5",
                uscc="U1",
                entity_name="甲公司",
                entity_type="企业",
                event_type="设立",
                submitted_at="2022-08-01 09:00:00",
                completed_at="2022-08-01 10:00:00",
                updated_at="2022-08-02 08:00:00",
            ),
            dict(
                event_id="E6",
                uscc="U2",
                entity_name="乙公司",
                entity_type="企业",
                event_type="吊销",
                submitted_at="2022-09-01 09:00:00",
                completed_at="2022-09-01 09:00:00",
                updated_at="2022-09-01 09:00:00",
            ),
            dict(
                event_id="E7",
                uscc="U3",
                entity_name="丙个体",
                entity_type="个体工商户",
                event_type="变更",
                submitted_at="2022-10-01 09:00:00",
                completed_at="2022-10-01 09:30:00",
                updated_at="2022-10-01 09:30:00",
            ),
            dict(
                event_id="E8",
                uscc="U5",
                entity_name="戊公司",
                entity_type="企业",
                event_type="设立",
                submitted_at="2022-11-11 09:00:00",
                completed_at="2022-11-11 10:59:00",
                updated_at="2022-11-11 10:59:00",
            ),
        ],
    ),
    (
        "permit_cases",
        "cases_2022a.csv",
        [
            # C1 v1: accepted on the eve of National Day, 1 working day promised.
            dict(
                case_id="C1",
                item_code="I1",
                channel="全程网办",
                intake="网上申报",
                applicant_type="法人",
                submitted_at="2022-09-29 10:00:00",
                accepted_at="2022-09-30 09:00:00",
                status="已受理",
                trips=0,
                promised_days=1,
                updated_at="2022-09-30 09:00:00",
            ),
            dict(
                case_id="C6",
                item_code="I1",
                channel="窗口办理",
                intake="五省通办",
                applicant_type="自然人",
                submitted_at="2022-09-30 08:00:00",
                accepted_at="2022-09-30 09:00:00",
                completed_at="2022-10-09 10:00:00",
                status="已办结",
                trips=1,
                promised_days=1,
                rating="非常不满意",
                updated_at="2022-10-09 10:00:00",
            ),
            dict(
                case_id="C3",
                item_code="I3",
                channel="窗口办理",
                intake="川渝通办",
                applicant_type="自然人",
                submitted_at="2022-10-10 08:00:00",
                accepted_at="2022-10-10 10:00:00",
                completed_at="2022-10-12 17:00:00",
                status="已办结",
                trips=2,
                promised_days=2,
                updated_at="2022-10-12 17:00:00",
            ),
            dict(
                case_id="C4",
                item_code="I2",
                channel="窗口办理",
                intake="部门窗口",
                applicant_type="自然人",
                submitted_at="2022-11-01 08:00:00",
                status="不予受理",
                trips=0,
                promised_days=5,
                updated_at="2022-11-01 09:00:00",
            ),
            dict(
                case_id="C5",
                item_code="I2",
                channel="窗口办理",
                intake="部门窗口",
                applicant_type="法人",
                submitted_at="2022-11-03 08:00:00",
                accepted_at="2022-11-03 09:00:00",
                completed_at="2022-11-04 09:00:00",
                status="已办结",
                trips=1,
                promised_days=5,
                rating="满意",
                updated_at="2022-11-04 09:00:00",
            ),
        ],
    ),
    (
        "permit_cases",
        "cases_2022b.csv",
        [
            dict(
                case_id="C1",
                item_code="I1",
                channel="全程网办",
                intake="网上申报",
                applicant_type="法人",
                submitted_at="2022-09-29 10:00:00",
                accepted_at="2022-09-30 09:00:00",
                completed_at="2022-10-08 16:00:00",
                status="已办结",
                trips=0,
                promised_days=1,
                rating="满意",
                updated_at="2022-10-08 16:00:00",
            ),
            # Same updated_at as C5 in the earlier file: this later-loaded version wins.
            dict(
                case_id="C5",
                item_code="I2",
                channel="窗口办理",
                intake="部门窗口",
                applicant_type="法人",
                submitted_at="2022-11-03 08:00:00",
                accepted_at="2022-11-03 09:00:00",
                status="已撤回",
                trips=1,
                promised_days=5,
                updated_at="2022-11-04 09:00:00",
            ),
            # Completed 30 seconds into the new year: a 2023 case, not a 2022 one.
            dict(
                case_id="C2",
                item_code="XX",
                channel="窗口办理",
                intake="一窗综办",
                applicant_type="自然人",
                submitted_at="2022-12-31 23:50:00",
                accepted_at="2022-12-31 23:55:00",
                completed_at="2023-01-01 00:00:30",
                status="已办结",
                trips=1,
                promised_days=0,
                rating="不满意",
                updated_at="2023-01-01 00:00:30",
            ),
        ],
    ),
    (
        "investment_projects",
        "projects_2022b.xlsx",
        [
            dict(
                project_id="P2",
                project_name="商贸城",
                investor="乙",
                cluster="其他",
                team="商贸物流",
                is_industrial=False,
                stage="签约",
                planned_investment=6.0,
                contract_investment=5.0,
                land_mu=50.0,
                lead_date="2022-02-08",
                signed_date="2022-04-01",
                updated_at="2022-04-01 10:00:00",
            ),
            dict(
                project_id="P4",
                project_name="芯片厂",
                investor="丁",
                cluster="电子信息",
                team="绿色工业",
                is_industrial=True,
                stage="签约",
                planned_investment=4.0,
                contract_investment=2.0,
                land_mu=0.0,
                lead_date="2022-12-26",
                signed_date="2023-01-05",
                updated_at="2023-01-05 10:00:00",
            ),
        ],
    ),
    (
        "market_entities",
        "entities_2023.csv",
        [
            dict(
                event_id="E9",
                uscc="U4",
                entity_name="丁公司",
                entity_type="企业",
                event_type="设立",
                submitted_at="2023-01-02 09:00:00",
                completed_at="2023-01-02 10:00:00",
                is_returnee=True,
                updated_at="2023-01-02 10:00:00",
            ),
        ],
    ),
    (
        "service_items",
        "items_2023.csv",
        [
            # A 2023 version of I2: it must not change any 2022 value.
            dict(
                item_code="I2",
                item_name="食品经营许可",
                item_type="行政许可",
                department="B",
                online_enabled=True,
                high_frequency=False,
                one_window=True,
                reform="优化审批服务",
                item_status="停用",
                updated_at="2023-01-10 15:00:00",
            ),
        ],
    ),
]


def insert_raw_rows(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[str, str, list[Row]]],
    first_load_id: int = 1,
) -> None:
    """Append the rows to raw.<source> as the loader would, with lineage columns."""
    for load_id, (source, file_name, rows) in enumerate(files, start=first_load_id):
        names = [name for name, _ in SOURCES[source].raw_schema()]
        loaded_at = dt.datetime(2023, 1, 10, 18, 0) + dt.timedelta(minutes=load_id)
        for row_number, row in enumerate(rows, start=1):
            unknown = set(row) - set(names)
            assert not unknown, f"{source} has no raw column {unknown}"
            lineage = dict(
                _load_id=load_id,
                _file_name=file_name,
                _row_number=row_number,
                _loaded_at=loaded_at,
            )
            values = [{**row, **lineage}.get(name) for name in names]
            placeholders = ", ".join("?" for _ in names)
            con.execute(f"insert into raw.{source} values ({placeholders})", values)
