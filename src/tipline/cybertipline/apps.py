from django.apps import AppConfig


class CybertiplineConfig(AppConfig):
    name = "tipline.cybertipline"
    label = "cybertipline"
    default_auto_field = "django.db.models.BigAutoField"
