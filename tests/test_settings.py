"""Start-up and failure behaviour that only shows in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URLS"):
        environment.pop(name, None)
    # A developer's .env must not leak into these fresh processes.
    environment["DJANGO_ENV_FILE"] = ""
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


SETUP = (
    "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings');"
    "import django; django.setup();"
)


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_python(SETUP + "print('started')", DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert "started" not in result.stdout


def test_debug_is_off_unless_asked_for():
    result = run_python(
        SETUP + "from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SECRET_KEY="a-test-only-key-that-is-long-enough-0123456789",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_read_a_dotenv_file_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DJANGO_SECRET_KEY=a-key-from-the-env-file-that-is-long-enough-0123\n"
        "PORTAL_CONTACT_EMAIL=from-file@cuishou-chaxun.cn\n"
        "PORTAL_BASE_URL=https://from-file.example\n",
        encoding="utf-8",
    )
    result = run_python(
        SETUP + "from django.conf import settings;"
        "print(settings.DEBUG, settings.PORTAL_CONTACT_EMAIL, settings.PORTAL_BASE_URL)",
        DJANGO_ENV_FILE=str(env_file),
        PORTAL_BASE_URL="https://from-environment.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "from-file@cuishou-chaxun.cn",
        "https://from-environment.example",
    ]


def test_starts_with_secret_key_when_debug_is_off():
    result = run_python(
        SETUP + "from django.conf import settings; print(settings.DEBUG)",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-test-only-key-that-is-long-enough-0123456789",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_dead_database_gives_a_plain_chinese_503_page(tmp_path):
    code = SETUP + (
        "from django.core.management import call_command;"
        "call_command('collectstatic', interactive=False, verbosity=0);"
        "from django.test import Client;"
        "r = Client(raise_request_exception=False).get('/provinces/hunan/');"
        "print(r.status_code); print(r.content.decode())"
    )
    result = run_python(
        code,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-test-only-key-that-is-long-enough-0123456789",
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        # Nothing listens on port 1: the connection is refused at once.
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        DJANGO_LOG_LEVEL="CRITICAL",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.partition("\n")
    assert status == "503"
    assert "服务暂时不可用" in body and "数据库暂时无法连接" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_replica_urls_become_mirrored_aliases_behind_the_router():
    result = run_python(
        SETUP + "from django.conf import settings; import json;"
        "print(json.dumps({alias: [db['HOST'], db['PORT'], db['NAME'], db['CONN_MAX_AGE'],"
        " db['CONN_HEALTH_CHECKS'], db['TEST']['MIRROR'], db['OPTIONS'].get('isolation_level')]"
        " for alias, db in settings.DATABASES.items()}));"
        "print(settings.DATABASE_ROUTERS)",
        DJANGO_DEBUG="true",
        DATABASE_URL="postgres://portal@db0:5432/portal",
        DATABASE_REPLICA_URLS="postgres://portal@db1:5432/portal, postgres://portal@db2/portal",
        DATABASE_CONN_MAX_AGE="30",
    )
    assert result.returncode == 0, result.stderr
    databases, routers = result.stdout.splitlines()
    assert json.loads(databases) == {
        "default": ["db0", 5432, "portal", 30, True, None, None],
        # REPEATABLE READ: one snapshot per public request.
        "replica1": ["db1", 5432, "portal", 30, True, "default", 3],
        "replica2": ["db2", "", "portal", 30, True, "default", 3],
    }
    assert routers == "['portal.routers.ReplicaRouter']"


def test_no_router_without_replicas():
    result = run_python(
        SETUP + "from django.conf import settings;"
        "print(list(settings.DATABASES), settings.DATABASE_ROUTERS)",
        DJANGO_DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default'] []"


def test_replicas_need_postgresql():
    result = run_python(
        SETUP + "print('started')",
        DJANGO_DEBUG="true",
        DATABASE_REPLICA_URLS="postgres://portal@db1:5432/portal",
    )
    assert result.returncode != 0 and "started" not in result.stdout
    assert "DATABASE_REPLICA_URLS needs PostgreSQL" in result.stderr


def test_deploy_checks_are_clean_with_the_production_variables(tmp_path):
    production = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "pr0duction-only-Key-with-enough-entropy-0123456789-abcdefXYZ",
        "DJANGO_ALLOWED_HOSTS": "cuishou-chaxun.cn",
        "PORTAL_CONTACT_EMAIL": "jiucuo@cuishou-chaxun.cn",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    code = SETUP + (
        "from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "call_command('check', deploy=True, fail_level='WARNING');"
        "print('clean')"
    )
    result = run_python(code, **production)
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout
    # Plain HTTP for 127.0.0.1 is a choice the checks point out.
    result = run_python(code, **production, DJANGO_SECURE_SSL_REDIRECT="false")
    assert result.returncode != 0 and "security.W008" in result.stderr
