from django.urls import path

from . import api

app_name = "articles_api"

urlpatterns = [
    path("articles", api.article_list, name="list"),
    # <str:…>, not <slug:…>: an address that is not a slug still gets a JSON 404.
    path("articles/<str:slug>", api.article_detail, name="detail"),
]
