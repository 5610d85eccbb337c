from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("credits/", views.credits_page, name="credits"),
]
