"""`/needs`: regional needs posted by municipalities and local requesters, matches, invitations, applications."""
