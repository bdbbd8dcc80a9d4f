"""The base of the project's management commands: argparse's complaints in Chinese.

The operators who run import_agencies or suppress_phone read Chinese everywhere
else; argparse words its own errors in English ("the following arguments are
required: FILE"), and Python ships no Chinese catalogue for it. The handful of
messages a mistyped command line meets are reworded here; anything else passes
through as argparse wrote it.
"""

import re

from django.core.management import base

_REWORDED = [
    (re.compile(r"the following arguments are required: (.+)"), "缺少必填的参数：{0}。"),
    (re.compile(r"unrecognized arguments: (.+)"), "不认识的参数：{0}。"),
    (re.compile(r"argument (\S+): expected one argument"), "参数 {0} 后面要写一个值。"),
    (
        re.compile(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)"),
        "参数 {0} 不能是 {1}，可选：{2}。",
    ),
    (re.compile(r"argument (\S+): invalid (\w+) value: (.+)"), "参数 {0} 的值 {2} 不对。"),
]


def reword(message: str) -> str:
    for pattern, chinese in _REWORDED:
        match = pattern.fullmatch(message)
        if match:
            return chinese.format(*match.groups())
    return message


class BaseCommand(base.BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        complain = parser.error

        def error(message):
            complain(reword(message))

        parser.error = error
        return parser
