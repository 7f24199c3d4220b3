from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "tipline.exchange"
    label = "exchange"
    verbose_name = "Forwarding between hotlines"
    default_auto_field = "django.db.models.BigAutoField"
