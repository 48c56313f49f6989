from django.urls import path

from moves import views

urlpatterns = [
    path("", views.move_create, name="move-create"),
    path("<int:pk>/", views.move_detail, name="move-detail"),
    path("<int:pk>/launch/", views.move_launch, name="move-launch"),
]
