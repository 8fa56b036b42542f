"""A small RAML 1.0 type checker for Marathon's API types (test support, not shipped).

``check_body(type_name, body, version="1.10.26") -> list[str]`` returns the problems found when
checking ``body`` (parsed JSON) against the RAML types of that Marathon version in
``<reference>/marathon-api/marathon-<version>/api/v2/types``; an empty list means it conforms.
``<reference>`` is ``$MARATHON_REFERENCE_DIR`` if set, else the files vendored in ``<repo>/tests/reference``.

``type_name`` is a RAML type expression: a type name (``AppInfo``), qualified by a library alias
of ``api.raml`` or a file stem (``task.TaskList``, ``deploymentInfo.DeploymentStepInfo``), arrays
(``app.App[]``) and unions (``task.TaskList | deploymentResult.DeploymentResult``). An unknown or
ambiguous name raises ``ValueError``.

Problems are strings ``"<path>: <message>"`` with Marathon's path syntax (``/app/tasks(0)/host``).
Reported: missing required properties, wrong JSON types, enum/pattern/length/range/format
violations, array item count/uniqueness, and undeclared properties. RAML 1.0 allows additional
properties unless ``additionalProperties: false``; Marathon's types never say, so this checker is
strict by default (an undeclared field is an invented field) -- pass ``strict=False`` for RAML's
own rule. Annotations (``(pragma.*)``), ``default``, ``example(s)``, ``description`` are ignored.

For checking a server's real responses:

* ``response_type(method, path, status, version="1.10.26") -> str | None`` -- the body type of that
  response: what the resource RAML files (``api.raml`` and its ``!include``s) declare, corrected by
  ``RESPONSE_OVERRIDES`` where the reference (marathon-api.md) says 1.10 answers differently or the
  RAML gives only an example. ``None`` when no JSON body type is known.
* ``check_response(method, path, status, body, version="1.10.26") -> list[str]`` -- ``check_body``
  with that type; an unknown response with a body yields one problem saying so.
* Extra types, in RAML, for bodies Marathon sends that its RAML does not describe: the library
  ``lm`` (``SUPPLEMENT_RAML``), e.g. ``lm.AppResponse``, ``lm.MarathonError``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .reference import reference_dir

__all__ = ["check_body", "check_response", "response_type", "reference_dir", "TypeLibrary", "load_library"]

_SCALARS = {
    "string", "number", "integer", "boolean", "nil", "any",
    "datetime", "date-only", "time-only", "datetime-only", "file",
}
_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1), "int": (-(2**63), 2**63 - 1), "long": (-(2**63), 2**63 - 1),
}
_DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_DATEONLY_RE = re.compile(r"^\d{4}-\d\d-\d\d$")
_TIMEONLY_RE = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?$")
_DTONLY_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


# -- YAML loading ------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps ``!include`` (used only outside the type libraries) as a marker."""


def _include(loader, node):
    return {"!include": loader.construct_scalar(node)}


_Loader.add_constructor("!include", _include)


def _load_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read RAML file {path}: {exc}") from None
    return data or {}


# -- type expressions --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s*(\[\]|\(|\)|\||\?|[A-Za-z_][A-Za-z0-9_.\-]*)")


