from django.urls import path, register_converter

from reports.views import courses, digests, exports, index, learners, module_results, path_sessions
from reports.views.converters import ExportFormatConverter

register_converter(ExportFormatConverter, "export")

urlpatterns = [
    path("", index.report_index, name="report-index"),
    # Sessions overview, and one path session's report.
    path("path-sessions/", path_sessions.pathsession_list, name="pathsession-list"),
    path("path-sessions/export.<export:file_format>", path_sessions.pathsession_export, name="pathsession-export"),
    path("path-sessions/<int:pk>/", path_sessions.pathsession_detail, name="pathsession-detail"),
    path(
        "path-sessions/<int:pk>/learners.<export:file_format>",
        path_sessions.pathsession_learner_export,
        name="pathsession-learner-export",
    ),
    path(
        "path-sessions/<int:pk>/statuses.<export:file_format>",
        path_sessions.pathsession_breakdown_export,
        name="pathsession-breakdown-export",
    ),
    path(
        "path-sessions/<int:pk>/trend.<export:file_format>",
        path_sessions.pathsession_trend_export,
        name="pathsession-trend-export",
    ),
    # Course statistics and attempts.
    path("courses/", courses.course_stats, name="course-stats"),
    path("courses/export.<export:file_format>", courses.course_stats_export, name="course-stats-export"),
    path("attempts/", courses.attempt_list, name="attempt-list"),
    path("attempts/export.<export:file_format>", courses.attempt_export, name="attempt-export"),
    # iSpring module results.
    path("module-results/", module_results.module_results, name="module-results"),
    path(
        "module-results/export.<export:file_format>",
        module_results.module_results_export,
        name="module-results-export",
    ),
    path(
        "module-results/rows.<export:file_format>",
        module_results.module_result_rows_export,
        name="module-result-rows-export",
    ),
    # Learners: people across connections, one person's page, linking records by hand (admins).
    path("learners/", learners.learner_list_view, name="learner-list"),
    path("learners/export.<export:file_format>", learners.learner_export, name="learner-export"),
    path("learners/<int:pk>/", learners.learner_detail, name="learner-detail"),
    path("learners/<int:pk>/link/", learners.learner_link, name="learner-link"),
    path("learners/<int:pk>/separate/", learners.learner_separate, name="learner-separate"),
    path("learners/<int:pk>/undo/", learners.learner_link_undo, name="learner-link-undo"),
    # Background exports: the reader's own only.
    path("exports/", exports.report_export_list, name="report-export-list"),
    path("exports/<int:pk>/", exports.report_export_detail, name="report-export-detail"),
    path("exports/<int:pk>/download/", exports.report_export_download, name="report-export-download"),
    # E-mail digests.
    path("digests/", digests.digest_list, name="digest-list"),
    path("digests/new/", digests.digest_create, name="digest-create"),
    path("digests/<int:pk>/edit/", digests.digest_edit, name="digest-edit"),
    path("digests/<int:pk>/delete/", digests.digest_delete, name="digest-delete"),
    path("digests/unsubscribe/<str:token>/", digests.digest_unsubscribe, name="digest-unsubscribe"),
]
