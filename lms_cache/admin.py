"""The cache in Django's admin (superusers): read-only, for looking at what a sync brought.

Rows are written by syncs only (integrations.sync); editing one here would be overwritten, or
worse, hide a difference the reconciliation should show.
"""

from __future__ import annotations

from django.contrib import admin

from lms_cache import models


class ReadOnlyAdmin(admin.ModelAdmin):
    list_select_related = ("connection",)
    list_filter = ("connection",)
    show_full_result_count = False  # COUNT(*) over a million attempts on every page is not free

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.LmsGroup)
class LmsGroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "remote_id", "connection", "gone_at")
    search_fields = ("name", "remote_id")


@admin.register(models.LmsUser)
class LmsUserAdmin(ReadOnlyAdmin):
    list_display = ("remote_id", "first_name", "last_name", "mail", "status", "connection", "gone_at")
    search_fields = ("remote_id", "mail", "last_name")


@admin.register(models.Course)
class CourseAdmin(ReadOnlyAdmin):
    list_display = ("name", "remote_id", "external_id", "status", "type", "lang", "connection", "gone_at")
    list_filter = ("connection", "status", "type")
    search_fields = ("name", "remote_id", "external_id")


@admin.register(models.Path)
class PathAdmin(ReadOnlyAdmin):
    list_display = ("name", "remote_id", "status", "connection", "gone_at")
    search_fields = ("name", "remote_id")


@admin.register(models.PathSession)
class PathSessionAdmin(ReadOnlyAdmin):
    list_display = ("name", "remote_id", "start_date", "end_date", "enrolled_count", "stats_synced_at", "gone_at")
    search_fields = ("name", "remote_id")


@admin.register(models.PathSessionUserStat)
class PathSessionUserStatAdmin(ReadOnlyAdmin):
    list_display = ("user_remote_id", "last_name", "session_remote_id", "status_type", "status_reason", "progress")
    list_filter = ("connection", "status_type", "status_reason", "has_v1")
    search_fields = ("user_remote_id", "mail", "last_name", "session_remote_id")


@admin.register(models.CourseAttempt)
class CourseAttemptAdmin(ReadOnlyAdmin):
    list_display = ("remote_id", "course_remote_id", "user_remote_id", "progress", "score", "completed_at")
    search_fields = ("remote_id", "course_remote_id", "user_remote_id")


@admin.register(models.ModuleResult)
class ModuleResultAdmin(ReadOnlyAdmin):
    list_display = ("module_title", "user_id", "completion_status", "completion_date", "connection")
    list_filter = ("connection", "completion_status", "user_status")
    search_fields = ("user_id", "module_id", "course_id")


@admin.register(models.PathSessionSnapshot)
class PathSessionSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("session", "taken_at", "enrolled", "certificates", "sync_run")
    list_select_related = ("connection", "session")
