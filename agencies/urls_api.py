"""Read-only JSON API, /api/v1/ (built in the search issue)."""

app_name = "api"

urlpatterns = []
