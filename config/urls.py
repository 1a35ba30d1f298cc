from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api.health import healthz
from config.api.login_throttle import AdminLoginForm, admin_login

api_v1 = [
    path("", include("inventory.api.urls")),
    path("", include("loyalty.api.urls")),
    path("", include("pricing.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("returns.api.urls")),
]

# Failed sign-ins are throttled at the admin's door too (config/api/login_throttle.py).
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("admin/login/", admin_login),  # before admin.site.urls, which has its own
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("store/", include("orders.screens.urls")),
]

handler400 = "config.api.handlers.bad_request"
handler403 = "config.api.handlers.permission_denied"
handler404 = "config.api.handlers.page_not_found"
handler500 = "config.api.handlers.server_error"
