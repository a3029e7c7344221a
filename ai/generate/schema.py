"""The structured mission draft: what the model (or the template writer) must produce.

The same pydantic schema is the LangChain structured-output target, the validation of stored and
edited drafts, and what an approved draft is turned into a mission from. A draft that fails it is
never stored as valid.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.vocab import SKILLS_KO, MissionType, StepVerification


class DraftStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=80, description="what the participant does")
    description: str = Field(default="", max_length=500)
    verification: StepVerification = Field(description="how the step is proven: none, checkin, qr, photo, "
                                                       "host_confirm")


class Citation(BaseModel):
    """A retrieved source the draft stands on (a need, a place, the region's indicators, a policy passage)."""

    model_config = ConfigDict(extra="forbid")

    source_id: str = Field(min_length=3, description="the id of the retrieved document, e.g. need:<uuid>")
    title: str = Field(min_length=1, max_length=200)
    excerpt: str = Field(default="", max_length=400, description="the words used from it")


class MissionDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=5, max_length=80)
    mission_type: MissionType
    region_code: str = Field(pattern=r"^\d{5}$")
    summary: str = Field(min_length=10, max_length=600)
    place_name: str | None = Field(default=None, max_length=120)
    lat: float | None = Field(default=None, ge=33.0, le=39.0)
    lon: float | None = Field(default=None, ge=124.0, le=132.0)
    skills: list[str] = Field(default_factory=list, max_length=3)
    steps: list[DraftStep] = Field(min_length=1, max_length=6)
    expected_minutes: int = Field(default=120, ge=15, le=600)
    expected_impact: str = Field(min_length=10, max_length=400, description="what the region gains")
    citations: list[Citation] = Field(min_length=1, max_length=8)

    @field_validator("skills")
    @classmethod
    def _known_skills(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SKILLS_KO]
        if unknown:
            raise ValueError(f"unknown skills {unknown}; use those of core/vocab.py SKILLS_KO")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MissionDraft:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.mission_type == MissionType.SKILL and not self.skills:
            raise ValueError("a skill mission names the skill it needs")
        if any(s.verification == StepVerification.CHECKIN for s in self.steps) and self.lat is None:
            raise ValueError("a check-in step needs the mission's position (lat, lon)")
        return self


class DraftBatch(BaseModel):
    """What the model returns: a few drafts at once."""

    drafts: list[MissionDraft] = Field(min_length=1, max_length=5)
