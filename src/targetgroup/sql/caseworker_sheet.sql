-- The data rows of the team sheets of one caseworker workbook, as the XML of each sheet's
-- <sheetData> (deliver/excel.py splices it into the workbook xlsxwriter made); one statement
-- per department (a statement per team sheet cost twice as much in all).
-- Grain of `numbered`: one row per caseworker_rows row of department $department, numbered
-- within its team (null: rows without a team) in the list's order from Excel row 2.
-- Grain of the result: one row per team of $department: team, sheet_xml, rows.
-- Cells: text as inline strings (XML-escaped, control characters dropped), whole numbers as
-- numbers, dates as Excel serial numbers with the workbook's date style; empty cells omitted.
with numbered as (
    select
        *,
        1 + row_number() over (
            partition by team
            order by case change_group when 'new' then 0 when 'continuing' then 1 when 'awaiting' then 2 else 3 end,
                caseworker, cpr, rule_id, flag_id
        ) as excel_row
    from caseworker_rows
    where department = $department
),

final as (
    select team, '<row r="' || excel_row || '">' || {cells} || '</row>' as row_xml, excel_row
    from numbered
)

select team, string_agg(row_xml, '' order by excel_row) as sheet_xml, count(*) as rows
from final
group by team
