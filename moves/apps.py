from django.apps import AppConfig


class MovesConfig(AppConfig):
    """Moving an LMS's learning history into 360Learning (iSpring Learn's, for now).

    A move runs through the import machinery (two imports: courses, then statistics); it goes on
    after each import ends (``integrations.signals.import_run_finished``) and, should that signal
    be lost with its process, on the minute schedule ``advance-history-moves``.
    """

    name = "moves"
    verbose_name = "Moving learning history into 360Learning"

    def ready(self) -> None:
        from integrations import signals

        signals.import_run_finished.connect(_advance_after_run, dispatch_uid="moves.advance")


def _advance_after_run(*, run_id: int, **kwargs) -> None:
    from moves.tasks import move_advance_enqueue_for_run

    move_advance_enqueue_for_run(run_id)
