"""Docs kept honest: every environment variable the settings read, and every
parameter and path of the JSON API, is documented."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "portal" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"os\.environ(?:\.get)?\(\s*\"([A-Z_]+)\"", source))
    names |= set(re.findall(r"os\.environ\[\"([A-Z_]+)\"\]", source))
    names |= set(re.findall(r"env_(?:bool|list)\(\s*\"([A-Z_]+)\"", source))
    names |= set(re.findall(r"env=\"([A-Z_]+)\"", source))
    return names


def test_settings_read_the_variables_we_expect():
    assert {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS"} <= (
        variables_read_by_settings()
    )


def test_every_variable_is_in_env_example_and_docs():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    docs = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in variables_read_by_settings():
        assert re.search(rf"^#?\s*{name}=", example, re.M), f"{name} missing from .env.example"
        assert f"`{name}`" in docs, f"{name} missing from docs/settings.md"


def test_readme_has_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test\n" in ci and "make test-postgres" in ci


def test_every_api_path_and_parameter_is_in_docs(api_spec):
    docs = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for path, item in api_spec["paths"].items():
        # /api/v1/agencies/{uscc} is written /api/v1/agencies/<uscc> in the docs.
        written = path.replace("{", "<").replace("}", ">")
        (method,) = item  # one operation per path
        assert f"{method.upper()} {written}" in docs, f"{path} missing from docs/api.md"
        for parameter in item[method].get("parameters", []):
            assert f"`{parameter['name']}`" in docs, f"{parameter['name']} ({path}) missing"
