"""Load articles/content/*.md into the database. The logic is in articles.loading."""

from pathlib import Path

from django.core.management.base import CommandError

from articles.loading import DEFAULT_DIR, SyncError, sync
from portal.commands import BaseCommand


class Command(BaseCommand):
    help = "读取 Markdown 文章并同步到数据库：新增、更新，源文件已删除的文章下线。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", type=Path, default=DEFAULT_DIR, help="文章目录（默认 articles/content/）"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只检查并报告将要做的修改，不写入数据库"
        )

    def handle(self, *args, dir: Path, dry_run: bool, **options):
        try:
            report = sync(dir, dry_run=dry_run)
        except SyncError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"发现 {len(exc.problems)} 个问题，没有做任何修改。") from None
        prefix = "（试运行，未写入）" if dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
        for label, slugs in (
            ("新增", report.created),
            ("更新", report.updated),
            ("下线", report.unpublished),
        ):
            for slug in slugs:
                self.stdout.write(f"  {label} {slug}", self.style.NOTICE)
