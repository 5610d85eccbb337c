"""A query's SQL built by the ORM once per process, run with each call's
values.

On the hot paths of the community pages the ORM spent more CPU building and
compiling a query (filters, joins, the select list) than PostgreSQL spent
running it. A query whose shape never changes, only its values, is built
once with a stand-in value for each argument; each call swaps its own values
in for the stand-ins among the compiled parameters and runs the SQL.

    owner_agents = CompiledQuery(
        lambda owner_id: Agent.objects.filter(owner_id=owner_id).values_list("pk"),
        owner_id=-7_301,  # a stand-in of the argument's type, seen nowhere else
    )
    owner_agents.rows(owner_id=person.pk)

A stand-in must be of the type the ORM expects for the argument (a string
for text, an int for a key) and must come out of compilation unchanged, once
at least (checked when the SQL is built): an argument the ORM transforms (a
``__contains`` list, a search) does not belong here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection
from django.db.models import QuerySet


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet], **stand_ins) -> None:
        self.build = build
        self.stand_ins = stand_ins
        self._compiled: tuple[str, list, list] | None = None
        self._lock = threading.Lock()

    def compiled(self) -> tuple[str, list, list]:
        """(sql, params, converters): each parameter either a constant or
        the argument whose stand-in it was; the converters the ORM applies
        to the columns it reads (a JSON field's decoding, say), as
        (position, functions, expression)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def _compile(self) -> tuple[str, list, list]:
        compiler = self.build(**self.stand_ins).query.get_compiler(connection.alias)
        sql, params = compiler.as_sql()
        selected = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = [
            (position, functions, expression)
            for position, (functions, expression) in compiler.get_converters(
                selected
            ).items()
        ]
        by_value = {value: name for name, value in self.stand_ins.items()}
        slots = [
            _Argument(by_value[param])
            if isinstance(param, (str, int)) and param in by_value
            else param
            for param in params
        ]
        used = {slot.name for slot in slots if isinstance(slot, _Argument)}
        if used != set(self.stand_ins):
            missing = ", ".join(sorted(set(self.stand_ins) - used))
            message = f"the compiled query does not take {missing} as a parameter"
            raise ValueError(message)
        return sql, slots, converters

    def rows(self, **values) -> list[tuple]:
        if set(values) != set(self.stand_ins):
            message = f"expected {sorted(self.stand_ins)}, got {sorted(values)}"
            raise TypeError(message)
        sql, slots, converters = self.compiled()
        params = [
            values[slot.name] if isinstance(slot, _Argument) else slot for slot in slots
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            cells = list(row)
            for position, functions, expression in converters:
                value = cells[position]
                for function in functions:
                    value = function(value, expression, connection)
                cells[position] = value
            converted.append(tuple(cells))
        return converted


class RelatedColumns:
    """The columns select_related(*paths) would read, as names for
    values_list, and the instances made back from a row of them, each
    relation set on its parent as select_related sets it (a relation whose
    row is missing, as None).

        columns = RelatedColumns(Agent, "owner", "forked_from__owner")
        query = CompiledQuery(
            lambda pk: Agent.objects.filter(pk=pk).values_list(*columns.names),
            pk=-7_301,
        )
        agent = columns.instance(query.rows(pk=5)[0])
    """

    def __init__(self, model, *paths: str) -> None:
        models = [("", model)]
        for path in paths:
            related = model
            for name in path.split("__"):
                related = related._meta.get_field(name).related_model
            models.append((path, related))
        # Each part: its path, model, columns and where its primary key is.
        self.parts: list[tuple[str, type, list[str], int]] = []
        for path, part_model in models:
            columns = _columns(part_model)
            pk_at = columns.index(part_model._meta.pk.attname)
            self.parts.append((path, part_model, columns, pk_at))
        self.names = [
            f"{path}__{column}" if path else column
            for path, _model, columns, _pk_at in self.parts
            for column in columns
        ]

    def instance(self, row: tuple):
        made: dict[str, object] = {}
        start = 0
        for path, model, columns, pk_at in self.parts:
            values = row[start : start + len(columns)]
            start += len(columns)
            made[path] = (
                None
                if values[pk_at] is None
                else model.from_db(connection.alias, columns, values)
            )
            if path:
                parent_path, _, name = path.rpartition("__")
                parent = made[parent_path]
                if parent is not None:
                    parent._state.fields_cache[name] = made[path]
        return made[""]


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


class _Argument:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
