from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from inventory.signals import stock_shortfall
        from orders import receivers, tasks_fulfilment  # noqa: F401  (registers the tasks)

        stock_shortfall.connect(
            receivers.repair_orders_after_shortfall, dispatch_uid="orders.repair_shortfall"
        )
