"""The search box's dispatcher and the number page.

Function views on purpose: the search flow is bespoke (classify, then
redirect or render one of four answers), and the number page always answers,
even for a number nobody imported, so neither fits a generic view.
"""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import Article
from portal.links import reverse_one

from .. import phones
from ..models import Agency, SuppressedPhone
from ..rows import number_links
from . import textnorm
from .filters import SearchHitFilter
from .present import search_names
from .understand import InputKind, classify

PAGE_SIZE = 20
# Rights articles shown under name results.
ARTICLE_LIMIT = 5

# Rights articles the number page links to (slugs of the articles app).
PHONE_ADVICE = [
    ("harassment-what-to-do", gettext_lazy("遇到骚扰、辱骂或爆通讯录，可以怎么做、向哪里投诉")),
    ("collector-conduct-rules", gettext_lazy("催收人员不可以做的事：时间、频率、言语和第三方")),
    ("verify-collection-agency", gettext_lazy("怎样核实来电的催收机构是不是真的、有没有受托")),
    (
        "impersonation-court-police-lawyer",
        gettext_lazy("自称法院、公安或律师的来电：如何辨别冒充"),
    ),
]


def search(request):
    query = classify(request.GET.get("q"))
    context = {"query": query.text, "classified": query, "name_limit": textnorm.MAX_QUERY_CHARS}
    if query.kind == InputKind.PHONE:
        # The number page lists every agency behind the number (or says there
        # is none) and explains the number itself: always the best answer.
        return redirect("agencies:phone-detail", key=query.phone.key)
    if query.kind == InputKind.USCC:
        if not query.uscc_error:
            agency = Agency.objects.filter(uscc=query.uscc).first()
            if agency is not None:
                return redirect(agency)
        elif query.uscc_expected:
            # One character is wrong and the check character cannot say which.
            # A code that differs only in its check character belongs to another
            # company: shown as that, with its name, never as the correction.
            context["similar"] = (
                Agency.objects.filter(uscc=query.uscc_expected).only("uscc", "name").first()
            )
    elif query.kind == InputKind.NAME:
        filterset = SearchHitFilter(request.GET)
        results = search_names(
            query.folded,
            filterset,
            page=request.GET.get("page"),
            page_size=PAGE_SIZE,
            # A slip in a name, not in digits or a pasted message.
            suggest_corrections=not (query.not_a_number or query.message),
            version=getattr(request, "data_version", None),
        )
        context.update(
            results=results,
            page_obj=results.page,
            filterset=filterset,
            invalid_filters=sorted(filterset.form.errors),
            articles=Article.objects.published().matching(query.text)[:ARTICLE_LIMIT],
        )
    return render(request, "agencies/search.html", context)


def phone_detail(request, key):
    number = phones.normalize(key)
    if number is None:
        raise Http404(
            _("“%(key)s”不是一个能识别的电话号码。请检查位数，或回到查询页重新输入。")
            % {"key": key[:40]}
        )
    if number.key != key:
        return redirect("agencies:phone-detail", key=number.key, permanent=True)
    links = number_links(number.key)
    # Suppressing a number deletes its links in the same transaction, and
    # neither the import nor the admin adds them back (agencies.suppression):
    # only a number without agencies can be on the list, and only then is the
    # list asked (as the API does).
    if not links and SuppressedPhone.objects.covers(number.key):
        # Its owner asked us not to show it: the same neutral answer for everyone,
        # which says nothing about who the number belongs to.
        return render(request, "agencies/phone_suppressed.html", {"number": number})
    context = {
        "query": number.display,
        "number": number,
        "links": links,
        "shared": len({link.agency.uscc for link in links}) > 1,
        "advice": [
            (reverse_one("articles:detail", "slug", slug), title) for slug, title in PHONE_ADVICE
        ],
    }
    return render(request, "agencies/phone_detail.html", context)
