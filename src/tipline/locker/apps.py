from django.apps import AppConfig


class LockerConfig(AppConfig):
    name = "tipline.locker"
    label = "locker"
