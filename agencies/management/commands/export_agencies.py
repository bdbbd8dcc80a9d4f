"""Write all agencies in the import format; the work is in agencies.exporting."""

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

from agencies import exporting, importing
from portal.commands import BaseCommand


class Command(BaseCommand):
    help = (
        "把全部机构按导入格式导出（JSON Lines 或 CSV，UTF-8），默认写到标准输出。"
        "JSON Lines 导出可原样再导入；格式见 docs/import-format.md。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=exporting.FORMATS,
            help="jsonl（默认）或 csv；不写时按 --output 的扩展名判断。",
        )
        parser.add_argument("--output", metavar="FILE", help="写到这个文件，而不是标准输出。")

    def handle(self, *args, format=None, output=None, **options):
        fmt = format or _format_for(output)
        if output is None:
            if "stdout" not in options and hasattr(sys.stdout, "reconfigure"):
                # The format is UTF-8 whatever the terminal's locale says.
                sys.stdout.reconfigure(encoding="utf-8")
            for chunk in exporting.export_chunks(fmt):
                self.stdout.write(chunk, ending="")
            return
        target = Path(output)
        if target.is_dir():
            raise CommandError(f"{output} 是一个目录，请给出文件名。")
        # Written beside the target and renamed at the end, so an interrupted
        # export never leaves a truncated file under the real name.
        try:
            fd, temporary = tempfile.mkstemp(
                dir=target.resolve().parent, prefix=f".{target.name}.", suffix=".part"
            )
        except OSError as exc:
            raise CommandError(f"无法写入 {output}：{importing.os_error_text(exc)}。") from None
        try:
            # mkstemp makes the file private; give it the usual permissions.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
            with open(fd, "w", encoding="utf-8", newline="") as fh:
                for chunk in exporting.export_chunks(fmt):
                    fh.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if options["verbosity"]:
            self.stderr.write(f"已导出到 {output}。")


def _format_for(output: str | None) -> str:
    if output and Path(output).suffix.lower() == ".csv":
        return "csv"
    return "jsonl"
