from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the `tipline` CLI subcommands (keys, serve…)."""

    name = "tipline.ops"
    label = "ops"
