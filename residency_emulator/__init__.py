"""Local stand-ins for the clouds, for `residency-audit demo` and the test suite.

Everything here listens on loopback only. The demo writes its sample estate
into these emulators; the scanner itself only ever reads.
"""
