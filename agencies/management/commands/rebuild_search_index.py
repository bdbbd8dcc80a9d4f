"""Recompute the name-search index (after a change to agencies.search.textnorm)."""

from django.db import transaction

from agencies.search import index as search_index
from portal.commands import BaseCommand
from portal.models import bump


class Command(BaseCommand):
    help = "重建名称搜索索引（修改了 agencies/search/textnorm.py 的折叠规则之后运行）。"

    def handle(self, *args, **options):
        with transaction.atomic():
            count = search_index.rebuild()
            bump()  # search answers may differ: cached pages must go
        self.stdout.write(f"已为 {count} 家机构重建搜索索引。")
