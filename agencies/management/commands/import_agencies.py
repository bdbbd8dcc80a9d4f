"""Import agencies from JSON Lines, CSV or .xlsx files; the work is in agencies.importing.

The whole import is one transaction (opened by importing.import_files): a bad
record, --dry-run, Ctrl-C or SIGTERM leave the database exactly as it was.
"""

import re
import sys

from django.core.management.base import CommandError
from django.db import DatabaseError

from agencies import importing
from portal.commands import BaseCommand

# Updated records listed field by field at the default verbosity.
DETAILS_SHOWN = 20


class _LogProgress:
    """Progress for logs (cron, CI): one line per batch instead of a redrawn bar."""

    def __init__(self, stream):
        self.stream = stream
        self.done = 0

    def update(self, count: int) -> None:
        self.done += count
        self.stream.write(f"已处理 {self.done} 条……")
        self.stream.flush()

    def close(self) -> None:
        pass


def _header_list(text: str) -> list[str]:
    """--ignore-columns "注册号,参保人数": the names, split on either comma."""
    return [name.strip() for name in re.split(r"[,，]", text) if name.strip()]


class Command(BaseCommand):
    help = (
        "从 JSON Lines（.jsonl）、CSV 或 Excel 工作簿（.xlsx）导入催收机构，"
        "按统一社会信用代码新增或更新。格式见 docs/import-format.md。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="要导入的文件（.jsonl、.csv 或 .xlsx）"
        )
        parser.add_argument(
            "--columns",
            metavar="YAML",
            help="列名对照文件：一行一个“表头: 字段”，把其他写法的表头对应到导入格式的字段。",
        )
        parser.add_argument(
            "--ignore-columns",
            metavar="列名",
            action="append",
            type=_header_list,
            default=[],
            help="不导入的列，多个用逗号分隔（可以写多次）。",
        )
        parser.add_argument(
            "--sheet",
            help="读 .xlsx 工作簿的哪个工作表：名称或从 1 数起的序号（默认第一个）。",
        )
        parser.add_argument(
            "--source",
            help="没有写来源的记录用这个来源，如“国家企业信用信息公示系统”。",
        )
        parser.add_argument("--source-url", help="没有写来源网址的记录用这个网址。")
        parser.add_argument(
            "--retrieved-on", metavar="日期", help="没有写获取日期的记录用这个日期。"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="只检查文件，报告将会新增、更新多少条、哪些字段会变，不写入数据库。",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="跳过有问题的记录，导入其余记录（默认：有一条有问题就什么都不写入）。",
        )

    def handle(self, *args, files, dry_run, skip_invalid, verbosity, **options):
        progress = self._progress(files, verbosity)
        try:
            with importing.stop_on_sigterm():
                summary = importing.import_files(
                    files,
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    progress=progress.update if progress else None,
                    columns=options["columns"],
                    ignore_columns=[name for names in options["ignore_columns"] for name in names],
                    sheet=options["sheet"],
                    defaults={
                        "source": options["source"],
                        "source_url": options["source_url"],
                        "retrieved_on": options["retrieved_on"],
                    },
                )
        except KeyboardInterrupt:
            raise CommandError(
                "导入被中断（Ctrl-C），数据库没有任何改动。", returncode=130
            ) from None
        except importing.Interrupted:
            raise CommandError(
                "导入被终止（SIGTERM），数据库没有任何改动。", returncode=143
            ) from None
        except DatabaseError as error:
            # The database is down or refused a statement: the transaction is
            # gone with it, so nothing was written. Say so instead of a traceback.
            raise CommandError(
                f"数据库出错，导入没有完成，数据库没有任何改动。数据库的原话：{error}".strip()
            ) from None
        finally:
            if progress:
                progress.close()

        for problem in summary.problems:
            self.stderr.write(str(problem))
        if summary.failed:
            raise CommandError(str(summary))
        if verbosity:
            # Which fields changed, record by record: the first few, or (-v 2) all kept.
            limit = None if verbosity >= 2 else DETAILS_SHOWN
            for line in summary.report_lines(limit):
                self.stdout.write(line)

    def _progress(self, files, verbosity):
        if self.stderr.isatty() and verbosity:
            from tqdm import tqdm

            # No monitor thread: with other threads running, the import could not
            # fork its checking process.
            tqdm.monitor_interval = 0
            return tqdm(
                total=importing.estimate_records(files) or None,
                unit="条",
                desc="导入",
                file=sys.stderr,
                dynamic_ncols=True,
            )
        if verbosity >= 2:
            return _LogProgress(self.stderr)
        return None
