from __future__ import annotations

from django.urls import path, re_path

from files import api

# The seeds' clients call these paths without a trailing slash; both work.
urlpatterns = [
    re_path(r"^files/?$", api.FileCollectionView.as_view(), name="file-collection"),
    re_path(r"^files/upload-url/?$", api.FileUploadUrlView.as_view(), name="file-upload-url"),
    re_path(r"^files/complete/?$", api.FileCompleteView.as_view(), name="file-complete"),
    path("files/<uuid:file_id>", api.FileDetailView.as_view(), name="file-detail"),
    path("files/<uuid:file_id>/", api.FileDetailView.as_view()),
    path("files/<uuid:file_id>/download-url", api.FileDownloadUrlView.as_view(), name="file-download-url"),
    path("files/<uuid:file_id>/download-url/", api.FileDownloadUrlView.as_view()),
]
