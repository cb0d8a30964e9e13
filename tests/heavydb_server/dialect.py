"""The bits of HeavyDB's SQL dialect the test server understands, mapped to SQLite.

HeavyDB DDL carries column encodings (``TEXT ENCODING DICT(32)``), timestamp
precisions and a ``WITH (...)`` storage clause that SQLite cannot parse. The server
parses CREATE TABLE into ``ColumnDef`` rows (kept in a catalog table, because the
Thrift API reports HeavyDB types back to the client) and renders plain SQLite DDL.
Other statements pass through: the dashboard's queries are written to be portable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heavydb.common.ttypes import TDatumType, TEncodingType

# HeavyDB type name -> (Thrift datum type, SQLite column type).
_TYPES: dict[str, tuple[int, str]] = {
    "TINYINT": (TDatumType.TINYINT, "INTEGER"),
    "SMALLINT": (TDatumType.SMALLINT, "INTEGER"),
    "INT": (TDatumType.INT, "INTEGER"),
    "INTEGER": (TDatumType.INT, "INTEGER"),
    "BIGINT": (TDatumType.BIGINT, "INTEGER"),
    "BOOLEAN": (TDatumType.BOOL, "INTEGER"),
    "BOOL": (TDatumType.BOOL, "INTEGER"),
    "FLOAT": (TDatumType.FLOAT, "REAL"),
    "REAL": (TDatumType.FLOAT, "REAL"),
    "DOUBLE": (TDatumType.DOUBLE, "REAL"),
    "DECIMAL": (TDatumType.DOUBLE, "REAL"),
    "NUMERIC": (TDatumType.DOUBLE, "REAL"),
    "TEXT": (TDatumType.STR, "TEXT"),
    "VARCHAR": (TDatumType.STR, "TEXT"),
    "STRING": (TDatumType.STR, "TEXT"),
    "TIMESTAMP": (TDatumType.TIMESTAMP, "INTEGER"),
    "DATE": (TDatumType.DATE, "INTEGER"),
    "TIME": (TDatumType.TIME, "INTEGER"),
}

INTEGER_TYPES = frozenset(
    {
        TDatumType.TINYINT,
        TDatumType.SMALLINT,
        TDatumType.INT,
        TDatumType.BIGINT,
        TDatumType.BOOL,
        TDatumType.TIMESTAMP,
        TDatumType.DATE,
        TDatumType.TIME,
    }
)
REAL_TYPES = frozenset({TDatumType.FLOAT, TDatumType.DOUBLE, TDatumType.DECIMAL})

_IDENTIFIER = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)'
_CREATE_TABLE = re.compile(
    rf"^\s*CREATE\s+TABLE\s+(?P<if_not_exists>IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_IDENTIFIER})\s*\((?P<body>.*)\)\s*"
    r"(?:WITH\s*\((?P<options>[^)]*)\))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COLUMN = re.compile(
    rf"^\s*(?P<name>{_IDENTIFIER})\s+(?P<type>[A-Za-z]+)"
    r"\s*(?:\(\s*(?P<precision>\d+)\s*(?:,\s*(?P<scale>\d+)\s*)?\))?"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ENCODING = re.compile(
    r"ENCODING\s+(?P<encoding>[A-Za-z_]+)\s*(?:\(\s*(?P<size>\d+)\s*\))?",
    re.IGNORECASE,
)
_NOT_NULL = re.compile(r"\bNOT\s+NULL\b", re.IGNORECASE)
_TABLE_CONSTRAINT = re.compile(
    r"^\s*(SHARD\s+KEY|SHARED\s+DICTIONARY|PRIMARY\s+KEY)\b", re.IGNORECASE
)
_DROP_TABLE = re.compile(
    rf"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<name>{_IDENTIFIER})\s*;?\s*$",
    re.IGNORECASE,
)


_RESERVED_WORDS_TEXT = """
    ABS ALL ALLOCATE ALLOW ALTER AMMSC AND ANY ARE ARRAY AS ASC ASENSITIVE
    ASYMMETRIC AT ATOMIC AUTHORIZATION AVG BEGIN BETWEEN BIGINT BINARY BIT BLOB
    BOOLEAN BOTH BY CALL CALLED CARDINALITY CASCADED CASE CAST CEIL CEILING CHAR
    CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CLOB CLOSE COALESCE COLLATE
    COLLECT COLUMN COMMIT CONDITION CONNECT CONSTRAINT CONTINUE CONVERT COPY
    CORR CORRESPONDING COUNT COVAR_POP COVAR_SAMP CREATE CROSS CUBE CUME_DIST
    CURRENT CURRENT_CATALOG CURRENT_DATE CURRENT_DEFAULT_TRANSFORM_GROUP
    CURRENT_PATH CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP
    CURRENT_TRANSFORM_GROUP_FOR_TYPE CURRENT_USER CURSOR CYCLE DATABASE DATE
    DATETIME DATE_TRUNC DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DELETE
    DENSE_RANK DEREF DESC DESCRIBE DETERMINISTIC DISALLOW DISCONNECT DISTINCT
    DOUBLE DROP DYNAMIC EACH ELEMENT ELSE END END-EXEC ESCAPE EVERY EXCEPT EXEC
    EXECUTE EXISTS EXP EXPLAIN EXTEND EXTERNAL EXTRACT FALSE FETCH FILTER FIRST
    FIRST_VALUE FLOAT FLOOR FOR FOREIGN FOUND FREE FROM FULL FUNCTION FUSION GET
    GLOBAL GRANT GROUP GROUPING HAVING HOLD HOUR IDENTITY IF ILIKE IMPORT IN
    INDICATOR INNER INOUT INSENSITIVE INSERT INT INTEGER INTERSECT INTERSECTION
    INTERVAL INTO IS JOIN LANGUAGE LARGE LAST LAST_VALUE LATERAL LEADING LEFT
    LENGTH LIKE LIMIT LN LOCAL LOCALTIME LOCALTIMESTAMP LOWER MATCH MAX MEMBER
    MERGE METHOD MIN MINUTE MOD MODIFIES MODULE MONTH MULTISET NATIONAL NATURAL
    NCHAR NCLOB NEW NEXT NO NONE NORMALIZE NOT NOW NULL NULLIF NULLX NUMERIC
    OCTET_LENGTH OF OFFSET OLD ON ONLY OPEN OPTION OR ORDER OUT OUTER OVER
    OVERLAPS OVERLAY PARAMETER PARTITION PERCENTILE_CONT PERCENTILE_DISC
    PERCENT_RANK POSITION POWER PRECISION PREPARE PRIMARY PRIVILEGES PROCEDURE
    PUBLIC RANGE RANK READS REAL RECURSIVE REF REFERENCES REFERENCING REGR_AVGX
    REGR_AVGY REGR_COUNT REGR_INTERCEPT REGR_R2 REGR_SLOPE REGR_SXX REGR_SXY
    REGR_SYY RELEASE RENAME RESET RESULT RETURN RETURNS REVOKE RIGHT ROLE
    ROLLBACK ROLLUP ROW ROWID ROWS ROW_NUMBER SAVEPOINT SCHEMA SCOPE SCROLL
    SEARCH SECOND SELECT SENSITIVE SESSION_USER SET SHOW SIMILAR SMALLINT SOME
    SPECIFIC SPECIFICTYPE SQL SQLEXCEPTION SQLSTATE SQLWARNING SQRT START STATIC
    STDDEV_POP STDDEV_SAMP STREAM SUBMULTISET SUBSTRING SUM SYMMETRIC SYSTEM
    SYSTEM_USER TABLE TABLESAMPLE TEMPORARY TEXT THEN TIME TIMESTAMP
    TIMEZONE_HOUR TIMEZONE_MINUTE TINYINT TO TRAILING TRANSLATE TRANSLATION
    TREAT TRIGGER TRIM TRUE TRUNCATE UESCAPE UNION UNIQUE UNKNOWN UNNEST UPDATE
    UPPER UPSERT USER USING VALUE VALUES VARBINARY VARCHAR VARYING VAR_POP
    VAR_SAMP VIEW WHEN WHENEVER WHERE WIDTH_BUCKET WINDOW WITH WITHIN WITHOUT
    WORK YEAR