def _parse_expr(text: str):
    """Parse ``A | B[] | (C | D)[] | string?`` into a tiny AST: ("name", n) | ("array", x) | ("union", [..])."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad RAML type expression {text!r} at {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    items = tokens

    def union(i):
        opts = []
        node, i = postfix(i)
        opts.append(node)
        while i < len(items) and items[i] == "|":
            node, i = postfix(i + 1)
            opts.append(node)
        return (opts[0] if len(opts) == 1 else ("union", opts)), i

    def postfix(i):
        node, i = primary(i)
        while i < len(items) and items[i] in ("[]", "?"):
            node = ("array", node) if items[i] == "[]" else ("union", [node, ("name", "nil")])
            i += 1
        return node, i

    def primary(i):
        if i >= len(items):
            raise ValueError(f"bad RAML type expression {text!r}: unexpected end")
        tok = items[i]
        if tok == "(":
            node, i = union(i + 1)
            if i >= len(items) or items[i] != ")":
                raise ValueError(f"bad RAML type expression {text!r}: missing ')'")
            return node, i + 1
        if tok in ("[]", "?", "|", ")"):
            raise ValueError(f"bad RAML type expression {text!r}: unexpected {tok!r}")
        return ("name", tok), i + 1

    node, i = union(0)
    if i != len(items):
        raise ValueError(f"bad RAML type expression {text!r}: trailing {items[i:]}")
    return node


# -- resolved type nodes -----------------------------------------------------------------------


@dataclass
class _Ref:
    """A declaration to resolve lazily (recursive types such as GroupInfo.groups)."""

    decl: Any
    ctx: str


@dataclass
class _Scalar:
    base: str
    facets: dict = field(default_factory=dict)


@dataclass
class _Object:
    name: str | None
    props: dict = field(default_factory=dict)  # name -> (required, _Ref)
    patterns: list = field(default_factory=list)  # (compiled regex, _Ref)
    additional: bool | None = None
    facets: dict = field(default_factory=dict)


@dataclass
class _Array:
    items: _Ref | None
    facets: dict = field(default_factory=dict)


@dataclass
class _Union:
    options: list  # of nodes
    label: str = ""


_FACET_KEYS = {
    "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "multipleOf",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
    "discriminator", "discriminatorValue",
}


# Bodies that Marathon 1.10 sends but its RAML does not describe (or describes wrongly); each type
# cites the reference section it follows.
SUPPLEMENT_RAML = """
#%RAML 1.0 Library
uses:
  app: app.raml
  strings: stringTypes.raml
  error: error.raml
types:
  AppResponse:  # GET /v2/apps/{id} (3.1.2): the app wrapped in "app"
    properties:
      app: app.AppInfo
  ValidationDetail:  # 422 details (2): one entry per path
    properties:
      path: string
      errors: string[]
  MarathonError:  # every JSON error body of 2: message, details as string or list, 409 deployments
    properties:
      message: string
      details?: string | (ValidationDetail | error.ErrorDetail)[]
      deployments?: strings.Identifiable[]
