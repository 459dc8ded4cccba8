"""Who is there: units, citizens, staff and their scopes, invites, the CSV import. Imports the
questionnaire and storage."""
