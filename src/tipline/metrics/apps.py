from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "tipline.metrics"
    label = "metrics"
    default_auto_field = "django.db.models.BigAutoField"
