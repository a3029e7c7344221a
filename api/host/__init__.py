"""The host side of the loop: QR tokens for mission steps, and deciding volunteer-hour claims."""
