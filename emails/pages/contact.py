"""One person's page: whether we would mail them, and every message they were on, with what became of it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from core.http import query_without_blanks
from emails.queries import PageQuerySerializer
from emails.selectors import contact_get

PAGE_SIZE = 20


class ContactView(LoginRequiredMixin, View):
    template_name = "emails/contact.html"

    def get(self, request: HttpRequest, address: str) -> HttpResponse:
        query = query_without_blanks(request.GET)
        paging = PageQuerySerializer(data={"limit": PAGE_SIZE, **query.dict()})
        number = paging.validated_data["page"] if paging.is_valid() else 1
        contact = contact_get(user=request.user, address=address)
        page = Paginator(contact.deliveries, PAGE_SIZE).get_page(number)
        context: dict[str, Any] = {"contact": contact, "page": page, "query": query}
        return render(request, self.template_name, context)
