from django.apps import AppConfig


class GuidanceConfig(AppConfig):
    name = "tipline.guidance"
    label = "guidance"
