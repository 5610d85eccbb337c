"""Websocket routes of every app, gathered in one list."""

from django.urls import path

from agents.consumers import RunConsumer
from community.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/events/", UserEventsConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi()),
]
