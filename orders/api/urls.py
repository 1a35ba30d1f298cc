from django.urls import include, path

from orders.api import views

NUMBER = "<str:number>"

urlpatterns = [
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path(f"orders/{NUMBER}/", views.OrderDetailView.as_view(), name="order-detail"),
    path(f"orders/{NUMBER}/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path(f"orders/{NUMBER}/events/", views.OrderEventsView.as_view(), name="order-events"),
    path("routing/plan/", views.RoutingPlanView.as_view(), name="routing-plan"),
    path("", include("orders.api.fulfilment_urls")),  # fulfilment work (pick, ready, hand-over)
    path("", include("orders.api.cart_urls")),  # carts
    path("", include("orders.api.pos_urls")),  # POS sales and receipts
]
