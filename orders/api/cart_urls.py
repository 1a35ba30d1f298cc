from django.urls import path

from orders.api import cart_views as views

CART = "carts/<str:id>"

urlpatterns = [
    path("carts/", views.CartListView.as_view(), name="cart-list"),
    path(f"{CART}/", views.CartDetailView.as_view(), name="cart-detail"),
    path(f"{CART}/lines/", views.CartLinesView.as_view(), name="cart-lines"),
    path(f"{CART}/lines/<str:sku>/", views.CartLineDetailView.as_view(), name="cart-line-detail"),
    path(f"{CART}/merge/", views.CartMergeView.as_view(), name="cart-merge"),
]
