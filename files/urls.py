"""The files page and the app's own signed upload/download URLs (disk storage)."""

from __future__ import annotations

from django.urls import path

from files import views

app_name = "files"
urlpatterns = [
    path("files", views.FileListView.as_view(), name="list"),
    path("files/<uuid:file_id>/download", views.file_download, name="download"),
    path("files/<uuid:file_id>/delete", views.file_remove, name="delete"),
    path("files/upload/<str:token>", views.disk_upload, name="disk-upload"),
    path("files/download/<str:token>", views.disk_download, name="disk-download"),
]
