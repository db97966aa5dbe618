"""The reports API (docs/reports.md): the grouped conversation report and the streamed CSV export, managers only."""
