"""WSGI entry point. Uses the one settings module; production behaviour comes
from the environment (DJANGO_DEBUG=false requires DJANGO_SECRET_KEY)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()
