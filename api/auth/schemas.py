"""Request and response schemas of registration and sign-in."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.fields import RegionCode
from core.vocab import INTERESTS_KO, SKILLS_KO, UserType

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_AGE = 14  # under 14, PIPA (개인정보 보호법 제22조의2) requires a guardian's consent we do not collect


class UserCreate(BaseModel):
    """A new app user. Staff roles are never self-assigned: administrators grant them."""

    model_config = ConfigDict(extra="forbid")  # a typo or a `roles` field is a 422, not silently dropped

    email: str = Field(max_length=254, examples=["minji@example.kr"])
    password: str = Field(min_length=10, max_length=128, description="10–128 characters")
    display_name: str = Field(min_length=1, max_length=40, examples=["민지"])
    user_type: UserType
    birth_year: int | None = Field(None, ge=1900)
    hometown_region_code: RegionCode | None = Field(None, description="고향: a 5-digit 시군구 code")
    home_region_code: RegionCode | None = Field(None, description="where you live now")
    interest_region_codes: list[RegionCode] = Field(default_factory=list, max_length=10)
    skills: list[str] = Field(default_factory=list, max_length=20)
    interests: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not EMAIL.match(value):
            raise ValueError("enter an e-mail address such as name@example.kr")
        return value

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("enter a display name (1–40 characters)")
        return value

    @field_validator("birth_year")
    @classmethod
    def _birth_year(cls, value: int | None) -> int | None:
        if value is not None and value > date.today().year - MIN_AGE:
            raise ValueError(f"you must be {MIN_AGE} or older to register (birth year "
                             f"{date.today().year - MIN_AGE} or earlier)")
        return value

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SKILLS_KO]
        if unknown:
            raise ValueError(f"unknown skills {unknown}; choose from {list(SKILLS_KO)}")
        return list(dict.fromkeys(value))

    @field_validator("interests")
    @classmethod
    def _interests(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in INTERESTS_KO]
        if unknown:
            raise ValueError(f"unknown interests {unknown}; choose from {list(INTERESTS_KO)}")
        return list(dict.fromkeys(value))

    @field_validator("interest_region_codes")
    @classmethod
    def _unique_regions(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        if value.strip().lower() == info.data.get("email"):
            raise ValueError("the password must not be your e-mail address")
        return value


class Token(BaseModel):
    """The OAuth2 token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