"""
RESERVED_WORDS = frozenset(_RESERVED_WORDS_TEXT.split())
"""Words HeavyDB's parser reserves (Calcite's reserved keywords plus HeavyDB's own,
as listed in its Parser/ReservedKeywords.h): unquoted, they cannot name a column or
a table, so the test server refuses them as HeavyDB does."""


class DialectError(ValueError):
    """A statement the test server cannot translate (reported as an SQL error)."""


@dataclass(frozen=True)
class ColumnDef:
    """One HeavyDB column as declared in CREATE TABLE."""

    name: str
    type_name: str
    datum_type: int
    sqlite_type: str
    encoding: int
    comp_param: int
    precision: int
    scale: int
    nullable: bool


@dataclass(frozen=True)
class CreateTable:
    """A parsed CREATE TABLE statement."""

    table: str
    if_not_exists: bool
    columns: tuple[ColumnDef, ...]

    def sqlite_ddl(self) -> str:
        """The same table as SQLite DDL."""
        columns = ", ".join(
            f'"{c.name}" {c.sqlite_type}{"" if c.nullable else " NOT NULL"}'
            for c in self.columns
        )
        guard = "IF NOT EXISTS " if self.if_not_exists else ""
        return f'CREATE TABLE {guard}"{self.table}" ({columns})'


def unquote(identifier: str) -> str:
    """An identifier without its double quotes."""
    if identifier.startswith('"') and identifier.endswith('"'):
        return identifier[1:-1]
    return identifier


def split_top_level(body: str) -> list[str]:
    """Split on commas that are not inside parentheses or quotes."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for char in body:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def _refuse_reserved(identifier: str, what: str) -> None:
    if not identifier.startswith('"') and identifier.upper() in RESERVED_WORDS:
        raise DialectError(
            f'Encountered "{identifier}": cannot name a {what} with the reserved '
            f"keyword {identifier.upper()}"
        )


