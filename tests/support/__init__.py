"""Helpers shared by test files (not fixtures: those stay in the conftest of the directory that uses them).

Import from here, never from another directory's conftest: `runs` (drive the engine the way the sweep does),
`remote` (fake remote endpoints that hold an answer until the test lets it go).
"""
