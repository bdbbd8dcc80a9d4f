from functools import cache

from django.conf import settings
from django.utils import translation

from agencies import figures
from agencies.search import textnorm
from portal import i18n, requestline
from portal.links import absolute_url


def site(request):
    """Values every page needs: the sample-data banner, the page's language and its alternates.

    Whether there is sample data is read from the figures once per data
    version (agencies.figures.has_sample_data), lazily, so pages that never
    render the banner (JSON, admin) do not ask.
    """

    # Each is called where a template first needs it and remembered for the
    # rest of this request: the template engine calls a callable every time it
    # resolves it, and the alternates are used twice (<head>, the switcher).
    @cache
    def has_sample_data():
        return figures.has_sample_data(getattr(request, "data_version", None))

    @cache
    def alternates():
        return i18n.alternates(request)

    @cache
    def page_url():
        # On PORTAL_BASE_URL when set: behind a proxy the Host may be internal.
        return absolute_url(request, request.get_full_path())

    language = translation.get_language()
    return {
        "has_sample_data": has_sample_data,
        "html_lang": i18n.HTML_LANG.get(language, language),
        "traditional": language == i18n.TRADITIONAL,
        # For a block of data (an article's text) on a page in another language.
        "data_lang": "" if i18n.is_chinese_page() else i18n.DATA_LANG,
        "og_locale": i18n.OG_LOCALE.get(language, "zh_CN"),
        # This page in every language (hreflang, the switcher); lazy, so JSON
        # and the admin do not pay for it.
        "alternates": alternates,
        "page_url": page_url,
        # The search box (includes/_search_form.html): what it accepts, and
        # the length past which a paste is a message for the message check.
        "search_box_chars": requestline.SEARCH_BOX_CHARS,
        "search_name_chars": textnorm.MAX_QUERY_CHARS,
        "contact_email": settings.PORTAL_CONTACT_EMAIL,
        "portal_base_url": settings.PORTAL_BASE_URL,
    }
