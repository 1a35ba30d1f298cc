from rest_framework.routers import DefaultRouter

from inventory.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")
router.register("skus", views.SKUViewSet, basename="sku")
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("locations", views.LocationViewSet, basename="location")

urlpatterns = router.urls
