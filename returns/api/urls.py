from django.urls import path

from returns.api import views

NUMBER = "<str:number>"

urlpatterns = [
    path("returns/", views.ReturnListView.as_view(), name="return-list"),
    path(f"returns/{NUMBER}/", views.ReturnDetailView.as_view(), name="return-detail"),
    path(f"returns/{NUMBER}/cancel/", views.ReturnCancelView.as_view(), name="return-cancel"),
    path(f"returns/{NUMBER}/receive/", views.ReturnReceiveView.as_view(), name="return-receive"),
    path(f"returns/{NUMBER}/slip/", views.ReturnSlipView.as_view(), name="return-slip"),
    path(f"returns/{NUMBER}/slip/pdf/", views.ReturnSlipPdfView.as_view(), name="return-slip-pdf"),
]
