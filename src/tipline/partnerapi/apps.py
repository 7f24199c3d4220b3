from django.apps import AppConfig


class PartnerApiConfig(AppConfig):
    name = "tipline.partnerapi"
    label = "partnerapi"
    default_auto_field = "django.db.models.BigAutoField"
