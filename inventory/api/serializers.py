from rest_framework import serializers

from inventory.models import SKU, Category, Channel, Location, Product


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Category
        fields = ["code", "name", "parent"]


class CategoryUpdateSerializer(CategorySerializer):
    class Meta(CategorySerializer.Meta):
        read_only_fields = ["code"]


class SKUInSerializer(serializers.Serializer):
    sku = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    barcode = serializers.CharField(
        max_length=64, allow_null=True, allow_blank=True, required=False
    )
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    attributes = serializers.DictField(child=serializers.CharField(max_length=100), required=False)
    active = serializers.BooleanField(required=False)


class SKUSerializer(serializers.ModelSerializer):
    class Meta:
        model = SKU
        fields = ["sku", "barcode", "name", "attributes", "active"]


class SKUDetailSerializer(SKUSerializer):
    product = serializers.IntegerField(source="product_id", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    category = serializers.CharField(source="product.category.code", read_only=True)

    class Meta(SKUSerializer.Meta):
        fields = [*SKUSerializer.Meta.fields, "product", "product_name", "category"]


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    skus = SKUSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "category", "active", "skus"]


class ProductInSerializer(serializers.ModelSerializer):
    """Product fields plus SKUs, validated as a whole: codes and barcodes unique in the body
    and not taken by another product."""

    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    skus = SKUInSerializer(many=True, required=False)

    class Meta:
        model = Product
        fields = ["name", "description", "category", "active", "skus"]

    def validate_skus(self, skus):
        product = self.instance
        seen_codes: set[str] = set()
        seen_barcodes: set[str] = set()
        errors = []
        for item in skus:
            error = {}
            if item["sku"] in seen_codes:
                error["sku"] = ["Listed twice in this request."]
            barcode = item.get("barcode") or None
            if barcode and barcode in seen_barcodes:
                error["barcode"] = ["Listed twice in this request."]
            taken = (
                SKU.objects.filter(barcode=barcode).exclude(sku=item["sku"]) if barcode else None
            )
            if taken is not None and taken.exists():
                error["barcode"] = ["Another SKU has this barcode."]
            owner = SKU.objects.filter(sku=item["sku"]).values_list("product_id", flat=True).first()
            if owner is not None and (product is None or owner != product.pk):
                error["sku"] = ["This SKU belongs to another product."]
            seen_codes.add(item["sku"])
            if barcode:
                seen_barcodes.add(barcode)
            errors.append(error)
        if any(errors):
            raise serializers.ValidationError(errors)
        return skus


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["code", "name", "currency", "prices_include_tax"]


class LocationSerializer(serializers.ModelSerializer):
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, coerce_to_string=False
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, coerce_to_string=False
    )
    distance_km = serializers.FloatField(read_only=True, required=False)

    class Meta:
        model = Location
        fields = [
            "code",
            "name",
            "type",
            "address",
            "latitude",
            "longitude",
            "timezone",
            "pickup_enabled",
            "ship_enabled",
            "priority",
            "daily_capacity",
            "handling_cost",
            "opening_hours",
            "active",
            "distance_km",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not hasattr(instance, "distance_km"):
            data.pop("distance_km", None)
        return data


class LocationUpdateSerializer(LocationSerializer):
    class Meta(LocationSerializer.Meta):
        read_only_fields = ["code"]
