"""Test infrastructure: throwaway PostgreSQL and Redis servers, the pytest plugin that hands them to tests, and the
runner that puts the whole suite on PostgreSQL (`python -m tests.infra.pgrun pytest ...`)."""
