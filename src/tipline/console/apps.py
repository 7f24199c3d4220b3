from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "tipline.console"
    label = "console"
