"""Search dispatcher and the number page (built in the search issue)."""

from django.shortcuts import render


def search(request):
    return render(request, "agencies/search.html", {"query": request.GET.get("q", "")})


def phone_detail(request, key):
    return render(request, "agencies/phone_detail.html", {"key": key})
