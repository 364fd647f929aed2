"""The workspace's JSON API (``/api/...``; described at ``/api/docs``): the archive's stories for
scripts and other tools, with ``Authorization: Bearer TOKEN`` (``monitor users token NAME``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from monitor.accounts import User, by_token
from monitor.digest import day_window
from monitor.errors import AccountError
from monitor.search import DEEPEST, MAX_LIMIT, SearchHit, SearchQuery, Sort, search
from monitor.web.app import Workspace
from monitor.web.exports import csv_bytes, every_hit, row


class StoryOut(BaseModel):
    id: int
    url: str
    title: str
    source: str
    language: str | None
    published: datetime
    topics: list[str]
    aspects: list[str]
    countries: list[str]
    score: float | None
    summary: str
    feedback: Literal["relevant", "not_relevant"] | None


class EvidenceOut(BaseModel):
    term: str
    text: str


class VersionOut(BaseModel):
    url: str
    source: str
    language: str | None


class StoryDetail(StoryOut):
    text: str
    evidence: list[EvidenceOut]
    also: list[VersionOut] = Field(
        description="the same story in other outlets or languages, as the digest groups them"
    )


class StoriesOut(BaseModel):
    total: int = Field(description=f"stories found, counted up to {DEEPEST:,}")
    more: bool = Field(description=f"more than {DEEPEST:,} found: the newest are searched first")
    stories: list[StoryOut]


class FeedbackIn(BaseModel):
    relevant: bool
    note: str = Field("", max_length=500)


class FeedbackOut(BaseModel):
    id: int
    feedback: Literal["relevant", "not_relevant"]


def _verdict(relevant: bool | None) -> Literal["relevant", "not_relevant"] | None:
    if relevant is None:
        return None
    return "relevant" if relevant else "not_relevant"


def _story(hit: SearchHit) -> StoryOut:
    return StoryOut(**row(hit))


def _workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def token_user(request: Request) -> User:
    """The user of the request's bearer token; 401 without a valid one."""
    workspace = _workspace(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = (
        by_token(workspace.store, token.strip(), workspace.clock())
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    if user is None:
        raise HTTPException(
            401,
            "a valid API token is needed: Authorization: Bearer TOKEN "
            "(monitor users token NAME prints one)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def search_query(
    request: Request,
    q: Annotated[str, Query(max_length=500, description="words, every one required")] = "",
    language: Annotated[list[str] | None, Query(description="any of these")] = None,
    country: Annotated[list[str] | None, Query(description="ISO codes, any of")] = None,
    aspect: Annotated[list[str] | None, Query(description="any of these")] = None,
    source: Annotated[list[str] | None, Query(description="source names, any of")] = None,
    since: Annotated[date | None, Query(description="first day (configured zone)")] = None,
    until: Annotated[date | None, Query(description="last day, included")] = None,
    tagged: Annotated[bool, Query(description="film-cooperation stories only")] = False,
    sort: Annotated[Literal["relevance", "date"], Query()] = "relevance",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchQuery:
    zone = _workspace(request).config.timezone
    start = day_window(since, zone)[0] if since else None
    end = day_window(until, zone)[1] if until else None
    if start and end and end <= start:
        raise HTTPException(422, "until is before since")
    return SearchQuery(
        words=q,
        languages=tuple(language or ()),
        countries=tuple(code.upper() for code in country or ()),
        aspects=tuple(aspect or ()),
        sources=tuple(source or ()),
        since=start,
        until=end,
        tagged_only=tagged,
        sort=Sort(sort),
        limit=limit,
        offset=offset,
        depth=DEEPEST,  # a script pages further than a reader: the order holds that far
    )


Authorized = Annotated[User, Depends(token_user)]
Searched = Annotated[SearchQuery, Depends(search_query)]


def router(workspace: Workspace) -> APIRouter:
    routes = APIRouter(prefix="/api", tags=["stories"])

    @routes.get("/stories", response_model=StoriesOut)
    def stories(user: Authorized, wanted: Searched) -> StoriesOut:
        page = search(workspace.store, wanted)
        return StoriesOut(
            total=page.total, more=page.more, stories=[_story(hit) for hit in page.hits]
        )

    @routes.get("/stories.csv", response_class=Response)
    def stories_csv(user: Authorized, wanted: Searched) -> Response:
        """Every story the search finds (up to 10,000), whatever ``limit`` says."""
        hits = list(every_hit(workspace.store, wanted))
        return Response(
            csv_bytes(hits),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="stories.csv"'},
        )

    @routes.get("/stories/{story_id}", response_model=StoryDetail)
    def story(user: Authorized, story_id: int) -> StoryDetail:
        found = workspace.store.story(story_id)
        if found is None:
            raise HTTPException(404, f"no story {story_id}")
        best = found["tags"][0] if found["tags"] else None
        return StoryDetail(
            id=found["id"],
            url=found["url"] or "",
            title=found["title"],
            source=found["source"],
            language=found["language"],
            published=found["dated_at"],
            topics=[t["topic"] for t in found["tags"]],
            aspects=list(best["aspects"]) if best else [],
            countries=list(best["countries"]) if best else [],
            score=float(best["score"]) if best else None,
            summary=found["summary"],
            feedback=_verdict(workspace.store.judgements([story_id]).get(story_id)),
            text=found["text"],
            evidence=[
                EvidenceOut(term=e.get("term", ""), text=e.get("text", ""))
                for e in (best["evidence"] if best else [])
            ],
            also=[
                VersionOut(url=v.url, source=v.source, language=v.language)
                for v in workspace.versions(found)
            ],
        )

    @routes.post("/stories/{story_id}/feedback", response_model=FeedbackOut)
    def judge(user: Authorized, story_id: int, body: FeedbackIn) -> FeedbackOut:
        try:
            workspace.store.set_feedback(
                story_id, user.id, body.relevant, body.note.strip(), workspace.clock()
            )
        except AccountError:
            raise HTTPException(404, f"no story {story_id}") from None
        return FeedbackOut(id=story_id, feedback="relevant" if body.relevant else "not_relevant")

    return routes
