"""Deploy checks for what only this project knows (`manage.py check --deploy`).

Django's own deploy checks cover HTTPS, cookies and the secret key; these
cover the promises the site makes to its readers: a real address for
corrections and removal requests, and no fictitious sample data on a public
deployment.
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError

from agencies.models import Agency

# Domains reserved for documentation (RFC 2606): never a real inbox.
_EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net", "localhost")


@register(Tags.security, deploy=True)
def contact_email_is_real(app_configs, **kwargs):
    address = settings.PORTAL_CONTACT_EMAIL
    try:
        validate_email(address)
    except ValidationError:
        valid = False
    else:
        valid = not address.lower().rsplit("@", 1)[-1].endswith(_EXAMPLE_DOMAINS)
    if valid:
        return []
    return [
        Error(
            f"PORTAL_CONTACT_EMAIL is {address!r}, not a real address.",
            hint="Set PORTAL_CONTACT_EMAIL to the inbox that answers corrections and "
            "removal requests; the data and privacy pages publish it.",
            id="portal.E001",
        )
    ]


# Not Tags.database: those run only with --database, and this must run with a
# plain `check --deploy`.
@register(Tags.security, deploy=True)
def no_sample_data(app_configs, **kwargs):
    try:
        has_samples = Agency.objects.samples().exists()
    except DatabaseError as error:
        return [
            Warning(
                f"Could not check for sample data: {error}",
                hint="Run the deploy checks where the production database answers.",
                id="portal.W002",
            )
        ]
    if not has_samples:
        return []
    return [
        Error(
            "The fictitious sample data is loaded.",
            hint="Remove it before going public: manage.py load_sample --remove",
            id="portal.E002",
        )
    ]
