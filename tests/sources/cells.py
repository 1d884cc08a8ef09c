"""Workbook cells of the kind a value is, as an export from Excel holds them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import xlsxwriter


class TypedCells:
    """Writes each value as its own kind of cell: a time or a date in a date format (as Excel
    shows them), a flag, a number, else text; None leaves the cell empty."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.day = book.add_format({"num_format": "yyyy-mm-dd"})

    def write(self, sheet, row: int, col: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, datetime):
            sheet.write_datetime(row, col, value, self.time)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), self.day)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value)
        else:
            sheet.write_string(row, col, value)
