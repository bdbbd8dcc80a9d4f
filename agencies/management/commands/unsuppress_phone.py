"""Lift a suppression made by suppress_phone; the work is in agencies.suppression."""

from django.core.management.base import CommandError

from agencies import suppression
from portal.commands import BaseCommand


class Command(BaseCommand):
    help = "取消对一个号码的屏蔽，并恢复屏蔽时从机构记录中去掉的内容。"

    def add_arguments(self, parser):
        parser.add_argument("number", metavar="号码", help="任意写法，如 0731-84521234")

    def handle(self, *args, number, **options):
        try:
            restored = suppression.unsuppress(number)
        except suppression.SuppressionError as error:
            raise CommandError(error.message) from None
        key = suppression.number_key(number)
        self.stdout.write(f"已取消屏蔽号码 {key}，恢复到 {restored} 家机构的记录中。")
