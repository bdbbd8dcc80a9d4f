"""What can be wrong with an import, as the person fixing the file reads it."""

import errno
from typing import NamedTuple


class Problem(NamedTuple):
    """One thing wrong with one record (line > 0) or with a whole file (line 0).

    `sheet` is set for a workbook's records: they are found by sheet and row,
    `file.xlsx:Sheet1!R12`, as Excel's own R1C1 notation names a row.
    """

    file: str
    line: int
    field: str
    message: str
    sheet: str = ""

    def __str__(self):
        if self.sheet:
            where = f"{self.file}:{self.sheet}" + (f"!R{self.line}" if self.line else "")
        else:
            where = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class InvalidInput(Exception):
    """A file or a value that can't be taken; `message` says why, for the person who wrote it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_OS_ERRORS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录",
    errno.ENOSPC: "磁盘空间不足",
}


def os_error_text(exc: OSError) -> str:
    """The operating system's complaint in Chinese where it is a common one."""
    return _OS_ERRORS.get(exc.errno) or exc.strerror or str(exc)
