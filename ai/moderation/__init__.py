"""Moderation screening of community content: rules, a local classifier, OpenAI when configured."""

from ai.moderation.screen import HOLD_THRESHOLD, Screening, get_screen, screen_text

__all__ = ["HOLD_THRESHOLD", "Screening", "get_screen", "screen_text"]
