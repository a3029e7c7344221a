"""The mission loop in the API: attempts, their steps, verified presence (check-ins, QR, photos, hours)."""
