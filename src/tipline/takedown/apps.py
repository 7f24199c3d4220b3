from django.apps import AppConfig


class TakedownConfig(AppConfig):
    name = "tipline.takedown"
    label = "takedown"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A later report of a tracked address or file re-opens its tracking (reappearance.py).
        from tipline.cases.linking import identifiers_recorded
        from tipline.takedown.tasks import on_identifiers_recorded

        identifiers_recorded.connect(on_identifiers_recorded, dispatch_uid="takedown.reappearance")
