from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lms_admin import views
from lms_admin.favicon import favicon
from lms_admin.roles import authenticated, public

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", public(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", authenticated(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "accounts/password/",
        authenticated(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        authenticated(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("system/", views.system_status, name="system-status"),
    path("system/worker-pings/", views.worker_ping_create, name="workerping-create"),
    path("system/worker-pings/<int:pk>/", views.worker_ping_detail, name="workerping-detail"),
    path("", include("integrations.urls")),
    path("reports/", include("reports.urls")),
    path("moves/", include("moves.urls")),
    path("managers/", include("reports.urls_managers")),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