"""
SUPPLEMENT_STEM = "lm"


class TypeLibrary:
    """All ``*.raml`` libraries of one version's types directory (plus the ``lm`` supplement)."""

    def __init__(self, types_dir: Path, api_raml: Path | None = None, supplement: str | None = SUPPLEMENT_RAML):
        if not types_dir.is_dir():
            raise ValueError(f"RAML types directory not found: {types_dir} (set MARATHON_REFERENCE_DIR?)")
        self.files: dict[str, dict] = {}
        self.uses: dict[str, dict[str, str]] = {}
        sources = [(p.stem, _load_yaml(p)) for p in sorted(types_dir.glob("*.raml"))]
        loaded = {stem: (data.get("types") or {}) for stem, data in sources}
        # The supplement describes 1.9+/1.10 bodies; older trees (1.4) lack the types it builds on.
        has_base = "AppInfo" in loaded.get("app", {}) and "Identifiable" in loaded.get("stringTypes", {})
        if supplement is not None and has_base:
            sources.append((SUPPLEMENT_STEM, yaml.safe_load(supplement)))
        for stem, data in sources:
            self.files[stem] = data.get("types") or {}
            self.uses[stem] = {
                alias: Path(target).stem for alias, target in (data.get("uses") or {}).items()
            }
        # Global qualifiers: api.raml's aliases (what the resource files use) and file stems.
        self.global_aliases = {stem: stem for stem in self.files}
        if api_raml is not None and api_raml.is_file():
            for alias, target in (_load_yaml(api_raml).get("uses") or {}).items():
                self.global_aliases[alias] = Path(target).stem
        self._by_name: dict[str, list[str]] = {}
        for stem, types in self.files.items():
            for name in types:
                self._by_name.setdefault(name, []).append(stem)
        self._cache: dict[tuple, Any] = {}
        self._subtypes: dict | None = None

    # name lookup ------------------------------------------------------------------------------

    def _lookup(self, name: str, ctx: str | None) -> tuple[str, str] | None:
        """(file stem, type name) for a reference made from file ``ctx`` (None = top level)."""
        if "." in name:
            alias, _, tname = name.rpartition(".")
            table = self.uses.get(ctx, {}) if ctx is not None else self.global_aliases
            stem = table.get(alias)
            if stem is None and ctx is not None:
                stem = self.global_aliases.get(alias)
            if stem is None or tname not in self.files.get(stem, {}):
                raise ValueError(f"unknown RAML type {name!r}" + (f" (referenced from {ctx}.raml)" if ctx else ""))
            return stem, tname
        if ctx is not None and name in self.files.get(ctx, {}):
            return ctx, name
        if name in _SCALARS or name in ("object", "array"):
            return None
        if ctx is None:
            stems = self._by_name.get(name, [])
            if len(stems) == 1:
                return stems[0], name
            if len(stems) > 1:
                raise ValueError(f"ambiguous RAML type {name!r}: qualify it as one of {[f'{s}.{name}' for s in stems]}")
        raise ValueError(f"unknown RAML type {name!r}" + (f" (referenced from {ctx}.raml)" if ctx else ""))

    # resolution -------------------------------------------------------------------------------

    def resolve_expr(self, expr: str, ctx: str | None):
        key = ("expr", expr, ctx)
        if key not in self._cache:
            self._cache[key] = self._resolve_ast(_parse_expr(expr), ctx)
        return self._cache[key]

    def _resolve_ast(self, ast, ctx):
        kind = ast[0]
        if kind == "union":
            return _Union([self._resolve_ast(a, ctx) for a in ast[1]], label=_ast_str(ast))
        if kind == "array":
            return _Array(_Ref(("ast", ast[1]), ctx))
        name = ast[1]
        found = self._lookup(name, ctx)
        if found is None:
            if name == "object":
                return _Object(None)
            if name == "array":
                return _Array(None)
            return _Scalar(name)
        return self.named(*found)

    def named(self, stem: str, name: str):
        key = ("named", stem, name)
        if key not in self._cache:
            self._cache[key] = None  # guards against an inheritance cycle
            self._cache[key] = self.resolve_decl(self.files[stem][name], stem, name)
        node = self._cache[key]
        if node is None:
            raise ValueError(f"RAML type {stem}.{name} inherits from itself")
        return node

    def resolve_ref(self, ref: _Ref):
        # Declarations live as long as the library, so their identity is a stable cache key.
        key = ("ref", id(ref.decl), ref.ctx)
        node = self._cache.get(key)
        if node is None:
            if isinstance(ref.decl, tuple) and ref.decl and ref.decl[0] == "ast":
                node = self._resolve_ast(ref.decl[1], ref.ctx)
            else:
                node = self.resolve_decl(ref.decl, ref.ctx)
            self._cache[key] = node
        return node

    def resolve_decl(self, decl, ctx: str, name: str | None = None):
        if decl is None:
            return _Scalar("string")  # RAML 1.0 default when neither type nor properties is given
        if isinstance(decl, str):
            return self.resolve_expr(decl, ctx)
        if isinstance(decl, list):  # multiple inheritance
            return self._merge_objects([self.resolve_expr(d, ctx) for d in decl], name)
        if not isinstance(decl, dict):
            raise ValueError(f"unsupported RAML declaration in {ctx}.raml: {decl!r}")
        base = decl.get("type", decl.get("schema"))
        if base is None:
            base = "object" if "properties" in decl else "array" if "items" in decl else "string"
        if isinstance(base, list):
            parent = self._merge_objects([self.resolve_expr(b, ctx) for b in base], name)
        elif isinstance(base, dict):
            parent = self.resolve_decl(base, ctx)
        else:
            parent = self.resolve_expr(str(base), ctx)
        own = {k: v for k, v in decl.items() if k in _FACET_KEYS}

        if isinstance(parent, _Object):
            inherited = {k: v for k, v in parent.facets.items() if k != "discriminatorValue"}
            node = _Object(name or parent.name, dict(parent.props), list(parent.patterns), parent.additional,
                           {**inherited, **own})
            for pname, pdecl in (decl.get("properties") or {}).items():
                self._add_property(node, str(pname), pdecl, ctx)
            if "additionalProperties" in decl:
                node.additional = bool(decl["additionalProperties"])
            return node
        if isinstance(parent, _Array):
            items = parent.items
            if "items" in decl:
                items = _Ref(decl["items"], ctx)
            return _Array(items, {**parent.facets, **own})
        if isinstance(parent, _Scalar):
            return _Scalar(parent.base, {**parent.facets, **own})
        return parent  # a union: extra facets on a union are not used by Marathon's types

    def discriminated(self, key: str, value) -> "_Object | None":
        """The object type whose discriminator ``key`` has ``value`` (RAML: defaults to the type name)."""
        if self._subtypes is None:
            table = {}
            for stem, types in self.files.items():
                for tname in types:
                    try:
                        node = self.named(stem, tname)
                    except ValueError:
                        continue
                    if isinstance(node, _Object) and "discriminator" in node.facets:
                        dv = node.facets.get("discriminatorValue", tname)
                        table.setdefault((node.facets["discriminator"], dv), node)
            self._subtypes = table
        return self._subtypes.get((key, value)) if isinstance(value, str) else None

    def _merge_objects(self, parents, name):
        node = _Object(name)
        for parent in parents:
            if not isinstance(parent, _Object):
                raise ValueError(f"RAML multiple inheritance of a non-object type in {name}")
            node.props.update(parent.props)
            node.patterns.extend(parent.patterns)
        return node

    @staticmethod
    def _add_property(node: _Object, pname: str, pdecl, ctx: str):
        if len(pname) >= 2 and pname.startswith("/") and pname.endswith("/"):
            node.patterns.append((re.compile(pname[1:-1]), _Ref(pdecl, ctx)))
            return
        required = True
        if pname.endswith("?"):
            pname, required = pname[:-1], False
        if isinstance(pdecl, dict) and "required" in pdecl:
            required = bool(pdecl["required"])
        node.props[pname] = (required, _Ref(pdecl, ctx))


