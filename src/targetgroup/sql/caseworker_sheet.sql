-- The data rows of one team sheet of a caseworker workbook, as the XML of the sheet's
-- <sheetData> (deliver/excel.py splices it into the workbook xlsxwriter made).
-- Grain of `numbered`: one row per caseworker_rows row of department $department and team
-- $team (null: rows without a team), numbered in the list's order from Excel row 2.
-- Cells: text as inline strings (XML-escaped, control characters dropped), whole numbers as
-- numbers, dates as Excel serial numbers with the workbook's date style; empty cells omitted.
with numbered as (
    select
        *,
        1 + row_number() over (
            order by case change_group when 'new' then 0 when 'continuing' then 1 when 'awaiting' then 2 else 3 end,
                caseworker, cpr, rule_id, flag_id
        ) as excel_row
    from caseworker_rows
    where department = $department and team is not distinct from $team
),

final as (
    select '<row r="' || excel_row || '">' || {cells} || '</row>' as row_xml, excel_row
    from numbered
)

select string_agg(row_xml, '' order by excel_row) as sheet_xml, count(*) as rows from final
