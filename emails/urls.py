from __future__ import annotations

app_name = "emails"
urlpatterns: list = []
