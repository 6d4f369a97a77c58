"""The files page, its download/delete actions, and the app's own upload/download URLs for disk storage.

Thin views: parse, call one service or selector, render. The disk endpoints
stand in for S3: `disk_upload` takes the same multipart POST a presigned S3
POST takes and answers the same way (204, or an XML error), `disk_download`
serves a signed, expiring GET or HEAD (another method is S3's 405).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from core.http import query_without_blanks
from files import storage
from files.choices import ALLOWED_CONTENT_TYPES, FileCategory, FileStatus
from files.exceptions import (
    DownloadRefused,
    FileForbidden,
    FileNotFound,
    RangeNotSatisfiable,
    StorageUnavailable,
    UploadRefused,
)
from files.queries import FileQuerySerializer
from files.selectors import VIEW_ALL_PERMISSION, file_departments, file_for_removal, file_list
from files.services import file_delete, file_disk_download, file_download_url
from files.usage import UNUSED, file_usage

logger = logging.getLogger(__name__)


class FileListView(LoginRequiredMixin, View):
    template_name = "files/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        query = query_without_blanks(request.GET)
        serializer = FileQuerySerializer(data=query)
        context: dict[str, Any] = {
            "query": query,
            "categories": FileCategory.choices,
            "statuses": FileStatus.choices,
            "accept": ",".join(ALLOWED_CONTENT_TYPES),
            "allowed_types": sorted(set(ALLOWED_CONTENT_TYPES.values())),
            "max_size": settings.FILE_MAX_SIZE_BYTES,
            "can_view_all": request.user.has_perm(VIEW_ALL_PERMISSION),
            "departments": file_departments(user=request.user),
            "errors": {},
            "page": None,
        }
        if not serializer.is_valid():
            context["errors"] = serializer.errors
            return render(request, self.template_name, context, status=400)
        data = serializer.validated_data
        paginator = Paginator(file_list(user=request.user, filters=serializer.to_filters()), data["limit"])
        page = paginator.get_page(data["page"])
        # Each row's delete button warns when the file went out with mail (files.usage).
        page.object_list = files = list(page.object_list)
        usage = file_usage(file_ids=[file.pk for file in files])
        for file in files:
            file.usage = usage.get(file.pk, UNUSED)
        context.update(
            page=page,
            sort_by=data["sortBy"],
            sort_order=data["sortOrder"],
            # Nothing to list and nothing filtered: the page explains itself instead of showing an empty table.
            no_files=not query and paginator.count == 0,
        )
        return render(request, self.template_name, context)


@login_required
@require_GET  # a link: it counts the download, so no HEAD (a prefetch would count) and no POST
def file_download(request: HttpRequest, file_id: uuid.UUID) -> HttpResponseBase:
    """Count the download and send the browser to a short-lived URL of the file."""
    try:
        link = file_download_url(user=request.user, file_id=file_id)
    except FileNotFound:
        raise Http404("No such file.") from None
    except FileForbidden as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain; charset=utf-8")
    return HttpResponseRedirect(link.url)


@login_required
@require_http_methods(["GET", "POST"])
def file_remove(request: HttpRequest, file_id: uuid.UUID) -> HttpResponseBase:
    """Delete a file; a confirmation page first when asked for (GET), or when emails carry the file.

    The list's script confirms in a dialog, saying how many emails carry the
    file, and posts `confirmed`; without it (no script, another page) such a
    file is not deleted before this page has said so.
    """
    back = request.POST.get("next", "") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse("files:list")
    usage = file_usage(file_ids=[file_id]).get(file_id, UNUSED)
    if request.method == "GET" or (usage.any and not request.POST.get("confirmed")):
        try:
            file = file_for_removal(user=request.user, file_id=file_id)
        except FileNotFound:
            if request.method == "GET":
                raise Http404("No such file.") from None
            # Not this user's to delete: the service below says why.
        else:
            context = {"file": file, "usage": usage, "next": back, "retention_days": settings.FILE_PURGE_RETENTION_DAYS}
            return render(request, "files/delete.html", context)
    try:
        file = file_delete(user=request.user, file_id=file_id)
    except FileNotFound:
        raise Http404("No such file.") from None
    except FileForbidden as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{file.original_name} was deleted.")
    return HttpResponseRedirect(back)


def _s3_style_error(code: str, message: str, status: int) -> HttpResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return HttpResponse(body, status=status, content_type="application/xml")


@csrf_exempt  # the signed URL is the credential, as a presigned S3 POST is
def disk_upload(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return _s3_style_error("MethodNotAllowed", "Uploads are multipart POSTs.", 405)
    try:
        storage.disk_upload_receive(request=request, token=token)
    except UploadRefused as exc:
        code, _, message = exc.reason.partition(": ")
        return _s3_style_error(code if message else "InvalidRequest", message or exc.reason, exc.status)
    return HttpResponse(status=204)


@csrf_exempt  # so that another method gets S3's 405 below, not the CSRF page: nothing is written
def disk_download(request: HttpRequest, token: str) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        refused = _s3_style_error("MethodNotAllowed", "Downloads are GET or HEAD.", 405)
        refused["Allow"] = "GET, HEAD"
        return refused
    # One range, as S3 serves; with If-Range the whole file, since these
    # answers carry no validator that it could match.
    range_header = "" if "If-Range" in request.headers else request.headers.get("Range", "")
    try:
        found = file_disk_download(token=token, range_header=range_header)
    except DownloadRefused as exc:
        return _s3_style_error(exc.code, str(exc), exc.status)
    except RangeNotSatisfiable as exc:
        refused = _s3_style_error("InvalidRange", "The requested range is not satisfiable.", 416)
        refused["Content-Range"] = f"bytes */{exc.size}"
        return refused
    except StorageUnavailable as exc:
        logger.error("A disk download could not be served: %s", exc)
        return _s3_style_error("ServiceUnavailable", exc.public_message, 503)
    response = FileResponse(found.handle, content_type=found.content_type, status=206 if found.partial else 200)
    response["Content-Disposition"] = storage.content_disposition(found.filename)
    response["Content-Length"] = str(found.length)
    response["Accept-Ranges"] = "bytes"
    if found.partial:
        response["Content-Range"] = f"bytes {found.start}-{found.start + found.length - 1}/{found.size}"
    response["Cache-Control"] = "private, no-store"
    return response
