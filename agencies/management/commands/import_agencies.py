"""Import agencies from JSON Lines or CSV files; the work is in agencies.importing.

The whole import is one transaction (opened by importing.import_files): a bad
record, --dry-run, Ctrl-C or SIGTERM leave the database exactly as it was.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from agencies import importing


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


class Command(BaseCommand):
    help = (
        "从 JSON Lines（.jsonl）或 CSV 文件导入催收机构，按统一社会信用代码新增或更新。"
        "格式见 docs/import-format.md。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="要导入的文件（.jsonl 或 .csv）"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="只检查文件并报告将会新增、更新多少条，不写入数据库。",
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
            self.stdout.write(str(summary))

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
