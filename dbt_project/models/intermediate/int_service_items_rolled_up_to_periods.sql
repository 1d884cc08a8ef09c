-- Service-item catalogue KPIs, one row per period, one column per kpi_code, each counted on
-- the version of every item valid at the end of P: the latest version with updated_at on or
-- before the cutoff date (any time that day). An item with no such version does not exist yet.
-- The catalogue is small (items x versions x periods stays in the thousands).
with

periods as (

    select * from {{ ref('int_periods') }}

),

item_versions as (

    select * from {{ ref('dim_service_items') }}

),

items_at_period_end as (

    select
        periods.period_type,
        periods.period_start,
        item_versions.*
    from periods
    inner join item_versions
        on item_versions.valid_from < periods.cutoff_date + interval 1 day
        and (
            item_versions.valid_to is null
            or item_versions.valid_to >= periods.cutoff_date + interval 1 day
        )

),

counted as (

    select
        period_type,
        period_start,
        count(*) filter (where item_status = '在用' and item_type = '行政许可')
            as licensing_items,
        count(*) filter (where item_status = '在用' and item_type = '行政许可' and online_enabled)
            as online_licensing_items,
        count(*) filter (where item_status = '在用' and high_frequency) as high_frequency_items,
        count(*) filter (where item_status = '在用' and one_window) as one_window_items,
        count(distinct department) filter (where item_status = '在用' and one_window)
            as one_window_departments,
        count(*) filter (where reform = '直接取消审批') as items_approval_cancelled,
        count(*) filter (where reform = '审批改为备案') as items_approval_to_filing,
        count(*) filter (where reform = '实行告知承诺') as items_notification_commitment,
        count(*) filter (where reform = '优化审批服务') as items_approval_optimized
    from items_at_period_end
    group by all

),

final as (

    select
        periods.period_type,
        periods.period_start,
        cast(c.online_licensing_items as double) / nullif(c.licensing_items, 0)
            as online_licensing_item_rate,
        cast(coalesce(c.high_frequency_items, 0) as double) as high_frequency_items,
        cast(coalesce(c.one_window_items, 0) as double) as one_window_items,
        cast(coalesce(c.one_window_departments, 0) as double) as one_window_departments,
        cast(coalesce(c.items_approval_cancelled, 0) as double) as items_approval_cancelled,
        cast(coalesce(c.items_approval_to_filing, 0) as double) as items_approval_to_filing,
        cast(coalesce(c.items_notification_commitment, 0) as double)
            as items_notification_commitment,
        cast(coalesce(c.items_approval_optimized, 0) as double) as items_approval_optimized
    from periods
    left join counted as c
        on periods.period_type = c.period_type and periods.period_start = c.period_start

)

select * from final
