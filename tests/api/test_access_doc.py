"""The access matrix is docs/api.md's: every route of the server is in the doc's tables and every row of
them is a route; each call of the role matrix (``ENDPOINTS`` of test_auth.py, which that module runs for
no token, each role, and unknown or revoked tokens) lets exactly the roles the doc's row names; and
``/ogc/collections`` lists to each role the collections the doc lets it read. The tables are parsed from
the doc as written, so a drift of the doc or of the code fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import Built
from tests.api.test_auth import ENDPOINTS, Ep

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
#: Role classes of the doc (the public: no token).
CLASSES = ("public", "admin", "analyst", "observer", "liaison")
#: Routes whose access is no role's: checked elsewhere, and said why.
EXEMPT = {
    ("POST", "/api/v1/session"): "signs in with the token in its body (tests/api/test_hardening.py)",
    ("DELETE", "/api/v1/session"): "signs out whoever asks: it reads no credential (tests/api/test_hardening.py)",
}
#: Routes of the app that are not the API (the dashboard's page and files, the OpenAPI description).
NOT_API = re.compile(r"^/(?!api/|ogc)")


def roles_of(cell: str, where: str) -> frozenset[str]:
    """A role cell: its first words (before ``(``) are ``any``, ``all but public`` or roles joined by ``/``."""
    head = cell.split("(")[0].strip()
    if head == "any":
        return frozenset(CLASSES)
    if head == "all but public":
        return frozenset(CLASSES) - {"public"}
    names = [n.strip() for n in head.split("/")]
    unknown = [n for n in names if n not in CLASSES[1:]]
    assert names and not unknown, f"docs/api.md, {where}: role cell {cell!r} is not `any`, `all but public` or roles"
    return frozenset(names)


def norm(path: str) -> str:
    """A path with its parameters unnamed (the doc writes ``{id}`` where the code names ``{incident_id}``)."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def table(section: str, header: str) -> list[list[str]]:
    """The rows (cells) of the table under ``header`` in the doc's ``section`` (a ``## `` heading)."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    lines = body.split(f"\n{header}\n", 1)[1].splitlines()[1:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    assert rows, f"docs/api.md: no table {header!r} under {section!r}"
    return rows


def api_table() -> dict[tuple[str, str], tuple[frozenset[str], str]]:
    """``(method, path) -> (roles, row text)`` of the JSON endpoints' table."""
    out = {}
    for cells in table("JSON endpoints", "| method | path | role | returns |"):
        methods, paths, role = cells[0], cells[1], cells[2]
        for m in methods.split("/"):
            for path in re.findall(r"`([^`]+)`", paths):
                key = (m.strip(), norm(path))
                assert key not in out, f"docs/api.md lists {key} twice"
                out[key] = (roles_of(role, f"{m} {path}"), " | ".join(cells))
    return out


def ogc_table() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """The OGC table: roles of its fixed paths, and of each collection."""
    paths: dict[str, frozenset[str]] = {}
    collections: dict[str, frozenset[str]] = {}
    for resource, role in table("OGC API Features", "| resource | role |"):
        for name in re.findall(r"`([^`]+)`", resource):
            (paths if name.startswith("/ogc") else collections)[name] = roles_of(role, resource)
    return paths, collections


def doc_roles(ep: Ep) -> tuple[frozenset[str], str]:
    """The roles docs/api.md gives the route of ``ep``, and the text of its row."""
    path = ep.path.split("?")[0]
    if path.startswith("/ogc"):
        paths, collections = ogc_table()
        if path in paths:
            return paths[path], path
        cid = path.split("/")[3]
        assert cid in collections, f"{ep}: collection {cid!r} is not in docs/api.md's OGC table"
        return collections[cid], cid
    rows = api_table()
    key = next((k for k in rows if k[0] == ep.method and re.fullmatch(_pattern(k[1]), path)), None)
    assert key is not None, f"{ep}: no row of docs/api.md's endpoint table matches it"
    return rows[key]


def _pattern(doc_path: str) -> str:
    return "/".join("[^/]+" if seg == "{}" else re.escape(seg) for seg in doc_path.split("/"))


def classes(roles: tuple[str, ...]) -> frozenset[str]:
    return frozenset(r.split("-")[0] for r in roles)


def app_routes(client: TestClient) -> set[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return {(m.upper(), norm(p)) for p, ops in spec["paths"].items() for m in ops if not NOT_API.match(p)}


def test_the_doc_parses_and_names_every_route_of_the_server(client: TestClient) -> None:
    documented = set(api_table())
    served = app_routes(client)
    assert {k for k in served if not k[1].startswith("/ogc")} == documented
    ogc_paths, collections = ogc_table()
    ogc_doc = {norm(p) for p in re.findall(r"`(/ogc[^`]*)`", DOC.read_text(encoding="utf-8"))}
    assert {p for _, p in served if p.startswith("/ogc")} == ogc_doc
    assert set(ogc_paths) == {"/ogc", "/ogc/conformance", "/ogc/collections"}
    assert set(collections) == {"incidents", "violations", "events", "sensors", "line_of_contact", "sectors",
                                "protected_sites"}  # fmt: skip


def test_every_route_and_collection_of_the_doc_is_in_the_matrix() -> None:
    tried = {(ep.method, p) for ep in ENDPOINTS for p in [ep.path.split("?")[0]]}
    for method, path in api_table():
        if (method, path) in EXEMPT:
            continue
        assert any(m == method and re.fullmatch(_pattern(path), p) for m, p in tried), f"{method} {path} untried"
    paths, collections = ogc_table()
    for p in paths:
        assert ("GET", p) in tried, f"GET {p} untried"
    for cid in collections:
        assert ("GET", f"/ogc/collections/{cid}") in tried and ("GET", f"/ogc/collections/{cid}/items") in tried, cid


@pytest.mark.parametrize("ep", ENDPOINTS, ids=str)
def test_each_call_lets_the_roles_of_its_doc_row(ep: Ep) -> None:
    """test_auth.py runs each call for no token, every role and bad tokens against ``ep.roles``: these are the doc's."""
    roles, row = doc_roles(ep)
    mine = classes(ep.roles)
    if ep.narrowed is not None:  # a parameter the doc's row says narrows the roles
        assert ep.narrowed in row and mine < roles, f"{ep}: {sorted(mine)} within {sorted(roles)} by {ep.narrowed!r}"
    else:
        assert mine == roles, f"{ep}: the matrix lets {sorted(mine)}, docs/api.md's row {row!r} says {sorted(roles)}"
    assert all(f"liaison-{p}" in ep.roles for p in ("UA", "RU")) == ("liaison" in mine)  # both parties or neither


@pytest.mark.parametrize("role", ["public", "admin", "analyst", "observer", "liaison-UA", "liaison-RU"])
def test_ogc_lists_to_each_role_the_collections_the_doc_lets_it_read(
    client: TestClient, built: Built, role: str
) -> None:
    headers = auth(None if role == "public" else built.tokens[role])
    listed = {c["id"] for c in client.get("/ogc/collections", headers=headers).json()["collections"]}
    _, collections = ogc_table()
    assert listed == {cid for cid, roles in collections.items() if role.split("-")[0] in roles}


def test_a_revoked_token_lists_nothing(client: TestClient, built: Built) -> None:
    r = client.get("/ogc/collections", headers=auth(built.revoked))
    assert r.status_code == 401 and "collections" not in r.json()
