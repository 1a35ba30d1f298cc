from rest_framework.throttling import SimpleRateThrottle

from config.api.roles import Principal


class CallerRateThrottle(SimpleRateThrottle):
    """One bucket per API client (``client`` rate) or per anonymous IP (``anonymous`` rate).

    Buckets live in the default cache: set ``CACHE_URL`` to Redis when several web
    processes serve, so that they share them.
    """

    def get_rate(self):
        return None  # chosen per request in allow_request

    def allow_request(self, request, view):
        principal = request.user
        self.scope = "client" if isinstance(principal, Principal) else "anonymous"
        self.rate = self.THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        principal = request.user
        ident = principal.ident if isinstance(principal, Principal) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
