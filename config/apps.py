from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The wiring as an app, so that project-wide commands (``demo``) have a home."""

    name = "config"
    verbose_name = "Project"
