from django.urls import include, path

from integrations.views import audit, connections, imports, integrations, lists

urlpatterns = [
    path("connections/", lists.connection_list, name="connection-list"),
    path("connections/new/", connections.connection_create_view, name="connection-create"),
    path("connections/<int:pk>/", connections.connection_detail, name="connection-detail"),
    path("connections/<int:pk>/edit/", connections.connection_edit, name="connection-edit"),
    path("connections/<int:pk>/delete/", connections.connection_delete_view, name="connection-delete"),
    path("connections/<int:pk>/check/", connections.connection_check_view, name="connection-check"),
    path("connections/<int:pk>/integrations/new/", integrations.integration_create_view, name="integration-create"),
    path("connections/<int:pk>/integrations/pull/", integrations.integration_pull_view, name="integration-pull"),
    path("connections/<int:pk>/users/", integrations.tenant_user_search_view, name="tenant-user-search"),
    path("integrations/", lists.integration_list, name="integration-list"),
    path("integrations/<int:pk>/edit/", integrations.integration_edit, name="integration-edit"),
    path("integrations/<int:pk>/delete/", integrations.integration_delete_view, name="integration-delete"),
    path("imports/", imports.import_list, name="importrun-list"),
    path("imports/new/", imports.import_create, name="importrun-create"),
    path("imports/templates/<slug:kind>.<slug:fmt>", imports.import_template, name="importrun-template"),
    path("imports/<int:pk>/", imports.import_detail, name="importrun-detail"),
    path("imports/<int:pk>/mapping/", imports.import_mapping, name="importrun-mapping"),
    path("imports/<int:pk>/launch/", imports.import_launch, name="importrun-launch"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="importrun-cancel"),
    path("imports/<int:pk>/retry/", imports.import_retry, name="importrun-retry"),
    path("imports/<int:pk>/invalid-rows.csv", imports.import_invalid_csv, name="importrun-invalid-csv"),
    path("imports/<int:pk>/errors.csv", imports.import_errors_csv, name="importrun-errors-csv"),
    path("imports/<int:pk>/evidence.zip", imports.import_evidence_pack, name="importrun-evidence"),
    path("", include("integrations.urls_syncs")),
    path("audit/", audit.audit_list, name="audit-list"),
]
