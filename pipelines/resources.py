"""Resource instances shared by every asset of the code location."""

from __future__ import annotations

from assets.resources import PostgresResource, SettingsResource

RESOURCES = {
    "postgres": PostgresResource(),
    "settings": SettingsResource(),
}
