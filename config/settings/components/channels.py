"""Channel layer: Redis when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY."""

from config.env import database_url, env, redis_url


def channel_layers_for(redis: str, database: str) -> dict:
    """The CHANNEL_LAYERS setting for a Redis URL ("" for none) and a database URL."""
    if redis:
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    # redis-py's pool refuses a 101st simultaneous connection;
                    # a burst of websocket connects (each joins a group) needs
                    # more than that. redis-py 8 also gives up reading after
                    # 5 s by default, the very time channels_redis blocks
                    # waiting for messages: an idle websocket would die after
                    # 5 s of silence, losing what was sent while it reconnects.
                    "hosts": [
                        {
                            "address": redis,
                            "max_connections": 1000,
                            "socket_timeout": 30,
                        }
                    ],
                    "capacity": 1000,
                    "expiry": 60,
                },
            }
        }
    return {
        "default": {
            "BACKEND": "config.channel_layer.PostgresChannelLayer",
            # channels_postgres builds a Django DatabaseWrapper from this dict,
            # which needs the keys Django normally fills in itself.
            "CONFIG": {
                **env.db_url_config(database),
                "TIME_ZONE": None,
                "expiry": 60,
            },
        }
    }


CHANNEL_LAYERS = channel_layers_for(redis_url(), database_url())
