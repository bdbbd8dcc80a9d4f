"""Hide a number at its owner's request; the work is in agencies.suppression."""

import getpass

from django.core.management.base import CommandError

from agencies import suppression
from portal.commands import BaseCommand


class Command(BaseCommand):
    help = (
        "应号码所有人的要求屏蔽一个号码：从所有页面、接口、导出中去掉，以后的导入也不再加回。"
        "步骤见 docs/corrections.md。"
    )

    def add_arguments(self, parser):
        parser.add_argument("number", metavar="号码", help="任意写法，如 0731-84521234")
        # Not required=True: argparse would refuse in English; suppression says it in Chinese.
        parser.add_argument(
            "--reason",
            help="必填。原因：谁、哪天、以什么方式提出的请求（只在后台显示）。",
        )
        parser.add_argument("--by", help="经办人（默认：当前系统用户名）。")

    def handle(self, *args, number, reason, by, **options):
        try:
            entry, agencies = suppression.suppress(
                number, reason=reason, by=by or getpass.getuser()
            )
        except suppression.SuppressionError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"已屏蔽号码 {entry.key}：从 {agencies} 家机构的记录中去掉。"
            "缓存的页面随数据版本失效；前面有 CDN 的，请按 docs/corrections.md 清除这个号码的页面。"
        )
