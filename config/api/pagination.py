from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``{"count", "next", "previous", "results"}`` with ``?limit=&offset=``.

    DRF quietly serves the default page for ``?limit=abc`` or ``?offset=-3``; a client that
    asked for something else would never know. Here a limit that is not a whole number from 1
    (above ``max_limit`` is capped) or an offset that is not a whole number from 0 is a 400,
    and the schema says so."""

    default_limit = 50
    max_limit = 500

    def get_limit(self, request):
        limit = self._whole_number(request, self.limit_query_param, minimum=1)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request):
        offset = self._whole_number(request, self.offset_query_param, minimum=0)
        return 0 if offset is None else offset

    @staticmethod
    def _whole_number(request, name: str, *, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
            raise ValidationError({name: [f"Must be a whole number from {minimum}."]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        minimums = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            if parameter["name"] in minimums:
                parameter["schema"]["minimum"] = minimums[parameter["name"]]
        return parameters
