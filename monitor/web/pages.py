"""The workspace's pages: sign-in, the latest stories, the archive search, one story with its
feedback form. Each page is rendered on the server and works without script."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from babel import Locale
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from monitor.accounts import Role, User, sign_in
from monitor.digest import day_window, select_stories
from monitor.errors import AccountError
from monitor.labels import country_name, labels_for, language_name
from monitor.models import Evidence
from monitor.search import (
    MARK_END,
    MARK_START,
    MAX_LIMIT,
    SearchQuery,
    Sort,
    search,
    tagged_countries,
)
from monitor.store import StoredArticle
from monitor.web.app import Workspace
from monitor.web.charts import line_chart, weekly
from monitor.web.exports import csv_bytes, every_hit, xlsx_bytes
from monitor.web.security import SESSION_COOKIE, SESSION_SECONDS, Session, csrf_ok, safe_next
from monitor.web.words import words_for

LOGIN_CSRF_COOKIE = "fm_login"
LATEST_DAYS = 7
TREND_WEEKS = 12
PAGE_SIZE = 20
_PARAGRAPHS = re.compile(r"\n\s*\n")


def marked(passage: str) -> Markup:
    """A search passage with its marks as <mark>, everything else escaped."""
    text = str(escape(passage))
    return Markup(text.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def evidence_html(item: Mapping[str, Any] | Evidence) -> Markup:
    """An evidence sentence with its matched term marked, everything else escaped."""
    term = item.term if isinstance(item, Evidence) else str(item.get("term", ""))
    sentence = item.text if isinstance(item, Evidence) else str(item.get("text", ""))
    at = sentence.lower().find(term.lower()) if term else -1
    if at < 0:
        return Markup(escape(sentence))
    end = at + len(term)
    return Markup(
        f"{escape(sentence[:at])}<mark>{escape(sentence[at:end])}</mark>{escape(sentence[end:])}"
    )


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("monitor", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["marked"] = marked
    environment.filters["evidence"] = evidence_html
    return environment


def router(workspace: Workspace) -> APIRouter:
    routes = APIRouter(include_in_schema=False)
    locale = workspace.config.digest.locale
    labels, words, cldr = labels_for(locale), words_for(locale), Locale.parse(locale)
    zone = workspace.config.timezone

    # What every template may use, apart from the user.
    common: dict[str, Any] = {
        "lang": locale,
        "w": words,
        "aspect": labels.aspect,
        "country_name": lambda code: country_name(cldr, code),
        "language_name": lambda code: language_name(cldr, code or "?"),
        "local_time": lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
    }

    def fragment(template: str, **values: Any) -> Markup:
        """A part of a page that is the same for every user: rendered once, kept as a view."""
        return Markup(_environment().get_template(template).render(**common, **values))

    def render(
        template: str,
        who: tuple[Session, User] | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        html = (
            _environment()
            .get_template(template)
            .render(
                **common,
                user=who[1] if who else None,
                csrf=who[0].csrf if who else "",
                title=values.pop("title", words["workspace"]),
                **values,
            )
        )
        return HTMLResponse(html, status_code=status)

    def latest_stories() -> Markup:
        """The latest days' stories as HTML, kept: on a busy archive a week is a thousand
        stories, the same for every user until the archive changes."""
        return workspace.kept(
            ("latest", workspace.clock().astimezone(zone).date()),
            lambda: fragment(
                "web/latest_days.html.j2", days=_latest_days(workspace, locale), span=LATEST_DAYS
            ),
        )

    def trend_charts(first: date, last: date) -> Markup:
        """The weekly charts and tables of a period as HTML, kept."""

        def charts() -> Markup:
            start, end = day_window(first, zone, last)
            rows = workspace.store.facets_between(start, end)
            countries = weekly(((d, c) for d, _, c in rows), zone, first, last)
            aspects = weekly(((d, a) for d, a, _ in rows), zone, first, last)

            def country(code: str) -> str:
                return country_name(cldr, code)

            return fragment(
                "web/trends_charts.html.j2",
                charts=[
                    (words["by_country"], line_chart(countries, country, words["by_country"]),
                     countries, country),
                    (words["by_aspect"], line_chart(aspects, labels.aspect, words["by_aspect"]),
                     aspects, labels.aspect),
                ],
            )  # fmt: skip

        return workspace.kept(("trends", first, last), charts)

    def recent_trends() -> Markup:
        today = workspace.clock().astimezone(zone).date()
        return trend_charts(today - timedelta(weeks=TREND_WEEKS), today)

    def search_choices() -> dict[str, Any]:
        return workspace.kept("choices", lambda: _choices(workspace, labels, cldr))

    # The pages a visit opens first: computed as a server starts rather than by its first reader.
    workspace.openers.extend((latest_stories, search_choices, recent_trends))

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def message(who: tuple[Session, User] | None, status: int, key: str) -> HTMLResponse:
        return render("web/message.html.j2", who, status, heading=str(status), message=words[key])

    @routes.get("/login")
    def login_form(request: Request, next: str = "/") -> Response:
        return _login_page(request, safe_next(next), "", None, 200)

    def _login_page(
        request: Request, target: str, name: str, error: str | None, status: int
    ) -> Response:
        token = secrets.token_urlsafe(24)
        response = render(
            "web/login.html.j2",
            None,
            status,
            login_csrf=token,
            next=target,
            name=name,
            error=error,
            title=words["sign_in"],
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=workspace.secure_cookies,
        )
        return response

    @routes.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        target = safe_next(str(form.get("next", "/")))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, str(form.get("csrf", ""))):
            return _login_page(request, target, name, words["bad_form"], 400)
        client = request.client.host if request.client else "?"
        keys = (f"address:{client}", f"name:{name.lower()}")
        wait = await run_in_threadpool(workspace.throttle.wait, *keys)  # may read the database
        if wait > 0:
            response = _login_page(
                request, target, name, words["throttled"].format(seconds=int(wait) + 1), 429
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        # Argon2 takes tens of milliseconds on purpose: off the event loop.
        user = await run_in_threadpool(sign_in, workspace.store, name, password)
        if user is None:
            await run_in_threadpool(workspace.throttle.failed, *keys)
            return _login_page(request, target, name, words["bad_login"], 401)
        await run_in_threadpool(workspace.throttle.succeeded, keys[1])
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            workspace.sessions.issue(user.id),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=workspace.secure_cookies,
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @routes.post("/logout")
    async def logout(request: Request) -> Response:
        who = await run_in_threadpool(workspace.session, request)
        form = await request.form()
        if who is not None and not csrf_ok(who[0], str(form.get("csrf", ""))):
            return message(who, 400, "bad_form")
        if who is not None:
            # The cookie is signed, not stored: without this, a copy of it would stay valid.
            await run_in_threadpool(workspace.store.sign_out, who[1].id, workspace.clock())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @routes.get("/")
    def latest(request: Request) -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        return render(
            "web/latest.html.j2",
            who,
            stories=latest_stories(),
            digests=_past_digests(workspace.config.reports_dir),
        )

    @routes.get("/digests/{name}")
    def digest_file(request: Request, name: str) -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        path = workspace.config.reports_dir / name
        if not _DIGEST_FILE.fullmatch(name) or not path.is_file():
            return message(who, 404, "not_found")
        return FileResponse(path)

    @routes.get("/sources")
    def health(request: Request) -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        if who[1].role is not Role.ADMIN:
            return message(who, 403, "forbidden")
        from monitor.sources_cmd import STATUS_COLUMNS, health_table

        rows = health_table(workspace.config, workspace.store, workspace.clock())
        return render("web/sources.html.j2", who, columns=STATUS_COLUMNS, rows=rows)

    @routes.get("/search")
    def find(request: Request) -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        form, number = _search_form(request)
        try:
            query = _search_query(form, zone, PAGE_SIZE, (number - 1) * PAGE_SIZE)
            page = search(workspace.store, query)
            problem = None
        except ValueError as exc:
            page, problem = None, str(exc)
        hits = page.hits if page else ()
        total = page.total if page else 0
        more = page.more if page else False

        def link(to: int) -> str:
            kept = {k: v for k, v in form.items() if v}
            return "/search?" + urlencode({**kept, "page": to})

        return render(
            "web/stories.html.j2",
            who,
            400 if problem else 200,
            heading=words["search"],
            title=f"{words['search']}: {form['q']}" if form["q"] else words["search"],
            form=form,
            choices=search_choices(),
            hits=hits,
            total=total,
            more=more,
            empty=problem or words["nothing"],
            previous_url=link(number - 1) if number > 1 else None,
            next_url=link(number + 1) if number * PAGE_SIZE < total else None,
            export=urlencode({k: v for k, v in form.items() if v}),
        )

    @routes.get("/search.{suffix}")
    def export(request: Request, suffix: str) -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        if suffix not in ("csv", "xlsx"):
            return message(who, 404, "not_found")
        form, _ = _search_form(request)
        try:
            query = _search_query(form, zone, MAX_LIMIT, 0)
        except ValueError:
            return message(who, 400, "bad_form")
        hits = list(every_hit(workspace.store, query))
        if suffix == "csv":
            body, kind = csv_bytes(hits), "text/csv; charset=utf-8"
        else:
            body = xlsx_bytes(hits)
            kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=kind,
            headers={"Content-Disposition": f'attachment; filename="stories.{suffix}"'},
        )

    @routes.get("/trends")
    def trends(request: Request, since: str = "", until: str = "") -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        today = workspace.clock().astimezone(zone).date()
        problem = None
        try:
            last = date.fromisoformat(until) if until else today
            first = date.fromisoformat(since) if since else last - timedelta(weeks=TREND_WEEKS)
            if first > last or (last - first).days > 366 * 3:
                raise ValueError("the period must run forwards and cover at most three years")
        except ValueError as exc:
            problem = str(exc)
            last, first = today, today - timedelta(weeks=TREND_WEEKS)
        return render(
            "web/trends.html.j2",
            who,
            400 if problem else 200,
            title=words["trends"],
            charts=trend_charts(first, last),
            since=first.isoformat(),
            until=last.isoformat(),
            problem=problem,
        )

    @routes.get("/stories/{article_id}")
    def story(request: Request, article_id: int) -> Response:
        who = workspace.session(request)
        if who is None:
            return to_login(request)
        found = workspace.store.story(article_id)
        if found is None:
            return message(who, 404, "not_found")
        judgements = workspace.store.feedback_of(article_id)
        # As Store.judgements has it: not relevant when anyone said so.
        verdict = all(j["relevant"] for j in judgements) if judgements else None
        mine = next((j for j in judgements if j["user"] == who[1].name), None)
        return render(
            "web/story.html.j2",
            who,
            title=found["title"],
            story=found,
            tag=found["tags"][0] if found["tags"] else None,
            paragraphs=[p.strip() for p in _PARAGRAPHS.split(found["text"]) if p.strip()],
            judgements=judgements,
            verdict=verdict,
            mine=mine,
            versions=workspace.versions(found),
        )

    @routes.post("/stories/{article_id}/feedback")
    async def judge(request: Request, article_id: int) -> Response:
        who = await run_in_threadpool(workspace.session, request)
        if who is None:
            return to_login(request)
        form = await request.form()
        if not csrf_ok(who[0], str(form.get("csrf", ""))):
            return message(who, 403, "bad_form")
        relevant = str(form.get("relevant", ""))
        if relevant not in ("0", "1"):
            return message(who, 400, "bad_form")
        note = str(form.get("note", ""))[:500].strip()
        try:
            await run_in_threadpool(
                workspace.store.set_feedback,
                article_id,
                who[1].id,
                relevant == "1",
                note,
                workspace.clock(),
            )
        except AccountError:
            return message(who, 404, "not_found")
        return RedirectResponse(f"/stories/{article_id}", status_code=303)

    return routes


_DIGEST_FILE = re.compile(r"\d{4}-\d{2}-\d{2}(_\d{4}-\d{2}-\d{2})?\.(html|json|md)")


def _past_digests(folder: Path, count: int = 14) -> list[str]:
    """The newest digests' names (days and periods) in the reports folder."""
    try:
        names = [p.stem for p in folder.glob("*.html") if _DIGEST_FILE.fullmatch(p.name)]
    except OSError:
        return []
    return sorted(names, reverse=True)[:count]


