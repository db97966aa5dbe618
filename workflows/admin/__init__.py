"""Django admin of the workflow engine: where managers build, test and watch workflows.

Admin classes configure pages; every write goes through `workflows.services` (or the integrations services), so a
change made here is the same as one made over the API. One module per page family: `workflows` (the workflow list,
editor and scheduled events), `editor` and `forms` (the step editor's widgets and form), `pages` (test run,
gallery, import, analytics), `runs` (run history, retry, cancel), `integrations` (integrations and custom actions),
`endpoints` (delivery health), `macros` (agents' one-click actions), `replay` and `versions` (pages of
the editor), `charts` (server-side SVG).
"""

from workflows.admin import canned, endpoints, integrations, macros, privacy, runs, workflows  # noqa: F401  (importing registers the admins)
