"""Finding published agents: the full-text index, and the trending score.

Both are kept on the agent row, so Discover sorts and searches with indexes
instead of aggregating on every view.
"""

from __future__ import annotations

import math

from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models import F, Func, TextField, Value

SEARCH_CONFIG = "english"

# Half-life of a run's, fork's or rating's weight in the trending score.
TRENDING_HALF_LIFE_DAYS = 3.0
TRENDING_WINDOW_DAYS = 30


def _search_vector():
    tags = Func(
        F("tags"), Value(" "), function="array_to_string", output_field=TextField()
    )
    return (
        SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector(tags, weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="B", config=SEARCH_CONFIG)
        + SearchVector("long_description", weight="C", config=SEARCH_CONFIG)
    )


def agent_search_index(*, agent_id: int) -> None:
    """Recompute one agent's search vector (after its text changed)."""
    from agents.models import Agent

    Agent.objects.filter(pk=agent_id).update(search_vector=_search_vector())


def agents_search_reindex() -> int:
    """Recompute every agent's search vector (after a bulk import)."""
    from agents.models import Agent

    return Agent.objects.update(search_vector=_search_vector())


def trending_refresh() -> int:
    """Recompute every published agent's trending score: recent runs, and
    forks (three times a run), each weighing less as it ages (half-life three
    days). Returns how many agents changed.

    One statement over the last 30 days of activity; run by beat.
    """
    decay = math.log(2) / (TRENDING_HALF_LIFE_DAYS * 86400)
    sql = """
        WITH activity AS (
            SELECT agent_id, SUM(EXP(-%(decay)s * EXTRACT(EPOCH FROM now() - created_at)))
                AS score
            FROM agents_run
            WHERE created_at > now() - make_interval(days => %(window)s)
            GROUP BY agent_id
            UNION ALL
            SELECT forked_from_id,
                3 * SUM(EXP(-%(decay)s * EXTRACT(EPOCH FROM now() - created_at)))
            FROM agents_agent
            WHERE forked_from_id IS NOT NULL
              AND created_at > now() - make_interval(days => %(window)s)
            GROUP BY forked_from_id
        ),
        totals AS (
            SELECT agent_id, SUM(score) AS score FROM activity GROUP BY agent_id
        )
        UPDATE agents_agent AS a
        SET trending_score = ROUND(COALESCE(t.score, 0)::numeric, 4)
        FROM agents_agent AS b
        LEFT JOIN totals AS t ON t.agent_id = b.id
        WHERE a.id = b.id
          AND a.visibility = 'public'
          AND a.trending_score IS DISTINCT FROM ROUND(COALESCE(t.score, 0)::numeric, 4)
    """  # noqa: E501
    with connection.cursor() as cursor:
        cursor.execute(sql, {"decay": decay, "window": TRENDING_WINDOW_DAYS})
        return cursor.rowcount
