"""Schemas: the variables and attributes queries read, with their types, and host functions.

    schema = Schema.default().extend({"custom": {"user": {"plan": {"enum": ["free", "pro"]}}}})
    schema.type_at("user", ["plan"]).describe()   # 'string (one of "free", "pro")'
"""

from __future__ import annotations

from segmentql.schema.functions import HostFunction, Parameter, host_function
from segmentql.schema.model import Schema
from segmentql.schema.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    NULL,
    NUMBER,
    STRING,
    TIME,
    AttributeSpec,
    Resolved,
    SchemaType,
    TypeKind,
    list_of,
    map_of,
    object_of,
    string,
)

__all__ = [
    "ANY", "BOOLEAN", "DATE", "DATETIME", "DECIMAL", "DURATION", "INTEGER", "NULL", "NUMBER",
    "STRING", "TIME", "AttributeSpec", "HostFunction", "Parameter", "Resolved", "Schema",
    "SchemaType", "TypeKind", "host_function", "list_of", "map_of", "object_of", "string",
]
