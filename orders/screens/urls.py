from django.urls import path

from orders.screens import views

app_name = "store"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("<str:code>/", views.queue, name="queue"),
    path("<str:code>/pick/<int:fulfilment_id>/", views.pick, name="pick"),
    path("<str:code>/pick/<int:fulfilment_id>/scan/", views.scan, name="scan"),
    path("<str:code>/pick/<int:fulfilment_id>/not-found/", views.not_found, name="not_found"),
    path("<str:code>/pick/<int:fulfilment_id>/ready/", views.finish, name="finish"),
    path("<str:code>/shelf/", views.shelf, name="shelf"),
    path("<str:code>/shelf/<int:fulfilment_id>/resend/", views.resend, name="resend"),
    path("<str:code>/handover/", views.handover, name="handover"),
    path("<str:code>/handover/<int:fulfilment_id>/", views.handover_order, name="handover_order"),
]
