"""ASGI entry point. Uses the one settings module; production behaviour comes
from the environment (DJANGO_DEBUG=false requires DJANGO_SECRET_KEY)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_asgi_application()
