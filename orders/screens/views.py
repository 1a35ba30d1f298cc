"""Click-and-collect screens. Each view: check input with a form, call one service (the
same the API calls), render. Domain errors become a message on the page (a person reads it)
rather than problem+json; the service has already refused and changed nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.api.errors import DomainError, NotFound
from config.api.login_throttle import StaffLoginForm, mark_throttled
from orders.models import FulfilmentStatus
from orders.screens import queries
from orders.screens.access import LOGIN_URL, staff_locations, store_page
from orders.screens.actions import resend_ready_notification
from orders.screens.forms import MissingForm, PickupCodeForm, ScanForm, SearchForm
from orders.services.fulfilment import PickedLine, mark_ready, record_pick, start_picking
from orders.services.handover import collect
from orders.services.unit_changes import pick_recorded

QUEUE_POLL_SECONDS = 10


class LoginView(auth_views.LoginView):
    """Staff sign-in; too many failures answer 429 without checking the password."""

    template_name = "orders/store/login.html"
    form_class = StaffLoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        mark_throttled(response, form)
        return response

    def get_default_redirect_url(self):
        return reverse("store:home")


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("store:login")


def home(request):
    """After sign-in: straight to the one store, or pick among several."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), LOGIN_URL)
    stores = staff_locations(request.user)
    if len(stores) == 1:
        return redirect("store:queue", code=stores[0].code)
    return render(
        request,
        "orders/store/choose_store.html",
        {"stores": stores},
        status=200 if stores else 403,
    )


