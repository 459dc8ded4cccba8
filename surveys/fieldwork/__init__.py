"""Rounds in the field: stored survey versions, opening and closing rounds, schedules, the
outbox, care events and the tallies of closed rounds. Imports the registry, the questionnaire
and storage."""