def _latest_days(workspace: Workspace, locale: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The last days' stories, newest day first, each day grouped as its digest groups it."""
    zone = workspace.config.timezone
    today = workspace.clock().astimezone(zone).date()
    # One read for the whole span, then each day (as the digest dates a story) on its own.
    start, end = day_window(today - timedelta(days=LATEST_DAYS - 1), zone, today)
    everything = workspace.store.tagged_between(start, end)
    ids = {s.article.url: s.id for s in everything if s.article.url}
    by_day: dict[date, list[StoredArticle]] = {}
    for stored_article in everything:
        article = stored_article.article
        dated = (article.published or article.fetched_at).astimezone(zone).date()
        by_day.setdefault(dated, []).append(stored_article)
    days = []
    for day in sorted(by_day, reverse=True):
        stored = by_day[day]
        stories = [
            {
                "href": f"/stories/{ids[story.url]}" if story.url in ids else story.url,
                "title": story.title,
                "source": story.source,
                "language": story.language,
                "published": story.published,
                "aspects": story.aspects,
                "countries": story.countries,
                "summary": story.summary,
                "also": [
                    {
                        "href": f"/stories/{ids[v.url]}" if v.url in ids else v.url,
                        "source": v.source,
                        "language": v.language,
                    }
                    for v in story.also
                ],
            }
            for story in select_stories(stored, zone, (locale,))
        ]
        days.append((day.isoformat(), stories))
    return days


_FIELDS = ("q", "language", "country", "aspect", "source", "since", "until")


def _search_form(request: Request) -> tuple[dict[str, str], int]:
    """The search form's values as submitted (trimmed), and the page number."""
    params = request.query_params
    form = {key: params.get(key, "").strip() for key in _FIELDS}
    form["tagged"] = "1" if params.get("tagged") else ""
    form["sort"] = "date" if params.get("sort") == "date" else "relevance"
    try:
        number = max(1, int(params.get("page", "1")))
    except ValueError:
        number = 1
    return form, number


def _search_query(form: Mapping[str, str], zone: Any, limit: int, offset: int) -> SearchQuery:
    """The form as a query; ValueError names a bad value."""
    first, last = _day(form["since"]), _day(form["until"])
    return SearchQuery(
        words=form["q"],
        languages=(form["language"],) if form["language"] else (),
        countries=(form["country"].upper(),) if form["country"] else (),
        aspects=(form["aspect"],) if form["aspect"] else (),
        sources=(form["source"],) if form["source"] else (),
        since=day_window(first, zone)[0] if first else None,
        until=day_window(last, zone)[1] if last else None,
        tagged_only=bool(form["tagged"]),
        sort=Sort(form["sort"]),
        limit=limit,
        offset=offset,
    )


def _day(text: str) -> date | None:
    """A day given as YYYY-MM-DD in a form field, or None when empty."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-26") from None


def _choices(workspace: Workspace, labels: Any, cldr: Locale) -> dict[str, Any]:
    sources = sorted(source.name for source in workspace.config.sources)
    languages = sorted({s.language for s in workspace.config.sources if s.language})
    countries = sorted(
        {s.country for s in workspace.config.sources if s.country}
        | set(tagged_countries(workspace.store))
    )
    return {
        "sources": sources,
        "languages": [(code, language_name(cldr, code)) for code in languages],
        "countries": [(code, country_name(cldr, code)) for code in countries],
        "aspects": [(name, labels.aspect(name)) for name in labels.aspects],
    }
