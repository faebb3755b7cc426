from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "serviceloop.core"
    label = "core"
    verbose_name = "Serviceloop core"

    def ready(self) -> None:
        from serviceloop.core import housekeeping, schedules

        schedules.register("prune finished background work", 3600, housekeeping.prune_finished_work)
