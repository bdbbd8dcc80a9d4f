"""Recount the figures the pages show (agencies.figures), e.g. after a bulk SQL fix."""

from django.db import transaction

from agencies import figures
from portal.commands import BaseCommand
from portal.models import bump


class Command(BaseCommand):
    help = "重新统计各页面显示的数字（省份、城市、状态、来源和号码的计数）。"

    def handle(self, *args, **options):
        with transaction.atomic():
            figures.refresh()
            bump()
        self.stdout.write("已重新统计。")
