"""`GET /missions/recommendations` (the signed-in user's missions, with reasons), the admin review of
AI mission drafts (`/admin/mission-drafts`), and the population-decline policy weight staff set.

The recommendations route is registered before the missions router, so `/missions/recommendations` is
not taken for a mission id.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import ValidationError

from ai.generate.drafts import (
    DraftStateError,
    StoredDraft,
    approve_draft,
    edit_draft,
    get_draft,
    list_drafts,
    reject_draft,
)
from ai.generate.retrieve import UnknownRegion
from ai.recommend.profile import Constraints
from ai.recommend.service import clear_cached_state, set_policy_weight
from api.deps import AdminUser, ConnDep, CurrentUser, require_roles
from api.errors import AUTH_RESPONSES, ERROR_RESPONSES, ApiError, ErrorResponse, validation_details
from api.fields import RegionCode
from api.pagination import Limit, Offset, Page
from api.recommendations import service
from api.recommendations.schemas import (
    DraftCreate,
    DraftPublic,
    DraftReview,
    DraftUpdate,
    PolicyWeight,
    PolicyWeightPublic,
    RecommendationList,
    RecommendationPublic,
    RecommendedMission,
)
from api.users.service import UserRecord
from core.audit import audit
from core.vocab import MissionType, Role

router = APIRouter(prefix="/missions", tags=["recommendations"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
admin_router = APIRouter(prefix="/admin", tags=["mission drafts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "No draft has this id"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorResponse,
                       "description": "The draft was already approved or rejected"}}
PolicyStaff = Annotated[UserRecord, Depends(require_roles(Role.POLICY_STAFF))]


@router.get("/recommendations", response_model=RecommendationList,
            summary="Missions recommended to you, with reasons (precomputed, or computed now)")
def recommendations(
    conn: ConnDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=20, description="how many, 1–20")] = 20,
    max_distance_km: Annotated[float | None, Query(gt=0, le=1000, description="only missions this close to "
                                                   "where you live (or your hometown)")] = None,
    mission_type: Annotated[list[MissionType] | None, Query(description="only these kinds of mission")] = None,
    max_minutes: Annotated[int | None, Query(ge=10, le=1440, description="only missions this short")] = None,
) -> RecommendationList:
    constraints = Constraints(max_distance_km=max_distance_km,
                              mission_types=tuple(t.value for t in mission_type or ()), max_minutes=max_minutes)
    if constraints == Constraints():
        rows = service.precomputed(conn, user.id, limit)
        if rows:
            return RecommendationList(
                items=[RecommendationPublic(
                    rank=r["rank"], score=r["score"], parts=r["parts"], reasons_ko=r["reasons_ko"],
                    reasons_en=r["reasons_en"],
                    mission=RecommendedMission(id=r["id"], title=r["title"], mission_type=r["mission_type"],
                                               region_code=r["region_code"], place_name=r["place_name"],
                                               skills=r["skills"])) for r in rows],
                source="precomputed", engine=rows[0]["engine"], generated_at=rows[0]["generated_at"])
    recs, state, _ = service.online(conn, user.id, limit, constraints)
    missions = service.mission_rows(conn, [r.mission_id for r in recs])
    return RecommendationList(
        items=[RecommendationPublic(rank=r.rank, score=r.score, parts=r.parts, reasons_ko=r.reasons_ko,
                                    reasons_en=r.reasons_en, mission=RecommendedMission(**missions[r.mission_id]))
               for r in recs if r.mission_id in missions],
        source="online", engine=service.online_engine(state), generated_at=service.now_utc())


# ---------------------------------------------------------------------------------- drafts (admins)
def _public(stored: StoredDraft) -> DraftPublic:
    return DraftPublic(id=stored.id, region_code=stored.region_code, for_user_id=stored.for_user_id,
                       status=stored.status, engine=stored.engine, fallback_reason=stored.fallback_reason,
                       draft=stored.draft.model_dump(mode="json"), created_by=stored.created_by,
                       created_at=stored.created_at, updated_at=stored.updated_at, reviewer_id=stored.reviewer_id,
                       reviewed_at=stored.reviewed_at, review_note=stored.review_note, mission_id=stored.mission_id)


def draft_or_404(draft_id: Annotated[uuid.UUID, Path(description="the draft's UUID")], conn: ConnDep,
                 _: AdminUser) -> StoredDraft:
    stored = get_draft(conn, draft_id)
    if stored is None:
        raise ApiError.not_found(f"No mission draft has the id {draft_id}; list them at /admin/mission-drafts.")
    return stored


DraftDep = Annotated[StoredDraft, Depends(draft_or_404)]


@admin_router.post("/mission-drafts", response_model=list[DraftPublic], status_code=201,
                   summary="Generate mission drafts for a region (or a user) from retrieved regional data")
def create_drafts(body: DraftCreate, conn: ConnDep, admin: AdminUser) -> list[DraftPublic]:
    try:
        stored = service.generate(conn, body.region_code, body.for_user_id, body.count, admin.id)
    except UnknownRegion as exc:
        raise ApiError.validation("body.region_code", f"{exc}; list the regions at /regions") from exc
    if not stored:
        raise ApiError(409, "nothing_to_draft", f"Nothing was retrieved for region {body.region_code}: its needs, "
                       "places and the policy documents must be in the vector store first (materialize the "
                       "recommend assets), then try again.")
    audit(conn, admin.id, "mission_draft.generate", "region", body.region_code,
          details={"drafts": [str(s.id) for s in stored], "engine": stored[0].engine,
                   "fallback_reason": stored[0].fallback_reason})
    conn.commit()
    return [_public(s) for s in stored]


@admin_router.get("/mission-drafts", response_model=Page[DraftPublic], summary="List mission drafts")
def read_drafts(conn: ConnDep, _: AdminUser,
                status: Annotated[str | None, Query(pattern="^(draft|approved|rejected)$")] = "draft",
                region_code: Annotated[RegionCode | None, Query()] = None,
                limit: Limit = 20, offset: Offset = 0) -> Page[DraftPublic]:
    items, total = list_drafts(conn, status, region_code, limit, offset)
    return Page[DraftPublic](items=[_public(s) for s in items], total=total, limit=limit, offset=offset)


@admin_router.get("/mission-drafts/{draft_id}", response_model=DraftPublic, responses=NOT_FOUND,
                  summary="One mission draft")
def read_draft(stored: DraftDep) -> DraftPublic:
    return _public(stored)


def _state_error(exc: DraftStateError) -> ApiError:
    return ApiError(409, "conflict", str(exc))


@admin_router.patch("/mission-drafts/{draft_id}", response_model=DraftPublic, responses={**NOT_FOUND, **CONFLICT},
                    summary="Edit a draft (it must stay a valid draft)")
def update_draft(stored: DraftDep, body: DraftUpdate, conn: ConnDep, admin: AdminUser) -> DraftPublic:
    try:
        edited = edit_draft(conn, stored.id, body.changes())
    except ValidationError as exc:
        details = validation_details([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])
        raise ApiError(422, "validation_error", "The edited draft is not a valid mission draft: "
                       + "; ".join(f"{d['field']}: {d['message']}" for d in details[:5]), details) from exc
    except DraftStateError as exc:
        raise _state_error(exc) from exc
    audit(conn, admin.id, "mission_draft.edit", "mission_draft", str(stored.id), details=body.changes())
    conn.commit()
    return _public(edited)


@admin_router.post("/mission-drafts/{draft_id}/approve", response_model=DraftPublic,
                   responses={**NOT_FOUND, **CONFLICT}, summary="Approve: the draft becomes a published mission")
def approve(stored: DraftDep, conn: ConnDep, admin: AdminUser, body: DraftReview | None = None) -> DraftPublic:
    try:
        approved = approve_draft(conn, stored.id, admin.id, body.note if body else None)
    except DraftStateError as exc:
        raise _state_error(exc) from exc
    audit(conn, admin.id, "mission_draft.approve", "mission_draft", str(stored.id), body.note if body else None,
          {"mission_id": str(approved.mission_id)})
    conn.commit()
    clear_cached_state()  # the catalog changed: the next online recommendation sees the new mission
    return _public(approved)


@admin_router.post("/mission-drafts/{draft_id}/reject", response_model=DraftPublic,
                   responses={**NOT_FOUND, **CONFLICT}, summary="Reject a draft (it never reaches users)")
def reject(stored: DraftDep, conn: ConnDep, admin: AdminUser, body: DraftReview | None = None) -> DraftPublic:
    try:
        rejected = reject_draft(conn, stored.id, admin.id, body.note if body else None)
    except DraftStateError as exc:
        raise _state_error(exc) from exc
    audit(conn, admin.id, "mission_draft.reject", "mission_draft", str(stored.id), body.note if body else None)
    conn.commit()
    return _public(rejected)


# ---------------------------------------------------------------------------------- policy weight
@admin_router.get("/recommendation-settings/policy-weight", response_model=PolicyWeightPublic,
                  summary="The population-decline policy weight the ranker uses")
def read_policy_weight(conn: ConnDep, _: PolicyStaff) -> PolicyWeightPublic:
    value, is_default = service.policy_weight(conn)
    return PolicyWeightPublic(value=value, is_default=is_default)


@admin_router.put("/recommendation-settings/policy-weight", response_model=PolicyWeightPublic,
                  summary="Set how much population-decline areas are lifted in recommendations")
def write_policy_weight(body: PolicyWeight, conn: ConnDep, staff: PolicyStaff) -> PolicyWeightPublic:
    previous, _ = service.policy_weight(conn)
    set_policy_weight(conn, body.value, staff.id)
    audit(conn, staff.id, "recommendation.policy_weight", "recommendation_settings", "policy_weight",
          details={"from": previous, "to": body.value})
    conn.commit()
    return PolicyWeightPublic(value=body.value, is_default=False)
