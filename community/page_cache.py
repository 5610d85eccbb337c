"""Fingerprints of what an agent's public page shows a visitor, so the page's
rendering can be kept under a key that changes whenever the page would.

Nothing here is invalidated by hand: every write that changes the page (a
rating, a review, a comment, a reaction, a fork, a shared run, a handoff
target renamed or unpublished, a moderator hiding someone) changes a value
read here, and a rendering cached under the old fingerprint is simply never
read again. One query over the agent's own rows (each subquery uses the
foreign key's index).
"""

from __future__ import annotations

import psycopg
from django.db import connection

from agents.models import Agent, Handoff, Run
from community.models import Rating, Reaction, User


def listing_fingerprint(*, agent: Agent) -> str:
    """Ratings (count, latest change, which are hidden, the raters' names),
    the agent's own reactions, its forks, the runs its owner shared and the
    agents it hands off to, as one string. The comments have their own
    (community.reviews.comment_threads_fingerprint); the agent's row is the
    caller's."""
    agents, users, ratings, reactions, runs, handoffs = (
        Agent._meta.db_table,
        User._meta.db_table,
        Rating._meta.db_table,
        Reaction._meta.db_table,
        Run._meta.db_table,
        Handoff._meta.db_table,
    )
    # An agent's listed state: what decides whether it is shown and how.
    listed = """concat_ws('|', a.id, a.name, a.slug, a.visibility, a.is_hidden,
        a.is_playground, a.updated_at, u.username, u.is_hidden, u.is_active)"""
    sql = f"""
        SELECT
          (SELECT concat_ws('/', COUNT(*), MAX(r.id), MAX(r.updated_at),
                  md5(COALESCE(string_agg(r.id::text, ',' ORDER BY r.id)
                      FILTER (WHERE r.is_hidden OR u.is_hidden), '')),
                  md5(COALESCE(string_agg(u.username, ',' ORDER BY r.id), '')))
           FROM {ratings} AS r JOIN {users} AS u ON u.id = r.user_id
           WHERE r.agent_id = %(agent)s),
          (SELECT concat_ws('/', COUNT(*), MAX(r.id))
           FROM {reactions} AS r WHERE r.agent_id = %(agent)s),
          (SELECT md5(COALESCE(string_agg({listed}, ',' ORDER BY a.id), ''))
           FROM {agents} AS a JOIN {users} AS u ON u.id = a.owner_id
           WHERE a.forked_from_id = %(agent)s),
          (SELECT md5(COALESCE(string_agg(concat_ws('|', run.id, run.status,
                      run.shared_at), ',' ORDER BY run.id), ''))
           FROM {runs} AS run
           WHERE run.agent_id = %(agent)s AND run.owner_id = %(owner)s
             AND run.shared_at IS NOT NULL),
          (SELECT md5(COALESCE(string_agg(concat_ws('|', h.id, h.position,
                      {listed}), ',' ORDER BY h.id), ''))
           FROM {handoffs} AS h JOIN {agents} AS a ON a.id = h.target_id
             JOIN {users} AS u ON u.id = a.owner_id
           WHERE h.agent_id = %(agent)s)
    """  # noqa: S608 (table names from the models; values are parameters)
    row = prepared_row(sql, {"agent": agent.pk, "owner": agent.owner_id})
    return "-".join(str(value) for value in row)


def prepared_row(sql: str, params) -> tuple:
    """The first row of ``sql``, run as a prepared statement on this
    connection. Django binds parameters on the client and turns psycopg's
    statement preparation off (for poolers in transaction mode, which this
    site does not use), so PostgreSQL plans every query it is sent; planning
    these fingerprints took far longer than running them (5.6 ms against
    0.3 ms for the one above). Prepared, a connection the pool keeps plans
    each once. Preparing stays off for every other query."""
    connection.ensure_connection()
    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
    try:
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone()
    finally:
        raw.prepare_threshold = threshold


# Not None (which psycopg reads as "never prepare") and never reached by
# counting: only ``prepare=True`` prepares.
PREPARE_ONLY_WHEN_ASKED = 2**31
