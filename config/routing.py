"""Websocket routes of every app, gathered in one list."""

from django.urls import path

from community.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/events/", UserEventsConsumer.as_asgi()),
]
