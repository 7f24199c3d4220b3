from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tipline.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A malformed workflow.toml or classification.toml must stop the platform at start, not
        # fail a decision later.
        from tipline.cases import classification_rules, workflow

        workflow.load()
        classification_rules.load()
