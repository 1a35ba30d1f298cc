from django.urls import path

from loyalty.api import views

urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/me/", views.CustomerMeView.as_view(), name="customer-me"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path(
        "loyalty/accounts/<str:card_number>/",
        views.AccountView.as_view(),
        name="loyalty-account-detail",
    ),
    path(
        "loyalty/accounts/<str:card_number>/ledger/",
        views.LedgerView.as_view(),
        name="loyalty-account-ledger",
    ),
    path(
        "loyalty/accounts/<str:card_number>/adjustments/",
        views.AdjustmentView.as_view(),
        name="loyalty-account-adjustments",
    ),
]
