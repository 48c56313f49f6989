from django.urls import path

from reports.views import scopes

urlpatterns = [
    path("", scopes.manager_list_view, name="manager-list"),
    path("<int:pk>/scope/", scopes.manager_scope_edit, name="managerscope-edit"),
]
