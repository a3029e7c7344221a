"""Notifications: the REST list with read/unread, and the WebSocket that pushes them as they happen."""
