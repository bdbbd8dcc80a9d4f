"""{% once %}: markup the same on every page in a language, rendered once per process."""

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation

ENGINE = Engine(
    libraries={"portal_tags": "portal.templatetags.portal_tags", "i18n": "django.templatetags.i18n"}
)


def _render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return ENGINE.from_string(source).render(Context(context))


def test_each_language_gets_its_own_text_and_url():
    template = ENGINE.from_string(
        "{% load i18n portal_tags %}{% once %}<a href=\"{% url 'agencies:search' %}\">"
        '{% translate "查询" %}</a>{% endonce %}'
    )
    rendered = {}
    for language in ("zh-hans", "en", "zh-hans", "en"):
        with translation.override(language):
            rendered.setdefault(language, set()).add(template.render(Context()))
    assert rendered["zh-hans"] == {'<a href="/search/">查询</a>'}
    (english,) = rendered["en"]
    assert english.startswith('<a href="/en/search/">') and "查询" not in english


@pytest.mark.parametrize(
    "inside",
    [
        "{{ name }}",
        "{% if name %}x{% endif %}",
        "{% translate name %}",
        "{% blocktranslate %}你好 {{ name }}{% endblocktranslate %}",
        "{% url 'agencies:agency-detail' uscc %}",
        '{% translate "查询" as label %}',
    ],
)
def test_anything_that_could_differ_between_visitors_is_refused(inside):
    with pytest.raises(TemplateSyntaxError, match="once"):
        ENGINE.from_string("{% load i18n portal_tags %}{% once %}" + inside + "{% endonce %}")
