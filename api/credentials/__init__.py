"""`/credentials`: Open Badges 3.0 credentials, the issuer key, public verification, revocation."""
