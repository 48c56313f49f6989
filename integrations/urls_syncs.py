"""Sync screens' URLs (kept apart from integrations/urls.py so the sync work can grow on its own)."""

from __future__ import annotations

from django.urls import path

from integrations.views import syncs

urlpatterns = [
    path("syncs/", syncs.sync_run_list, name="syncrun-list"),
    path("syncs/<int:pk>/", syncs.sync_run_detail, name="syncrun-detail"),
    path("connections/<int:pk>/syncs/", syncs.connection_syncs, name="connection-syncs"),
    path("connections/<int:pk>/syncs/new/", syncs.sync_run_create, name="syncrun-create"),
    path("connections/<int:pk>/syncs/schedules/", syncs.sync_schedule_update, name="syncschedule-update"),
]
