"""Missions: published missions for everyone; drafts for the staff and owners who may see them."""
