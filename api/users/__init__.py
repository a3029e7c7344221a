"""Users: the signed-in user's own profile (/me) and the admin's look-up of any account."""
