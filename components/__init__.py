"""Gatehouse components: one package per plane (gateway, identity, tenancy)."""
