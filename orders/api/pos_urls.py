from django.urls import path

from orders.api import pos_views as views

SALE = "pos/sales/<str:number>"

urlpatterns = [
    path("pos/sales/", views.PosSaleView.as_view(), name="pos-sale-list"),
    path(f"{SALE}/receipt/", views.ReceiptView.as_view(), name="pos-sale-receipt"),
    path(f"{SALE}/receipt/print/", views.ReceiptPrintView.as_view(), name="pos-sale-receipt-print"),
    path(f"{SALE}/receipt/email/", views.ReceiptEmailView.as_view(), name="pos-sale-receipt-email"),
]
