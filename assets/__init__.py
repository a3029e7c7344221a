"""Dagster software-defined assets, one subpackage per domain. Assets are thin: they read through
resources, call library code in core/ and ai/, and write outputs."""
