"""The test urlconf: the project's own URLs, plus the fake LMS under ``/fake-lms/``."""

from django.urls import path

from lms_admin.urls import urlpatterns as project_urlpatterns
from tests.providers.fake import lms

urlpatterns = [
    path("fake-lms/oauth/token", lms.token),
    path("fake-lms/courses", lms.courses),
    path("fake-lms/attempts", lms.attempts),
    *project_urlpatterns,
]
