"""Reports, the moderation queue, actions, sanctions and appeals."""
