"""Accounts of people: roles, password hashes, bearer tokens."""
