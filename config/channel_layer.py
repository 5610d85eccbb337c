"""The channel layer for the no-services default: channels-postgres, whose
LISTEN/NOTIFY delivery works across processes (web and worker).

One change: upstream removes a channel from a group through Django's ORM on a
DATABASES alias named "channels_postgres", while every other operation uses the
layer's own connection pool. Here that one query also uses the pool, so the
layer needs no extra database alias (and tests need no extra test database).
"""

from channels_postgres import core, db
from psycopg import sql


class DatabaseLayer(db.DatabaseLayer):
    async def delete_channel_group(self, group_key: str, channel: str) -> None:
        statement = sql.SQL(
            "DELETE FROM {table} WHERE group_key=%s AND channel=%s"
        ).format(table=sql.Identifier(db.GROUP_CHANNEL_TABLE))
        pool = await self.get_db_pool(db_params=self.db_params)
        async with pool.connection() as connection:
            await connection.execute(statement, (group_key, channel))


class PostgresChannelLayer(core.PostgresChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.django_db = DatabaseLayer(
            self.django_db.psycopg_options, self.db_params, logger=core.logger
        )
