from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """One person across the connected LMSs: learner records matched by e-mail, or by hand.

    The matching is kept as ``Person`` rows, rebuilt after each users sync
    (``lms_cache.signals.users_merged``) and after each link or unlink an admin makes.
    """

    name = "people"

    def ready(self) -> None:
        from lms_cache import signals

        signals.users_merged.connect(_rematch_after_sync, dispatch_uid="people.rematch")


def _rematch_after_sync(**kwargs) -> None:
    from people.services import people_rematch

    people_rematch()
