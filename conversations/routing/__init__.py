"""Routing queues (docs/routing.md): agent status, capacity and skills, team queues, and hand-back.

The room that decides who takes waiting work, kept apart from the step types so the API, admin, the route step and
the sweep all call the same code:
- `state`: which conversations wait (`queued_since` kept by the conversation services);
- `queue`: `queue_fill`, the set-wise, race-free claim of waiting conversations by online agents with free seats, and
  the after-commit wake-up (`request_fill`) the services call whenever a seat may have freed or work arrived;
- `agents`: `agent_update` / `agent_set_status` (going offline hands unanswered work back);
- `handback`: the sweep's `no_reply` hand-back and `routing_sweep` (hand back, then fill every queue);
- `skills`: skill names and `has_skills` (the write, `conversation_set_required_skills`, is in
  `conversations.services.required_skills`).
"""
