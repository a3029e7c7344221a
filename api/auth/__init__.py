"""Registration and sign-in: argon2id password hashes (core.accounts) and JWT access tokens."""
