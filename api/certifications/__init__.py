"""`/certifications`: skill evidence upload, automatic checks, review, history and tiers."""
