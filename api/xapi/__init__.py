"""xAPI 1.0.3 statements from learning platforms (POST /xapi/statements), their clients and activity maps."""