def _ast_str(ast) -> str:
    if ast[0] == "name":
        return ast[1]
    if ast[0] == "array":
        inner = _ast_str(ast[1])
        return f"({inner})[]" if ast[1][0] == "union" else f"{inner}[]"
    return " | ".join(_ast_str(a) for a in ast[1])


# -- checking ----------------------------------------------------------------------------------


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    def __init__(self, lib: TypeLibrary, strict: bool):
        self.lib = lib
        self.strict = strict

    def check(self, node, value, path: str, out: list[str]) -> None:
        if isinstance(node, _Ref):
            node = self.lib.resolve_ref(node)
        if isinstance(node, _Union):
            self._union(node, value, path, out)
        elif isinstance(node, _Object):
            self._object(node, value, path, out)
        elif isinstance(node, _Array):
            self._array(node, value, path, out)
        else:
            self._scalar(node, value, path, out)

    def _union(self, node: _Union, value, path, out):
        best, best_rank = None, None
        for option in node.options:
            problems: list[str] = []
            self.check(option, value, path, problems)
            if not problems:
                return
            # Explain with the closest option: same JSON kind first, then fewest problems.
            kind_mismatch = problems[0].startswith(f"{path}: expected ") and ", got " in problems[0]
            rank = (kind_mismatch, len(problems))
            if best_rank is None or rank < best_rank:
                best, best_rank = problems, rank
        out.append(f"{path}: {_short(value)} matches none of {node.label}")
        out.extend(best or [])

    def _object(self, node: _Object, value, path, out):
        if not isinstance(value, dict):
            out.append(f"{path}: expected object{' ' + node.name if node.name else ''}, got {_json_type(value)}")
            return
        disc = node.facets.get("discriminator")
        if disc is not None:
            sub = self.lib.discriminated(disc, value.get(disc))
            if sub is not None and sub is not node:
                self._object(sub, value, path, out)
                return
        base = "" if path == "/" else path
        for pname, (required, ref) in node.props.items():
            if pname in value:
                self.check(ref, value[pname], f"{base}/{pname}", out)
            elif required:
                out.append(f"{base}/{pname}: required property missing" + (f" (type {node.name})" if node.name else ""))
        for key, item in value.items():
            if key in node.props:
                continue
            matched = [ref for regex, ref in node.patterns if regex.search(key)]
            if matched:
                # RAML: the first matching pattern property applies.
                self.check(matched[0], item, f"{base}/{key}", out)
                continue
            allowed = node.additional if node.additional is not None else not self.strict
            if not allowed:
                out.append(f"{base}/{key}: undeclared property" + (f" (type {node.name})" if node.name else ""))
        facets = node.facets
        if "minProperties" in facets and len(value) < facets["minProperties"]:
            out.append(f"{path}: expected at least {facets['minProperties']} properties")
        if "maxProperties" in facets and len(value) > facets["maxProperties"]:
            out.append(f"{path}: expected at most {facets['maxProperties']} properties")

    def _array(self, node: _Array, value, path, out):
        if not isinstance(value, list):
            out.append(f"{path}: expected array, got {_json_type(value)}")
            return
        f = node.facets
        if "minItems" in f and len(value) < f["minItems"]:
            out.append(f"{path}: expected at least {f['minItems']} items, got {len(value)}")
        if "maxItems" in f and len(value) > f["maxItems"]:
            out.append(f"{path}: expected at most {f['maxItems']} items, got {len(value)}")
        if f.get("uniqueItems"):
            seen = set()
            for item in value:
                key = json.dumps(item, sort_keys=True)
                if key in seen:
                    out.append(f"{path}: items must be unique, {_short(item)} repeats")
                    break
                seen.add(key)
        if node.items is not None:
            for i, item in enumerate(value):
                self.check(node.items, item, f"{path}({i})", out)

    def _scalar(self, node: _Scalar, value, path, out):
        base, f = node.base, node.facets
        if base == "any":
            return
        if base == "nil":
            if value is not None:
                out.append(f"{path}: expected null, got {_json_type(value)}")
            return
        if base == "boolean":
            if not isinstance(value, bool):
                out.append(f"{path}: expected boolean, got {_json_type(value)}")
            return
        if base in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                out.append(f"{path}: expected {base}, got {_json_type(value)}")
                return
            fmt = f.get("format")
            if base == "integer" or fmt in _INT_RANGES:
                if not isinstance(value, int):
                    out.append(f"{path}: expected an integer, got {_short(value)}")
                    return
                lo, hi = _INT_RANGES.get(fmt, (None, None))
                if lo is not None and not lo <= value <= hi:
                    out.append(f"{path}: {value} out of {fmt} range")
            elif isinstance(value, float) and not math.isfinite(value):
                out.append(f"{path}: expected a finite number, got {value}")
            if "minimum" in f and value < f["minimum"]:
                out.append(f"{path}: {_short(value)} is below minimum {f['minimum']}")
            if "maximum" in f and value > f["maximum"]:
                out.append(f"{path}: {_short(value)} is above maximum {f['maximum']}")
            if f.get("multipleOf") and (value / f["multipleOf"]) % 1:
                out.append(f"{path}: {_short(value)} is not a multiple of {f['multipleOf']}")
            if "enum" in f and value not in f["enum"]:
                out.append(f"{path}: {_short(value)} not one of {f['enum']}")
            return
        if not isinstance(value, str):
            out.append(f"{path}: expected {base}, got {_json_type(value)}")
            return
        regex = {"datetime": _DATETIME_RE, "date-only": _DATEONLY_RE, "time-only": _TIMEONLY_RE,
                 "datetime-only": _DTONLY_RE}.get(base)
        if regex is not None and f.get("format") != "rfc2616" and not regex.match(value):
            out.append(f"{path}: {_short(value)} is not a valid {base}")
        if "enum" in f and value not in f["enum"]:
            out.append(f"{path}: {_short(value)} not one of {f['enum']}")
        if "pattern" in f and not re.search(f["pattern"], value):
            out.append(f"{path}: {_short(value)} does not match pattern {f['pattern']}")
        if "minLength" in f and len(value) < f["minLength"]:
            out.append(f"{path}: shorter than minLength {f['minLength']}")
        if "maxLength" in f and len(value) > f["maxLength"]:
            out.append(f"{path}: longer than maxLength {f['maxLength']}")


