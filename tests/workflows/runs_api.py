"""Read a workflow's runs the way an integrator does: `GET /api/workflow-runs/?workflow=<id>`, each with its steps."""


def runs_through_api(client, workflow_id: int) -> list[dict]:
    """The workflow's runs as the API lists them (newest first), each with `steps` (position, type, status...)."""
    response = client.get(f"/api/workflow-runs/?workflow={workflow_id}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def step_summary(run: dict) -> list[tuple[int, str, str]]:
    """(position, type, status) of each step a run recorded."""
    return [(step["position"], step["type"], step["status"]) for step in run["steps"]]
