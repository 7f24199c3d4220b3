from django.apps import AppConfig


class IspwsConfig(AppConfig):
    name = "tipline.ispws"
    label = "ispws"