@functools.lru_cache(maxsize=8)
def load_library(version: str = "1.10.26", base: str | None = None) -> TypeLibrary:
    root = Path(base) if base else reference_dir()
    api = root / "marathon-api" / f"marathon-{version}" / "api"
    return TypeLibrary(api / "v2" / "types", api / "api.raml")


def check_body(type_name: str, body: Any, version: str = "1.10.26", *, strict: bool = True) -> list[str]:
    lib = load_library(version, os.environ.get("MARATHON_REFERENCE_DIR") or None)
    node = lib.resolve_expr(type_name, None)
    problems: list[str] = []
    _Checker(lib, strict).check(node, body, "/", problems)
    return problems


# -- responses ---------------------------------------------------------------------------------

# (METHOD, path template, status) -> type, where marathon-api.md says what 1.10 sends and the resource
# RAML has no type, a wrong status, or a type that lacks fields the server really writes.
_ERROR_STATUSES = (400, 403, 404, 409, 422, 500, 503)
RESPONSE_OVERRIDES: dict[tuple[str, str, int], str] = {
    ("GET", "/v2/apps", 200): "app.AppList",  # RAML's type is commented out
    ("POST", "/v2/apps", 201): "app.AppInfo",  # created app with tasks/deployments/counts
    ("GET", "/v2/apps/{app_id}", 200): "lm.AppResponse",  # 3.1.2
    ("PUT", "/v2/apps/{app_id}", 200): "deploymentResult.DeploymentResult",  # update of an existing app
    ("PUT", "/v2/apps", 200): "deploymentResult.DeploymentResult",
    ("PATCH", "/v2/apps", 200): "deploymentResult.DeploymentResult",
    ("DELETE", "/v2/apps/{app_id}", 200): "deploymentResult.DeploymentResult",  # 3.1.7
    ("POST", "/v2/apps/{app_id}/restart", 200): "deploymentResult.DeploymentResult",  # 3.1.6
    ("GET", "/v2/apps/{app_id}/versions", 200): "app.VersionList",  # 3.1.8
    ("DELETE", "/v2/deployments/{deployment_id}", 200): "deploymentResult.DeploymentResult",  # 3.3
    ("DELETE", "/v2/leader", 200): "error.Error",  # {"message":"Leadership abdicated","details":[]} (11)
    ("GET", "/v2/groups", 200): "group.GroupInfo",
    ("GET", "/v2/groups/{group_id}", 200): "group.GroupInfo",
}
_API_ROOT_RE = re.compile(r"^/service/marathon(?=/|$)")


