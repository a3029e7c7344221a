"""Ingest assets: public regional data and activity events into the raw schema."""
