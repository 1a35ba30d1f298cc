from django.urls import path

from orders.api import fulfilment_views as views

ID = "<int:fulfilment_id>"

urlpatterns = [
    path("fulfilments/", views.FulfilmentListView.as_view(), name="fulfilment-list"),
    path(f"fulfilments/{ID}/", views.FulfilmentDetailView.as_view(), name="fulfilment-detail"),
    path(f"fulfilments/{ID}/pick/", views.FulfilmentPickView.as_view(), name="fulfilment-pick"),
    path(f"fulfilments/{ID}/ready/", views.FulfilmentReadyView.as_view(), name="fulfilment-ready"),
    path(
        f"fulfilments/{ID}/collect/",
        views.FulfilmentCollectView.as_view(),
        name="fulfilment-collect",
    ),
    path(f"fulfilments/{ID}/ship/", views.FulfilmentShipView.as_view(), name="fulfilment-ship"),
]
