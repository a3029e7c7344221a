"""Mentor and mentee profiles, ranked suggestions, requests and mentorships."""
