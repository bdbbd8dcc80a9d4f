"""Fill the Traditional-Chinese catalogue from the Simplified strings (run by `make messages`).

The UI is written in Simplified Chinese, so each msgid is the Simplified
text; its Traditional msgstr is portal.i18n.traditional() of it, the same
conversion the /zh-hant/ pages get. Entries already translated and not
marked fuzzy are kept as they are, so a reviewer's correction survives the
next `make messages`.
"""

from django.conf import settings
from django.core.management.base import CommandError

from portal.commands import BaseCommand
from portal.i18n import traditional

CATALOGUE = settings.BASE_DIR / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"


class Command(BaseCommand):
    help = "用 OpenCC 由简体界面文字生成繁体译文目录（保留已审校的条目）。"

    def handle(self, *args, **options):
        try:
            import polib  # a development dependency: only `make messages` needs it
        except ImportError:
            raise CommandError("需要 polib：请先运行 make install（开发依赖）。") from None
        if not CATALOGUE.exists():
            raise CommandError(f"没有找到 {CATALOGUE}：请先运行 makemessages -l zh_Hant。")
        catalogue = polib.pofile(str(CATALOGUE))
        catalogue.metadata.update(
            {
                "Language": "zh_Hant",
                "Plural-Forms": "nplurals=1; plural=0;",
                "Project-Id-Version": "cuishou-portal",
            }
        )
        catalogue.metadata_is_fuzzy = False
        filled = kept = 0
        for entry in catalogue:
            if entry.obsolete:
                continue
            if entry.translated() and not entry.fuzzy:
                kept += 1
                continue
            if entry.msgid_plural:
                entry.msgstr_plural = {0: traditional(entry.msgid)}
            else:
                entry.msgstr = traditional(entry.msgid)
            if entry.fuzzy:
                entry.flags.remove("fuzzy")
            filled += 1
        catalogue.save(str(CATALOGUE))
        self.stdout.write(f"繁体目录：OpenCC 填写 {filled} 条，保留已审校的 {kept} 条。")
