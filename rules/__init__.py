"""The bundled rule files, installed as the package data `residency_audit._rules`."""
