#!/usr/bin/env python
"""Fill the Traditional-Chinese catalogue from the Simplified strings, with OpenCC.

    python scripts/traditional_catalog.py locale/zh_Hant/LC_MESSAGES/django.po

The UI is written in Simplified Chinese, so each msgid is the Simplified text;
its Traditional msgstr is OpenCC's s2tw conversion: Traditional characters
in the forms Taiwan and Hong Kong readers are used to (為, not 爲), without
changing vocabulary (no 信息 → 資訊: legal and registry terms stay as the
sources write them). portal.i18n converts the pages' data the same way. Entries already
translated and not marked fuzzy are kept as they are: a reviewer's correction
survives the next `make messages`. Run by `make messages`.
"""

import sys

import opencc
import polib


def fill(path: str) -> tuple[int, int]:
    convert = opencc.OpenCC("s2tw").convert
    catalogue = polib.pofile(path)
    catalogue.metadata["Language"] = "zh_Hant"
    catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalogue.metadata["Project-Id-Version"] = "cuishou-portal"
    catalogue.metadata_is_fuzzy = False
    filled = kept = 0
    for entry in catalogue:
        if entry.obsolete:
            continue
        if entry.translated() and not entry.fuzzy:
            kept += 1
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = {0: convert(entry.msgid)}
        else:
            entry.msgstr = convert(entry.msgid)
        if entry.fuzzy:
            entry.flags.remove("fuzzy")
        filled += 1
    catalogue.save(path)
    return filled, kept


if __name__ == "__main__":
    for path in sys.argv[1:]:
        filled, kept = fill(path)
        print(f"{path}: {filled} filled with OpenCC, {kept} kept as reviewed")
