"""Tenants: operator -> merchants -> stores -> terminals."""
