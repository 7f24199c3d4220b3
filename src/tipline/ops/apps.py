from django.apps import AppConfig
from django.core import checks


class OpsConfig(AppConfig):
    """Operations: the `tipline` CLI subcommands (keys, serve…) and the start-up key check."""

    name = "tipline.ops"
    label = "ops"

    def ready(self) -> None:
        from tipline.ops.keycheck import key_files_check, storage_settings_check

        checks.register(key_files_check)
        checks.register(storage_settings_check)
