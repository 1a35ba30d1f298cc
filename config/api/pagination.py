from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``{"count", "next", "previous", "results"}`` with ``?limit=&offset=``."""

    default_limit = 50
    max_limit = 500
