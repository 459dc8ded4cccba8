"""Printed invitation letters and the links for mail merge. Imports the registry, the
questionnaire and storage."""