def parse_column(text: str) -> ColumnDef:
    """Parse one column definition of a HeavyDB CREATE TABLE."""
    match = _COLUMN.match(text)
    if match is None:
        raise DialectError(f"cannot parse column definition: {text.strip()!r}")
    type_name = match["type"].upper()
    if type_name not in _TYPES:
        raise DialectError(f"unsupported HeavyDB type {type_name}")
    datum_type, sqlite_type = _TYPES[type_name]
    _refuse_reserved(match["name"], "column")
    rest = match["rest"]
    encoding = TEncodingType.NONE
    comp_param = 0
    encoding_match = _ENCODING.search(rest)
    if encoding_match is not None:
        encoding_name = encoding_match["encoding"].upper()
        if encoding_name not in TEncodingType._NAMES_TO_VALUES:
            raise DialectError(f"unknown encoding {encoding_name}")
        encoding = TEncodingType._NAMES_TO_VALUES[encoding_name]
        comp_param = int(encoding_match["size"] or 0)
    elif datum_type == TDatumType.STR:
        # HeavyDB dictionary-encodes TEXT unless told otherwise (32-bit ids).
        encoding, comp_param = TEncodingType.DICT, 32
    precision = int(match["precision"] or 0)
    if datum_type == TDatumType.TIMESTAMP and match["precision"] is None:
        precision = 0
    return ColumnDef(
        name=unquote(match["name"]),
        type_name=type_name,
        datum_type=datum_type,
        sqlite_type=sqlite_type,
        encoding=encoding,
        comp_param=comp_param,
        precision=precision,
        scale=int(match["scale"] or 0),
        nullable=_NOT_NULL.search(rest) is None,
    )


def parse_create_table(sql: str) -> CreateTable | None:
    """A parsed CREATE TABLE, or None when ``sql`` is another statement."""
    match = _CREATE_TABLE.match(sql)
    if match is None:
        return None
    _refuse_reserved(match["name"], "table")
    columns = tuple(
        parse_column(part)
        for part in split_top_level(match["body"])
        if not _TABLE_CONSTRAINT.match(part)
    )
    if not columns:
        raise DialectError("CREATE TABLE without columns")
    return CreateTable(
        table=unquote(match["name"]),
        if_not_exists=match["if_not_exists"] is not None,
        columns=columns,
    )


def parse_drop_table(sql: str) -> str | None:
    """The table a DROP TABLE statement drops, or None for other statements."""
    match = _DROP_TABLE.match(sql)
    return None if match is None else unquote(match["name"])


def is_query(sql: str) -> bool:
    """Whether the statement returns rows (SELECT or WITH ... SELECT)."""
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in {"SELECT", "WITH", "VALUES", "(SELECT"}


_SOURCE_ALIAS = re.compile(
    r"(?:\b(?:MIN|MAX)\s*\(\s*)?(?:\w+\.)?(?P<column>\w+)\s*\)?\s+AS\s+(?P<alias>\w+)",
    re.IGNORECASE,
)
_MIN_MAX = re.compile(
    r"\b(?P<function>MIN|MAX)\s*\(\s*(?:\w+\.)?(?P<column>\w+)\s*\)", re.IGNORECASE
)


def result_sources(sql: str) -> dict[str, str]:
    """Result column name (lower case) -> the table column it passes through.

    HeavyDB types a result column by its expression: ``MAX(unix_s)`` of a TIMESTAMP
    column is a TIMESTAMP, and pyheavydb turns it into a ``datetime``. SQLite keeps no
    such type, so the server finds plain columns, MIN() and MAX() in the select list
    (with or without an alias) and types them like their source column.
    """
    sources: dict[str, str] = {}
    for match in _MIN_MAX.finditer(sql):
        sources[match.group(0).lower()] = match["column"]
        sources[f"{match['function']}({match['column']})".lower()] = match["column"]
    for match in _SOURCE_ALIAS.finditer(sql):
        sources[match["alias"].lower()] = match["column"]
    return sources


_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_SQLITE_ONLY = re.compile(
    r"^\s*PRAGMA\b|\bsqlite_\w+|\browid\b|\boid\b|\b_rowid_\b"
    r"|\bINSERT\s+OR\b|\bON\s+CONFLICT\b|\bRETURNING\b|\bGLOB\b"
    r"|\b(?:IFNULL|PRINTF|STRFTIME|JULIANDAY|UNIXEPOCH|TYPEOF|ZEROBLOB|RANDOMBLOB)\s*\(",
    re.IGNORECASE,
)


def refuse_sqlite_only(sql: str) -> None:
    """Refuse SQL that SQLite runs but HeavyDB does not (PRAGMA, rowid, ...).

    The server executes on SQLite; without this a query that works only there would
    pass every HeavyDB test and fail on a real server.
    """
    match = _SQLITE_ONLY.search(_STRING_LITERAL.sub("''", sql))
    if match is not None:
        raise DialectError(
            f'Encountered "{match.group(0).strip()}": not HeavyDB SQL (SQLite only)'
        )