def _fulfilment(request, fulfilment_id: int):
    try:
        return queries.pickup(request.store.principal, fulfilment_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


# --- Queue --------------------------------------------------------------------------------


@store_page
def queue(request):
    context = {
        "rows": queries.pick_queue(request.store.principal, now=timezone.now()),
        "poll_seconds": QUEUE_POLL_SECONDS,
        "tab": "queue",
    }
    if request.htmx:
        return render(request, "orders/store/partials/queue_rows.html", context)
    return render(request, "orders/store/queue.html", context)


# --- Pick ---------------------------------------------------------------------------------


def _pick_state(request, fulfilment_id: int) -> dict:
    return request.session.get(f"store-pick:{fulfilment_id}") or {"scanned": {}, "missing": []}


def _save_pick_state(request, fulfilment_id: int, state: dict | None) -> None:
    key = f"store-pick:{fulfilment_id}"
    if state is None:
        request.session.pop(key, None)
    else:
        request.session[key] = state


def _pick_context(request, fulfilment, *, form=None, notice=None) -> dict:
    state = _pick_state(request, fulfilment.pk)
    lines = queries.pick_lines(fulfilment, scanned=state["scanned"], missing=state["missing"])
    recorded = fulfilment.status == FulfilmentStatus.PICKING and pick_recorded(
        list(fulfilment.lines.all())
    )
    return {
        "fulfilment": fulfilment,
        "order": fulfilment.order,
        "lines": lines,
        "form": form or ScanForm(),
        "notice": notice,
        "pickable": fulfilment.status in queries.TO_PICK and not recorded,
        "recorded": recorded,
        "all_done": all(line.done for line in lines),
        "missing_units": sum(line.quantity - line.scanned for line in lines if line.missing),
        "found_units": sum(line.scanned for line in lines),
        "tab": "queue",
    }


def _pick_response(request, fulfilment, *, notice=None, form=None):
    context = _pick_context(request, fulfilment, form=form, notice=notice)
    if request.htmx:
        return render(request, "orders/store/partials/pick_panel.html", context)
    if notice is not None:
        getattr(messages, notice[0])(request, notice[1])
    return redirect("store:pick", code=request.store.location.code, fulfilment_id=fulfilment.pk)


@store_page
def pick(request, fulfilment_id: int):
    fulfilment = _fulfilment(request, fulfilment_id)
    return render(request, "orders/store/pick.html", _pick_context(request, fulfilment))


def _ensure_picking(request, fulfilment):
    if fulfilment.status == FulfilmentStatus.PENDING:
        start_picking(fulfilment_id=fulfilment.pk, actor=request.store.actor)
        fulfilment = _fulfilment(request, fulfilment.pk)
    return fulfilment


@store_page
@require_POST
def scan(request, fulfilment_id: int):
    """One scan (keystrokes + Enter from a handheld scanner, or typed): counts one unit of the
    matching line; a code that is not on this order, or one too many, is refused."""
    fulfilment = _fulfilment(request, fulfilment_id)
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _pick_response(request, fulfilment, notice=("error", "Scan or type a barcode."))
    if fulfilment.status not in queries.TO_PICK:
        return _pick_response(
            request, fulfilment, notice=("error", "This order is no longer being picked.")
        )
    code = form.cleaned_data["code"]
    state = _pick_state(request, fulfilment.pk)
    lines = queries.pick_lines(fulfilment, scanned=state["scanned"], missing=state["missing"])
    line = next((x for x in lines if x.barcode and x.barcode == code), None) or next(
        (x for x in lines if x.sku.casefold() == code.casefold()), None
    )
    if line is None:
        return _pick_response(
            request,
            fulfilment,
            notice=("error", f"Wrong item: {code} is not on order {fulfilment.order.number}."),
        )
    if line.done:
        what = "marked not found" if line.missing else f"all {line.quantity} scanned"
        return _pick_response(
            request, fulfilment, notice=("error", f"Too many: {line.name} ({line.sku}) is {what}.")
        )
    try:
        fulfilment = _ensure_picking(request, fulfilment)
    except DomainError as exc:
        return _pick_response(request, fulfilment, notice=("error", exc.detail))
    state["scanned"][line.sku] = line.scanned + 1
    _save_pick_state(request, fulfilment.pk, state)
    left = line.quantity - line.scanned - 1
    text = f"{line.name} ({line.sku}): {line.scanned + 1} of {line.quantity}" + (
        " — line done." if left == 0 else f", {left} to go."
    )
    return _pick_response(request, fulfilment, notice=("success", text))


@store_page
@require_POST
def not_found(request, fulfilment_id: int):
    """ "Can't find": the rest of a line is missing. It is recorded as a short pick when the
    pick is finished (the orders policy then cancels and refunds those units)."""
    fulfilment = _fulfilment(request, fulfilment_id)
    form = MissingForm(request.POST)
    state = _pick_state(request, fulfilment.pk)
    lines = {line.sku: line for line in queries.pick_lines(fulfilment, **state)}
    if not form.is_valid() or form.cleaned_data["sku"] not in lines:
        return _pick_response(request, fulfilment, notice=("error", "No such line."))
    if fulfilment.status not in queries.TO_PICK:
        return _pick_response(
            request, fulfilment, notice=("error", "This order is no longer being picked.")
        )
    line = lines[form.cleaned_data["sku"]]
    undo = request.POST.get("undo") == "1"
    if undo:
        state["missing"] = [sku for sku in state["missing"] if sku != line.sku]
        text = f"{line.name} ({line.sku}): back to picking."
    else:
        state["missing"] = sorted({*state["missing"], line.sku})
        missing = line.quantity - line.scanned
        text = (
            f"{line.name} ({line.sku}): {missing} not found; it will be refunded to the customer."
        )
    _save_pick_state(request, fulfilment.pk, state)
    return _pick_response(request, fulfilment, notice=("warning" if not undo else "info", text))


@store_page
@require_POST
def finish(request, fulfilment_id: int):
    """ "Ready for pickup": record what was found (units not found take the short-pick path),
    then put the order on the shelf, which tells the customer."""
    fulfilment = _fulfilment(request, fulfilment_id)
    code = request.store.location.code
    context = _pick_context(request, fulfilment)
    if not context["recorded"]:
        if not context["pickable"]:
            messages.error(request, "This order is no longer being picked.")
            return redirect("store:pick", code=code, fulfilment_id=fulfilment.pk)
        if not context["all_done"]:
            messages.error(request, "Scan every item, or mark what you cannot find, first.")
            return redirect("store:pick", code=code, fulfilment_id=fulfilment.pk)
        try:
            result = record_pick(
                fulfilment_id=fulfilment.pk,
                lines=[PickedLine(line.sku, line.scanned) for line in context["lines"]],
                actor=request.store.actor,
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
            return redirect("store:pick", code=code, fulfilment_id=fulfilment.pk)
        _save_pick_state(request, fulfilment.pk, None)
        if result.short is not None and result.short.fulfilment_cancelled:
            messages.warning(
                request,
                f"Nothing was found for order {fulfilment.order.number}: it is cancelled "
                "here and the customer is refunded.",
            )
            return redirect("store:queue", code=code)
        if result.short is not None:
            messages.warning(
                request,
                f"{context['missing_units']} unit(s) not found were cancelled and refunded.",
            )
    try:
        mark_ready(fulfilment_id=fulfilment.pk, actor=request.store.actor)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("store:pick", code=code, fulfilment_id=fulfilment.pk)
    messages.success(
        request,
        f"Order {fulfilment.order.number} is ready for pickup; the customer has been told.",
    )
    return redirect("store:queue", code=code)


# --- Ready shelf --------------------------------------------------------------------------


@store_page
def shelf(request):
    rows = queries.ready_shelf(request.store.principal, now=timezone.now())
    return render(request, "orders/store/shelf.html", {"rows": rows, "tab": "shelf"})


@store_page
@require_POST
def resend(request, fulfilment_id: int):
    fulfilment = _fulfilment(request, fulfilment_id)
    try:
        sent = resend_ready_notification(fulfilment=fulfilment, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        if sent:
            messages.success(
                request, f"Order {fulfilment.order.number}: the customer is told again."
            )
        elif fulfilment.order.email:
            messages.info(request, f"Order {fulfilment.order.number} was announced a moment ago.")
        else:
            messages.error(request, f"Order {fulfilment.order.number} has no email address.")
    return redirect("store:shelf", code=request.store.location.code)


# --- Handover -----------------------------------------------------------------------------


@store_page
def handover(request):
    form = SearchForm(request.GET or None)
    rows = None
    if form.is_valid() and form.cleaned_data["q"]:
        rows = queries.ready_shelf(
            request.store.principal, now=timezone.now(), search=form.cleaned_data["q"]
        )
    return render(
        request, "orders/store/handover.html", {"form": form, "rows": rows, "tab": "handover"}
    )


@store_page
def handover_order(request, fulfilment_id: int):
    """The customer's order and the pickup code they show; a right code hands it over."""
    fulfilment = _fulfilment(request, fulfilment_id)
    status = 200
    form = PickupCodeForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                collect(
                    fulfilment_id=fulfilment.pk,
                    pickup_code=form.cleaned_data["pickup_code"],
                    actor=request.store.actor,
                )
            except DomainError as exc:
                messages.error(request, exc.detail)
                status = exc.status
                form = PickupCodeForm()
            else:
                points = queries.points_earned(fulfilment)
                text = f"Handed over: order {fulfilment.order.number} is collected."
                if points:
                    text += f" The customer earned {points} points."
                messages.success(request, text)
                return redirect(
                    "store:handover_order",
                    code=request.store.location.code,
                    fulfilment_id=fulfilment.pk,
                )
    fulfilment = _fulfilment(request, fulfilment_id)
    context = {
        "fulfilment": fulfilment,
        "order": fulfilment.order,
        "row": queries.shelf_row(fulfilment, now=timezone.now()),
        "lines": queries.pick_lines(fulfilment, scanned={}, missing=[]),
        "form": form,
        "tab": "handover",
    }
    return render(request, "orders/store/handover_order.html", context, status=status)
