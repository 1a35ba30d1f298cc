"""The CSV import of receipts or counts, as a page of the stock levels admin.

Upload → preview (every row checked, nothing written; the file waits in the session) →
confirm (the file is checked again against the stock of that moment, then written in one
transaction or not at all). The rules live in :mod:`inventory.imports`, shared with
``manage.py import_stock``. Only staff who may add stock movements see the button and page.
"""

import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.csvimport import decode
from inventory import imports


def admin_actor(request: HttpRequest) -> str:
    """Who, for the ledger."""
    return f"admin:{request.user.get_username()}"


class StockImportForm(forms.Form):
    # The previewed file waits in the session, which is read on every admin request until
    # it is confirmed: 5 MB is about 150,000 rows. Bigger files: manage.py import_stock.
    MAX_BYTES = 5 * 1024 * 1024

    file = forms.FileField(
        help_text="CSV, UTF-8, header sku,location,quantity (optional: reason, reference)."
    )
    kind = forms.ChoiceField(
        choices=imports.ImportKind.choices,
        initial=imports.ImportKind.RECEIPT,
        widget=forms.RadioSelect,
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                "At most 5 MB; split the file, or use manage.py import_stock."
            )
        text = decode(upload.read())
        if text is None:
            raise forms.ValidationError("The file is not UTF-8 text; save it as 'CSV UTF-8'.")
        return text


class StockImportAdmin:
    """Mixed into the stock levels' ModelAdmin: the page, its URL and the changelist button."""

    change_list_template = "admin/inventory/stocklevel/change_list.html"
    import_template = "admin/inventory/stocklevel/import.html"
    IMPORT_SESSION_KEY = "inventory_stock_import"
    PREVIEW_ROWS = 500

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="inventory_stocklevel_import"), *super().get_urls()]

    def has_import_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_staff and user.has_perm("inventory.add_stockmovement")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload → preview (nothing written; the file waits in the session) → confirm (the
        file is checked again against the stock of that moment, then applied or not at all)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_import(request)
        posted = request.method == "POST"
        form = StockImportForm(request.POST, request.FILES) if posted else StockImportForm()
        plan, token = None, ""
        if posted:
            # A new upload replaces whatever preview was pending: only the latest can be confirmed.
            request.session.pop(self.IMPORT_SESSION_KEY, None)
        if posted and form.is_valid():
            content, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
            plan = imports.plan_import(content, kind=kind)
            if plan.ok:
                token = secrets.token_urlsafe(16)
                request.session[self.IMPORT_SESSION_KEY] = {
                    "token": token,
                    "kind": kind,
                    "content": content,
                    "name": request.FILES["file"].name,
                }
        return self._render_import(request, form, plan, token)

    def _confirm_import(self, request: HttpRequest) -> HttpResponse:
        pending = request.session.get(self.IMPORT_SESSION_KEY)
        token = request.POST.get("token", "")
        if not pending or not secrets.compare_digest(pending["token"], token):
            self.message_user(
                request,
                "That preview is no longer pending (confirmed already, or replaced by another "
                "upload). Upload the file again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:inventory_stocklevel_import"))
        del request.session[self.IMPORT_SESSION_KEY]
        plan = imports.import_stock(
            pending["content"],
            kind=pending["kind"],
            actor=admin_actor(request),
            source=pending["name"],
        )
        if plan.applied:
            self.message_user(request, f"{pending['name']}: {plan.summary()}", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))
        self.message_user(
            request,
            "The file no longer passes its checks against the current stock; nothing was "
            "written. See the rows below.",
            messages.ERROR,
        )
        return self._render_import(request, StockImportForm(), plan, "")

    def _render_import(self, request, form, plan, token) -> HttpResponse:
        shown = []
        if plan is not None:
            shown = [
                row
                for number, row in enumerate(plan.rows)
                if number < self.PREVIEW_ROWS or not row.ok
            ][: self.PREVIEW_ROWS * 2]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import receipts or counts",
            "form": form,
            "plan": plan,
            "shown": shown,
            "token": token,
        }
        return TemplateResponse(request, self.import_template, context)
