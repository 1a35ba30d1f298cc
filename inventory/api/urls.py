from django.urls import path
from rest_framework.routers import DefaultRouter

from inventory.api import stock_views, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")
router.register("skus", views.SKUViewSet, basename="sku")
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("locations", views.LocationViewSet, basename="location")
router.register("stock/transfers", stock_views.TransferViewSet, basename="transfer")
router.register("reservations", stock_views.ReservationViewSet, basename="reservation")

urlpatterns = [
    path("stock/", stock_views.StockLevelListView.as_view(), name="stock-level-list"),
    path("stock/levels/", stock_views.StockLevelUpdateView.as_view(), name="stock-level-update"),
    path(
        "stock/movements/", stock_views.MovementListCreateView.as_view(), name="stock-movement-list"
    ),
    path("availability/", stock_views.AvailabilityView.as_view(), name="availability"),
    *router.urls,
]
