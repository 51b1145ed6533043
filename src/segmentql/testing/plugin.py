"""The segmentql pytest plugin (entry point `pytest11: segmentql`).

- Collects audience test files `test_*.audience.yaml` (`.yml`, `.json`): each case is a test
  item; a failure shows the query, the clause that decided the result and the values read, and
  points at the case's line. A malformed file is a collection error with file:line.
- Fixtures: `audience_schema` (the `--audience-schema` file, else the project
  configuration's `schema`, else the default catalog; override it in a conftest) and
  `evaluate_audience`. Cases may name the configuration's audiences.
- `AudienceResult` comparisons that fail show the explanation.

pytest loads this module in every run, so it imports nothing heavy at module level.
Disable it with `-p no:segmentql`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.register_assert_rewrite("segmentql.testing.assertions")

if TYPE_CHECKING:
    from segmentql.schema import Schema
    from segmentql.testing.audience_file import AudienceFile, Case
    from segmentql.testing.run import AudienceResult

_AUDIENCE_FILE = re.compile(r"test_.*\.audience\.(ya?ml|json)\Z")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segmentql")
    group.addoption(
        "--audience-schema",
        metavar="PATH",
        default=None,
        help="segmentql schema file for audience tests (default: the standard catalog)",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> AudienceTestFile | None:
    if _AUDIENCE_FILE.match(file_path.name):
        return AudienceTestFile.from_parent(parent, path=file_path)
    return None


def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: object, right: object
) -> list[str] | None:
    from sys import modules

    run = modules.get("segmentql.testing.run")
    if run is None or op != "==":
        return None
    result_type = run.AudienceResult
    result = left if isinstance(left, result_type) else right
    other = right if result is left else left
    if not isinstance(result, result_type):
        return None
    return [
        f"audience gave {result.value!r}, expected {other!r}",
        "",
        *result.explain().splitlines(),
    ]


# ------------------------------------------------------------------------------------------
# Schemas
# ------------------------------------------------------------------------------------------


def _project(config: pytest.Config) -> Any:
    """The project configuration (segmentql.toml / [tool.segmentql]) found upwards from the
    rootdir, or None; a broken one raises `ConfigError` (file, line, hint) each time."""
    if _PROJECT not in config.stash:
        from segmentql.config import find_config

        config.stash[_PROJECT] = find_config(config.rootpath)
    return config.stash[_PROJECT]


def _project_audiences(config: pytest.Config) -> dict[str, str]:
    """The named queries of the configuration's audience files (audience test cases may
    refer to them by name)."""
    if _AUDIENCES not in config.stash:
        from segmentql.testing.audience_file import load_audiences

        project = _project(config)
        named: dict[str, str] = {}
        for path in project.audience_paths if project is not None else ():
            named.update(load_audiences(path))
        config.stash[_AUDIENCES] = named
    return config.stash[_AUDIENCES]


def _option_schema(config: pytest.Config) -> Schema:
    from segmentql.schema import Schema

    path = config.getoption("--audience-schema")
    if not path:
        project = _project(config)
        if project is None or project.schema_path is None:
            return Schema.default()
        path = str(project.schema_path)
    cache: dict[str, Schema] = config.stash.setdefault(_SCHEMAS, {})
    resolved = str(Path(path).resolve())
    if resolved not in cache:
        cache[resolved] = Schema.load(resolved)
    return cache[resolved]


_SCHEMAS = pytest.StashKey[dict[str, Any]]()
_PROJECT = pytest.StashKey[Any]()
_AUDIENCES = pytest.StashKey[dict[str, str]]()


def _shown(config: pytest.Config, path: Path) -> str:
    """`path` relative to the rootdir when it is inside it (as pytest shows test ids)."""
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture
def audience_schema(request: pytest.FixtureRequest) -> Schema:
    """The schema audiences are checked against: `--audience-schema PATH`, else the project
    configuration's `schema`, else the default catalog. Override this fixture in a
    conftest.py to build one in Python."""
    return _option_schema(request.config)


EvaluateAudience = Callable[..., "AudienceResult"]


@pytest.fixture
def evaluate_audience(audience_schema: Schema) -> EvaluateAudience:
    """`evaluate_audience(query, variables=None, *, events=None, now=None, time_zone="UTC")`
    compiles `query` against `audience_schema` and returns an `AudienceResult` (compares equal
    to the value, truthy on a match, explained by pytest when an `==` assertion fails)."""
    from segmentql.testing.run import evaluate, parse_now, variables_from_events

    def run(
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        events: Sequence[Any] | None = None,
        now: str | None = None,
        time_zone: str = "UTC",
    ) -> AudienceResult:
        data: Mapping[str, Any] = variables or {}
        if events is not None:
            snapshot = variables_from_events(events, now=parse_now(now), schema=audience_schema)
            data = {**snapshot, **data}
        return evaluate(query, data, schema=audience_schema, now=now, time_zone=time_zone)

    return run


# ------------------------------------------------------------------------------------------
# Collection
# ------------------------------------------------------------------------------------------


class AudienceTestFile(pytest.File):
    """A `test_*.audience.yaml` file: one item per case."""

    def collect(self) -> Iterator[AudienceCaseItem]:
        from segmentql.config import ConfigError
        from segmentql.testing.audience_file import AudienceFileError, read_audience_file

        try:
            spec = read_audience_file(self.path, _project_audiences(self.config))
            schema = self._schema(spec)
        except ConfigError as exc:
            raise self.CollectError(f"invalid segmentql configuration: {exc}") from None
        except AudienceFileError as exc:
            where = _shown(self.config, self.path)
            if exc.line is not None:
                where += f":{exc.line}"
            raise self.CollectError(f"{where}: {exc.message}") from None
        for case in spec.cases:
            item = AudienceCaseItem.from_parent(self, name=case.name, case=case, schema=schema)
            if case.skip:
                item.add_marker(pytest.mark.skip(reason=case.skip))
            yield item

    def _schema(self, spec: AudienceFile) -> Schema:
        from segmentql.errors import SchemaError
        from segmentql.schema import Schema
        from segmentql.testing.audience_file import AudienceFileError

        try:
            if spec.schema is None:
                return _option_schema(self.config)
            if isinstance(spec.schema, Path):
                return Schema.load(spec.schema)
            return Schema.from_dict(spec.schema)
        except (SchemaError, OSError) as exc:
            raise AudienceFileError(f"schema: {exc}", self.path) from None


class AudienceCaseFailure(Exception):
    """A case whose audience did not give the expected outcome (message: the explanation)."""


class AudienceCaseItem(pytest.Item):
    """One case of an audience file."""

    def __init__(self, *, case: Case, schema: Schema, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.schema = schema
        # No fixtures; but pytest-lsp 1.0's `pytest_runtest_call` wrapper returns without
        # yielding (a pluggy error) for items lacking `funcargs`, so give it an empty one.
        self.funcargs: dict[str, Any] = {}

    def runtest(self) -> None:
        from segmentql.testing.run import check_expectation, parse_now, variables_from_events

        case = self.case
        variables: Mapping[str, Any] = case.variables or {}
        if case.events is not None:
            from segmentql.errors import SegmentqlError

            try:
                snapshot = variables_from_events(
                    case.events, case.snapshot, now=parse_now(case.now), schema=self.schema
                )
            except (SegmentqlError, ValueError) as exc:
                raise AudienceCaseFailure(f"the case's events cannot be applied: {exc}") from None
            variables = {**snapshot, **variables}
        label = f"audience {case.audience!r}" if case.audience else "query"
        origin = case.origin
        if origin is not None:  # name the file as pytest shows it
            from dataclasses import replace

            origin = replace(origin, path=Path(_shown(self.config, self.path)))
        problem = check_expectation(
            case.query, variables, case.expect, schema=self.schema, now=case.now,
            time_zone=case.time_zone, label=label, origin=origin,
        )
        if problem is not None:
            raise AudienceCaseFailure(problem)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, AudienceCaseFailure):
            where = f"{_shown(self.config, self.path)}:{self.case.line}"
            return f"{where}: case {self.case.name!r}\n{excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"audience case: {self.case.name}"
