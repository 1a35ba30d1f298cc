from django.urls import path
from rest_framework.routers import DefaultRouter

from pricing.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("price-lists", views.PriceListViewSet, basename="price-list")
router.register("promotions", views.PromotionViewSet, basename="promotion")

urlpatterns = [
    *router.urls,
    path("pricing/quote/", views.QuoteView.as_view(), name="pricing-quote"),
]
