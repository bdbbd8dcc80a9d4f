from django.conf import settings

from agencies.models import Agency


def site(request):
    """Values every page needs: whether to show the sample-data banner.

    The check is one indexed EXISTS query, evaluated lazily so pages that
    never render the banner (JSON, admin) do not pay for it.
    """

    def has_sample_data():
        return Agency.objects.samples().exists()

    return {
        "has_sample_data": has_sample_data,
        "contact_email": settings.PORTAL_CONTACT_EMAIL,
        "portal_base_url": settings.PORTAL_BASE_URL,
    }
