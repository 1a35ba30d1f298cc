"""Raising or lowering prices by a percentage: the intermediate page of the actions on
price lists and on prices."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from pricing.admin.common import MAX_SHOWN_ROWS, actor_of
from pricing.errors import DomainError, ValidationFailed
from pricing.services.bulk import (
    ROUNDING_HELP,
    Rounding,
    change_prices_by_percent,
    check_percent,
    plan_percent_change,
)


class PercentChangeForm(forms.Form):
    percent = forms.DecimalField(
        label="Change by (%)",
        max_digits=6,
        decimal_places=2,
        help_text="5 raises every price by 5 %; -10 lowers it by 10 %.",
    )
    rounding = forms.ChoiceField(
        choices=Rounding.choices,
        initial=Rounding.CENT,
        widget=forms.RadioSelect,
        help_text=ROUNDING_HELP,
    )
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_percent(self):
        try:
            return check_percent(self.cleaned_data["percent"])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.detail) from None

    def signature(self) -> str:
        return f"{self.cleaned_data['percent']}|{self.cleaned_data['rounding']}"


def percent_change_view(model_admin, request, *, prices, what: str):
    """The intermediate page of both actions: ask, preview old → new, then apply what was
    previewed (if the percentage or rounding changed since, preview again)."""
    bound = "percent" in request.POST
    form = PercentChangeForm(request.POST if bound else None)
    plan = None
    if bound and form.is_valid():
        percent, rounding = form.cleaned_data["percent"], form.cleaned_data["rounding"]
        if "apply" in request.POST and form.cleaned_data["previewed"] == form.signature():
            try:
                done = change_prices_by_percent(
                    prices=prices, percent=percent, rounding=rounding, actor=actor_of(request)
                )
            except DomainError as exc:
                model_admin.message_user(request, exc.detail, messages.ERROR)
            else:
                model_admin.message_user(
                    request,
                    f"{len(done.changed)} price(s) changed by {done.reason}; "
                    f"{done.unchanged} already there.",
                    messages.SUCCESS,
                )
                return None  # back to the changelist
        plan = plan_percent_change(prices=prices, percent=percent, rounding=rounding)
        form = PercentChangeForm(
            initial={"percent": percent, "rounding": rounding, "previewed": form.signature()}
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Raise or lower prices",
        "opts": model_admin.model._meta,
        "what": what,
        "form": form,
        "plan": plan,
        "shown": [(a, a.against(plan.percent)) for a in plan.changed[:MAX_SHOWN_ROWS]]
        if plan
        else [],
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action": request.POST.get("action", ""),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/pricing/percent_change.html", context)
