"""The reports API (SPEC §16): the grouped conversation report and the streamed CSV export, managers only."""
