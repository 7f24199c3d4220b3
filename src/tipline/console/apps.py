from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "tipline.console"
    label = "console"

    def ready(self) -> None:
        # A malformed reply template file must stop the platform at start, not a reply later.
        from tipline.console import replies

        replies.load()
