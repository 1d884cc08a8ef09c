-- One row per KPI with a year target for the as-of year: the value to date against the
-- target, a run-rate projection to year end, the same period last year and a status.
-- Every figure comes from kpi_values or, for the same period last year, from the ytd_prior
-- period the domain models compute with the same logic; nothing is recomputed here.
-- Method and rules: see the model's description in _kpis__models.yml.

{#- Flows: counts and sums of events dated in P, which accumulate over the year and are
    projected. Every other KPI (ratios, averages, coverage, levels such as entities_total) is
    judged on its value to date. #}
{%- set flow_kpis = [
    'cases_submitted', 'cases_completed', 'one_window_cases', 'cross_region_cases',
    'entities_new', 'entities_exited', 'returnee_entities_new',
    'projects_signed', 'contract_investment_signed', 'industrial_projects_signed',
    'industrial_investment_signed', 'projects_started', 'industrial_projects_started',
    'projects_in_production',
] %}
{#- Where less is better, the target is a ceiling. #}
{%- set lower_is_better_kpis = ['avg_trips_per_case', 'entities_exited'] %}
{#- A figure short of its target (below a floor, above a ceiling) by less than this share of
    it is 预警, not 落后. #}
{%- set warning_band = 0.1 %}
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

computed as (

    select * from {{ ref('int_kpi_values_unpivoted') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

kpi_definitions as (

    select * from {{ ref('kpi_definitions') }}

),

this_year as (

    select
        kpi_code,
        kpi_name_zh,
        unit,
        period_start as year_start_date,
        as_of,
        value as value_to_date,
        target
    from kpi_values
    where period_type = 'year'
        and period_start = cast(date_trunc('year', as_of) as date)
        and target is not null

),

last_year as (

    select kpi_code, period_start, value
    from kpi_values
    where period_type = 'year'

),

same_period_last_year as (

    select
        computed.kpi_code,
        computed.value,
        periods.cutoff_date
    from computed
    inner join periods
        on computed.period_type = periods.period_type
        and computed.period_start = periods.period_start
    where periods.period_type = 'ytd_prior'

),

measured as (

    select
        this_year.kpi_code,
        this_year.kpi_name_zh,
        this_year.unit,
        kpi_definitions.domain,
        kpi_definitions.decimals,
        kpi_definitions.unit_word,
        cast(year(this_year.as_of) as integer) as year,
        this_year.as_of,
        this_year.value_to_date,
        this_year.target,
        last_year.value as last_year_value,
        same_period_last_year.value as same_period_last_year,
        same_period_last_year.cutoff_date as same_period_last_year_end,
        this_year.kpi_code in ('{{ flow_kpis | join("', '") }}') as is_flow,
        this_year.kpi_code not in ('{{ lower_is_better_kpis | join("', '") }}')
            as is_higher_better,
        cast(
            {{ days_between('this_year.year_start_date', 'this_year.as_of') }} + 1 as double
        ) as days_elapsed,
        cast({{ days_between(
            'this_year.year_start_date',
            'cast(this_year.year_start_date + interval 1 year as date)'
        ) }} as double) as days_in_year
    from this_year
    inner join kpi_definitions
        on this_year.kpi_code = kpi_definitions.kpi_code
    left join last_year
        on this_year.kpi_code = last_year.kpi_code
        and last_year.period_start = this_year.year_start_date - interval 1 year
    left join same_period_last_year
        on this_year.kpi_code = same_period_last_year.kpi_code

),

-- expected_share_to_date: the part of the year's total that is usually in by the as-of
-- date; the projection is value_to_date / expected_share_to_date in both methods.
projected as (

    select
        *,
        case
            when not is_flow then 'none'
            when last_year_value > 0 and same_period_last_year > 0 then 'seasonal'
            else 'linear'
        end as projection_method,
        case
            when not is_flow then 1.0
            when last_year_value > 0 and same_period_last_year > 0
                then same_period_last_year / last_year_value
            else days_elapsed / days_in_year
        end as expected_share_to_date
    from measured

),

with_projection as (

    select
        *,
        case projection_method
            when 'seasonal' then value_to_date * last_year_value / same_period_last_year
            when 'linear' then value_to_date * days_in_year / days_elapsed
        end as projected_year_end
    from projected

),

judged as (

    select
        *,
        -- The figure the status is judged on: the projection, or the value itself.
        coalesce(projected_year_end, value_to_date) as judged_value
    from with_projection

),

with_status as (

    select
        *,
        case
            when judged_value is null then '预警'
            when is_higher_better and judged_value >= target then '达标'
            when is_higher_better and judged_value >= target * {{ 1 - warning_band }}
                then '预警'
            when is_higher_better then '落后'
            when judged_value <= target then '达标'
            when judged_value <= target * {{ 1 + warning_band }} then '预警'
            else '落后'
        end as status,
        {{ format_kpi_value('value_to_date', 'unit', 'decimals', 'unit_word') }} as value_text,
        {{ format_kpi_value('target', 'unit', 'decimals', 'unit_word') }} as target_text,
        {{ format_kpi_value('projected_year_end', 'unit', 'decimals', 'unit_word') }}
            as projected_text,
        {{ format_datetime('as_of', '%Y年%-m月%-d日') }} as as_of_text,
        {{ format_decimals('value_to_date / nullif(target, 0) * 100', 1) }} || '%' as share_text,
        {{ format_decimals('judged_value / nullif(target, 0) * 100', 1) }} || '%'
            as judged_share_text
    from judged

),

final as (

    select
        kpi_code,
        kpi_name_zh,
        unit,
        domain,
        year,
        as_of,
        value_to_date,
        target,
        value_to_date / nullif(target, 0) as share_of_target,
        projected_year_end,
        projection_method,
        same_period_last_year,
        value_to_date / nullif(same_period_last_year, 0) - 1 as yoy_change,
        expected_share_to_date,
        status,
        case
            when judged_value is null
                then '截至' || as_of_text || '尚无可计算的数据，暂无法判断进度。'
            when projection_method <> 'none'
                then '截至' || as_of_text || '完成' || value_text
                    || coalesce('，为年度目标' || target_text || '的' || share_text, '')
                    || '；按' || case projection_method
                        when 'seasonal' then '去年同期进度'
                        else '时间进度'
                    end || '推算全年约' || projected_text
                    || case
                        when status = '达标' and is_higher_better then '，预计可完成目标。'
                        when status = '达标' then '，预计不超过目标。'
                        when is_higher_better
                            then coalesce('，为目标的' || judged_share_text, '')
                                || case status
                                    when '预警' then '，略低于目标，需加快进度。'
                                    else '，明显落后于目标。'
                                end
                        else coalesce('，为目标的' || judged_share_text, '')
                            || case status
                                when '预警' then '，略高于目标，需加以控制。'
                                else '，明显超出目标。'
                            end
                    end
            else '截至' || as_of_text || '为' || value_text || '，年度目标' || target_text
                || case
                    when status = '达标' and is_higher_better then '，已达到目标。'
                    when status = '达标' then '，未超过目标。'
                    when status = '预警' and is_higher_better
                        then '，略低于目标（不低于目标的九成）。'
                    when status = '预警' then '，略高于目标（超出不到一成）。'
                    when is_higher_better then '，低于目标的九成。'
                    else '，超出目标一成以上。'
                end
        end as status_reason,
        last_year_value,
        same_period_last_year_end,
        projected_year_end / nullif(target, 0) as projected_share_of_target
    from with_status

)

select * from final
