"""The JSON API under /api/v1 (SPEC §4, §6): thin endpoints that parse, check permission and call services."""
