"""`/api/files...`: the seeds' clients call these paths without a trailing slash; both work."""

from __future__ import annotations

from core.rest.routers import OptionalSlashRouter
from files.api.views import FileViewSet

router = OptionalSlashRouter()
router.register("files", FileViewSet, basename="file")
urlpatterns = router.urls
