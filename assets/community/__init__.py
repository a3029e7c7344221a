"""Community assets (group "community"): the moderation classifier retrained on moderators' decisions.

The community marts (dbt/models/marts/community/) are dbt assets of the warehouse group and come
through the dbt assets; nothing is declared for them here.
"""

from dagster import Definitions

from assets.community.moderation import moderation_classifier, moderation_classifier_quality

defs = Definitions(assets=[moderation_classifier], asset_checks=[moderation_classifier_quality])

__all__ = ["defs", "moderation_classifier", "moderation_classifier_quality"]
