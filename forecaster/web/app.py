"""``forecaster serve``: one FastAPI process on the site's config and store.

Routers per area (campaigns, runs, users) over the same library functions as the CLI; errors are
translated here, in one place, as the CLI does: a calendar's problems are 422 with every row and
field, other user mistakes 400, a busy store 503, no account 401 or the login page, a missing
role 403. Internal failures are logged with their traceback and answered 500.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from forecaster import __version__
from forecaster.campaigns.calendar import drain_inbox
from forecaster.core.config import Config
from forecaster.core.errors import InputError, StoreLockedError, UserError
from forecaster.store.database import Store, inbox_dir
from forecaster.web import campaigns, runs, users
from forecaster.web.campaigns import problems_json
from forecaster.web.deps import HERE, LoginRequired, Marketing, Site, page
from forecaster.web.security import BodyLimit, LoginLimiter, SecurityHeaders, session_secret

log = logging.getLogger("forecaster.web")
INBOX_EVERY_S = 30.0


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error(request: Request, status: int, message: str, headers: dict | None = None):
    if _api(request):
        return JSONResponse({"errors": [{"row": None, "field": None, "value": None, "message": message}]},
                            status_code=status, headers=headers)
    return page(request, "error.html", status_code=status, headers=headers, title=f"Error {status}", message=message)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if _api(request):
            return JSONResponse({"errors": [{"row": None, "field": None, "value": None, "message":
                                             "log in first: send 'Authorization: Bearer TOKEN' (forecaster users token NAME)"}]},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        if _api(request):
            return JSONResponse(problems_json(exc), status_code=422)
        return page(request, "error.html", status_code=422, title="Please fix", message=str(exc),
                    details=exc.details())

    @app.exception_handler(StoreLockedError)
    async def busy(request: Request, exc: StoreLockedError):
        return _error(request, 503, f"The store is busy: {exc}", {"Retry-After": "30"})

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return _error(request, 400, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errors = [{"row": None, "field": ".".join(str(p) for p in e["loc"][1:]) or None, "value": None,
                   "message": e["msg"]} for e in exc.errors()]
        if _api(request):
            return JSONResponse({"errors": errors}, status_code=422)
        return _error(request, 422, "; ".join(f"{e['field']}: {e['message']}" for e in errors))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error(request, 500, f"Internal error: {type(exc).__name__}: {exc}. This is a bug in forecaster; "
                                    "the server log has the traceback.")


def _docs(app: FastAPI) -> None:
    """OpenAPI at /api/openapi.json and a page of it at /api/docs, both for logged-in users. The page
    is rendered here (Swagger UI would need a CDN or inline scripts, which the CSP forbids)."""

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(user: Marketing):
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    def docs(request: Request, user: Marketing):
        return page(request, "api_docs.html", spec=app.openapi())


def _openapi(app: FastAPI):
    def build():
        if app.openapi_schema is None:
            spec = get_openapi(title="forecaster API", version=__version__, routes=app.routes, description=(
                "Marketing's campaign calendar for forecaster. Every call sends `Authorization: Bearer TOKEN` "
                "(a planner or admin runs `forecaster users token NAME`). Calendars are uploaded as the multipart "
                "field `file` (CSV, XLSX or YAML, the columns of `forecaster campaigns schema`); a bad calendar "
                "answers 422 with `{\"errors\": [{\"row\", \"field\", \"value\", \"message\"}]}` and stores nothing."))
            spec["components"].setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
            spec["security"] = [{"bearer": []}]
            app.openapi_schema = spec
        return app.openapi_schema
    return build


def _drain_inbox(s: Site, stop: threading.Event) -> None:
    """Apply submissions queued while the store was busy, as soon as it is free again."""
    while not stop.wait(INBOX_EVERY_S):
        folder = inbox_dir(s.store_path)
        if not (folder.is_dir() and any(folder.glob("*.json"))):
            continue
        try:
            with s.write_lock, Store(s.store_path, lock_timeout_s=1.0) as store:
                applied = drain_inbox(store)
            log.info("applied %d queued submission(s) from %s", len(applied), folder)
        except StoreLockedError:
            continue                                # still busy: the next round, or the nightly, applies them
        except Exception:  # noqa: BLE001 - a background loop must go on; the log has the reason
            log.exception("queued submissions could not be applied (they stay in %s)", folder)


def create_app(config: Config, store_path: Path, lock_timeout_s: float = 30.0, behind_https: bool = False,
               drain_every_s: float | None = INBOX_EVERY_S) -> FastAPI:
    """The web app on ``store_path`` (made with the schema if it does not exist yet)."""
    Store(store_path, lock_timeout_s=lock_timeout_s).close()           # made or checked (schema version) at start
    site = Site(config, Path(store_path), lock_timeout_s, LoginLimiter(config.web.login_attempts))
    stop = threading.Event()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = None
        if drain_every_s:
            worker = threading.Thread(target=_drain_inbox, args=(site, stop), name="inbox", daemon=True)
            worker.start()
        yield
        stop.set()

    app = FastAPI(title="forecaster", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.site = site
    app.openapi = _openapi(app)
    _handlers(app)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(site.store_path), session_cookie="forecaster",
                       max_age=int(config.web.session_hours * 3600), same_site="lax", https_only=behind_https)
    app.add_middleware(BodyLimit, limit=int(config.web.max_upload_mb * 1_000_000))
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (campaigns, runs, users):
        if hasattr(module, "api"):
            app.include_router(module.api)
        app.include_router(module.pages)
    _docs(app)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():                                  # public, like /static: browsers ask for it on every page
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.get("/", include_in_schema=False)
    def home(user: Marketing):
        return RedirectResponse("/campaigns", status_code=303)
    return app


def serve(config: Config, store_path: Path, host: str, port: int, behind_https: bool = False,
          forwarded_allow_ips: str = "127.0.0.1", lock_timeout_s: float = 30.0) -> None:
    import uvicorn  # the server only: the app and its tests do without it

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config, store_path, lock_timeout_s, behind_https)
    log.info("forecaster %s serving %s on http://%s:%d (store %s)", __version__, config.site, host, port, store_path)
    uvicorn.run(app, host=host, port=port, proxy_headers=behind_https, forwarded_allow_ips=forwarded_allow_ips,
                server_header=False, log_level="info")
