"""The project's management commands answer a mistyped command line in Chinese."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from portal.commands import BaseCommand, reword

ROOT = Path(__file__).resolve().parent.parent
OURS = sorted(
    name for name, app in get_commands().items() if app in {"agencies", "articles", "portal"}
)


def test_every_command_of_ours_uses_the_chinese_base():
    from django.core.management import load_command_class

    assert OURS
    for name in OURS:
        assert isinstance(load_command_class(get_commands()[name], name), BaseCommand), name


@pytest.mark.parametrize("name", OURS)
def test_an_unknown_option_is_said_in_chinese(name):
    # Commands with a required argument complain about that first; either way, in Chinese.
    with pytest.raises(CommandError, match=r"不认识的参数：--no-such-option。|缺少必填的参数"):
        call_command(name, "--no-such-option")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["import_agencies"], "缺少必填的参数：FILE。"),
        (
            ["export_agencies", "--format", "xml"],
            "参数 --format 不能是 'xml'，可选：'jsonl', 'csv'。",
        ),
        (["suppress_phone", "13900001234", "--reason"], "参数 --reason 后面要写一个值。"),
    ],
)
def test_a_mistyped_command_line_gets_a_chinese_message(args, expected):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_other_messages_pass_through_unchanged():
    assert reword("something argparse says rarely") == "something argparse says rarely"
