from django.apps import AppConfig


class OutputsConfig(AppConfig):
    name = "tipline.outputs"
    label = "outputs"
    default_auto_field = "django.db.models.BigAutoField"
