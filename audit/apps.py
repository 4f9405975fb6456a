from importlib import import_module

from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # Sign-ins, role changes and admin changes are told by Django's own signals; their
        # receivers need the models, so they are connected once the app registry is ready.
        import_module(f"{self.name}.receivers")
