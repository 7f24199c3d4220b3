from django.apps import AppConfig


class TakedownConfig(AppConfig):
    name = "tipline.takedown"
    label = "takedown"
    default_auto_field = "django.db.models.BigAutoField"
