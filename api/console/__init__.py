"""The staff console: server-rendered pages (Jinja2, one CSS file, no JavaScript build) under /console."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console import files, hotline, pages
from api.console.auth import CsrfFailed, Forbidden, LoginRequired
from api.console.render import page, t_

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Add the console's routes, its static files and the handlers turning its exceptions into pages."""
    router = APIRouter(prefix="/console", include_in_schema=False)
    router.include_router(pages.router)
    router.include_router(hotline.router)
    router.include_router(files.router)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/console/login", status_code=303)

    @app.exception_handler(CsrfFailed)
    def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return page(
            request,
            "error.html",
            None,
            status_code=403,
            message=t_(request).gettext("The form expired. Go back, reload the page and try again."),
        )

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        return page(
            request,
            "error.html",
            None,
            status_code=403,
            message=t_(request).gettext("This page is not for your role."),
        )
