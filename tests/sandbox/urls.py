"""Only the sandbox, mounted where lms_admin.urls mounts it: these tests need nothing else."""

from django.urls import include, path

urlpatterns = [path("sandbox/", include("sandbox.urls"))]