def _norm_path(path: str) -> str:
    path = _API_ROOT_RE.sub("", path.split("?", 1)[0])
    path = re.sub(r"/{2,}", "/", path)
    return path.rstrip("/") or "/"


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern
    literal: int
    responses: dict  # status -> type expression | None


def _template_regex(template: str) -> tuple[re.Pattern, int]:
    parts = re.split(r"(\{[^}]+\})", template)
    # App ids span several segments (Jersey's {id:.+}); the most literal template wins ties.
    regex = "".join("(.+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$"), sum(len(p) for p in parts if not p.startswith("{"))


@functools.lru_cache(maxsize=8)
def _routes(version: str, base: str | None) -> list[_Route]:
    root = Path(base) if base else reference_dir()
    api_dir = root / "marathon-api" / f"marathon-{version}" / "api"
    api = _load_yaml(api_dir / "api.raml")
    table: dict[tuple[str, str], dict] = {}

    def walk(node: dict, rel_dir: Path, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict) and set(value) == {"!include"}:
                inc = rel_dir / value["!include"]
                value = _load_yaml(inc) if inc.suffix == ".raml" else None
            if isinstance(key, str) and key.startswith("/"):
                walk(value or {}, rel_dir, prefix + key)
            elif key in ("get", "put", "post", "patch", "delete", "head") and isinstance(value, dict):
                entry = table.setdefault((key.upper(), _norm_path(prefix)), {})
                for status, resp in (value.get("responses") or {}).items():
                    body = (resp or {}).get("body") or {}
                    json_body = body.get("application/json") if isinstance(body, dict) else None
                    entry[int(status)] = json_body.get("type") if isinstance(json_body, dict) else None

    walk(api, api_dir, "")
    for (method, template, status), type_name in RESPONSE_OVERRIDES.items():
        table.setdefault((method, template), {})[status] = type_name
    routes = []
    for (method, template), responses in table.items():
        regex, literal = _template_regex(template)
        routes.append(_Route(method, template, regex, literal, responses))
    return routes


def response_type(method: str, path: str, status: int, version: str = "1.10.26") -> str | None:
    method = method.upper()
    npath = _norm_path(path)
    matches = [r for r in _routes(version, os.environ.get("MARATHON_REFERENCE_DIR") or None)
               if r.method == method and r.regex.match(npath)]
    if not matches:
        return "lm.MarathonError" if status in _ERROR_STATUSES else None
    route = max(matches, key=lambda r: r.literal)
    if status in _ERROR_STATUSES:
        # The RAML's error.Error lacks the path entries, string details and 409 deployments of 2.
        return "lm.MarathonError"
    return route.responses.get(status)


def check_response(method: str, path: str, status: int, body: Any, version: str = "1.10.26") -> list[str]:
    type_name = response_type(method, path, status, version)
    if type_name is None:
        if body is None:
            return []
        return [f"{method.upper()} {_norm_path(path)} {status}: no RAML type known for this response"]
    return check_body(type_name, body, version)
