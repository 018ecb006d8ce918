"""Okta simulator: Okta management API look-alike for local runs and tests."""
