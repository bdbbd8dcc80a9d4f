"""Fill the Traditional-Chinese catalogue from the Simplified strings (run by `make messages`).

The UI is written in Simplified Chinese, so each msgid is the Simplified
text; its Traditional msgstr is portal.i18n.traditional() of it, the same
conversion (OpenCC and the site's phrase dictionary) the /zh-hant/ pages get.

An entry the machine filled follows the conversion: one whose msgstr is what
OpenCC alone, or the conversion today, makes of its msgid is written again, so
a phrase added to portal/traditional_phrases.txt reaches the catalogue too. An
entry whose msgstr is neither was corrected by a reviewer and is kept as it
is, so the correction survives the next `make messages`.
"""

from django.conf import settings
from django.core.management.base import CommandError

from portal.commands import BaseCommand
from portal.i18n import opencc_traditional, traditional

CATALOGUE = settings.BASE_DIR / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"


class Command(BaseCommand):
    help = "用 OpenCC 和本站繁体词表由简体界面文字生成繁体译文目录（保留已审校的条目）。"

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
        filled = refreshed = kept = 0
        for entry in catalogue:
            if entry.obsolete:
                continue
            converted = traditional(entry.msgid)
            current = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
            if entry.translated() and not entry.fuzzy:
                if current == converted:
                    continue
                if current != opencc_traditional(entry.msgid):
                    kept += 1  # a reviewer's correction
                    continue
                refreshed += 1
            else:
                filled += 1
            if entry.msgid_plural:
                entry.msgstr_plural = {0: converted}
            else:
                entry.msgstr = converted
            if entry.fuzzy:
                entry.flags.remove("fuzzy")
        catalogue.save(str(CATALOGUE))
        self.stdout.write(
            f"繁体目录：新填写 {filled} 条，按词表更新 {refreshed} 条，保留已审校的 {kept} 条。"
        )
